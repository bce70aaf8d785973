// Package archivetest holds contract suites that every implementation of
// the archive ports runs against its real peer (versitygw, drive-emulator),
// so all destinations behave the same for the backup engine.
package archivetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"io/fs"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"backupd/executors/archive"
	"backupd/executors/testsupport/peers"
)

const mib = 1 << 20

// newDestFunc returns a fresh Destination on the contract's storage.
type newDestFunc = func(t *testing.T) archive.Destination

// DestinationContract runs the behaviour every archive.Destination must
// have: uploads with marks whose durable callbacks come in order and resume
// exactly; Suspend as a periodic checkpoint after which the upload goes on;
// suspended and resumed (twice, in new instances); resumed after a crash
// from a durable or suspended state while later parts were already sent;
// aborted and discarded (idempotently); Put/Open/Stat/Delete, a missing
// file matching fs.ErrNotExist. newDest must
// return a fresh Destination on the same storage each time it is called (a
// new instance stands for a new process). Files are about 20 MiB, so the
// implementation should use its smallest part or chunk size.
func DestinationContract(t *testing.T, newDest func(t *testing.T) archive.Destination) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, newDest newDestFunc)
	}{
		{"upload with marks", uploadWithMarks},
		{"suspend and resume in new instances", suspendAndResumeInNewInstances},
		{"checkpoint with Suspend and keep going, then resume after a crash", suspendAsCheckpointThenCrash},
		{"suspend and keep going to the end", suspendAndKeepGoing},
		{"resume from a durable state after a crash", resumeFromDurableStateAfterCrash},
		{"abort and discard", abortAndDiscard},
		{"put, open, stat, delete", putOpenStatDelete},
		{"empty file", emptyFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newDest)
		})
	}
}

func uploadWithMarks(t *testing.T, newDest newDestFunc) {
	data := randomBytes(1, 20*mib+12345)
	d := newDest(t)
	rec := &durableRecorder{}
	u, err := d.StartUpload(peers.Context(t), peers.RandomName("contract-")+".tar.gz", int64(len(data)), rec.record)
	require.NoError(t, err)
	writeMarked(t, u, data, 0, int64(len(data)))
	loc, err := u.Complete(peers.Context(t))
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), u.Uploaded())
	requireStored(t, d, loc, data)
	rec.requireOrdered(t)
	require.NotEmpty(t, rec.all(), "parts were uploaded but no mark was reported durable")
}

func suspendAndResumeInNewInstances(t *testing.T, newDest newDestFunc) {
	data := randomBytes(2, 21*mib+777)
	name := peers.RandomName("contract-") + ".tar.gz"
	rec := &durableRecorder{}
	u, err := newDest(t).StartUpload(peers.Context(t), name, int64(len(data)), rec.record)
	require.NoError(t, err)
	cuts := []int64{9*mib + 100*1024, 15*mib + 3}
	from := int64(0)
	for _, cut := range cuts {
		writeMarked(t, u, data, from, cut)
		state, err := u.Suspend(peers.Context(t))
		require.NoError(t, err)
		require.Less(t, len(state), 900<<10, "a state must fit in one event")
		require.GreaterOrEqual(t, cut, u.Uploaded())
		u, err = newDest(t).ResumeUpload(peers.Context(t), state, rec.record)
		require.NoError(t, err)
		from = cut
	}
	writeMarked(t, u, data, from, int64(len(data)))
	d := newDest(t)
	requireCompletes(t, u, d, data)
	rec.requireOrdered(t)
}

func suspendAsCheckpointThenCrash(t *testing.T, newDest newDestFunc) {
	data := randomBytes(5, 23*mib+99)
	name := peers.RandomName("contract-") + ".tar.gz"
	u, err := newDest(t).StartUpload(peers.Context(t), name, int64(len(data)), nil)
	require.NoError(t, err)
	// Periodic checkpoints: the upload goes on after each Suspend.
	var states []json.RawMessage
	cuts := []int64{3*mib + 5000, 7*mib + 200*1024, 13*mib + 1}
	from := int64(0)
	for _, cut := range cuts {
		writeMarked(t, u, data, from, cut)
		state, err := u.Suspend(peers.Context(t))
		require.NoError(t, err)
		states = append(states, state)
		from = cut
	}
	writeMarked(t, u, data, from, 19*mib) // sent, then the worker dies

	// The newest recorded checkpoint is the last Suspend's state.
	resumed, err := newDest(t).ResumeUpload(peers.Context(t), states[len(states)-1], nil)
	require.NoError(t, err)
	writeMarked(t, resumed, data, cuts[len(cuts)-1], int64(len(data)))
	d := newDest(t)
	requireCompletes(t, resumed, d, data)
}

func suspendAndKeepGoing(t *testing.T, newDest newDestFunc) {
	data := randomBytes(6, 17*mib+3)
	d := newDest(t)
	rec := &durableRecorder{}
	u, err := d.StartUpload(peers.Context(t), peers.RandomName("contract-")+".tar.gz", int64(len(data)), rec.record)
	require.NoError(t, err)
	from := int64(0)
	for _, cut := range []int64{1 * mib, 6*mib + 7, 6*mib + 9, 12 * mib} {
		writeMarked(t, u, data, from, cut)
		_, err := u.Suspend(peers.Context(t))
		require.NoError(t, err)
		from = cut
	}
	writeMarked(t, u, data, from, int64(len(data)))
	requireCompletes(t, u, d, data)
	rec.requireOrdered(t)
}

func resumeFromDurableStateAfterCrash(t *testing.T, newDest newDestFunc) {
	data := randomBytes(3, 22*mib+4321)
	name := peers.RandomName("contract-") + ".tar.gz"
	rec := &durableRecorder{}
	crashed, err := newDest(t).StartUpload(peers.Context(t), name, int64(len(data)), rec.record)
	require.NoError(t, err)
	// Write until some mark is durable, keep the first durable state,
	// then write more so later parts reach the destination too.
	writeMarked(t, crashed, data, 0, 12*mib)
	first := rec.waitFor(t, 1)
	writeMarked(t, crashed, data, 12*mib, 20*mib)
	_, err = crashed.Suspend(peers.Context(t)) // its state is thrown away, as a dead worker's would be
	require.NoError(t, err)
	require.Greater(t, len(rec.all()), 0)

	offset := first.mark.(int64)
	u, err := newDest(t).ResumeUpload(peers.Context(t), first.state, nil)
	require.NoError(t, err)
	require.Equal(t, offset, u.Uploaded())
	writeMarked(t, u, data, offset, int64(len(data)))
	d := newDest(t)
	requireCompletes(t, u, d, data)
}

func abortAndDiscard(t *testing.T, newDest newDestFunc) {
	data := randomBytes(4, 13*mib)
	d := newDest(t)
	rec := &durableRecorder{}
	u, err := d.StartUpload(peers.Context(t), peers.RandomName("contract-")+".tar.gz", int64(len(data)), rec.record)
	require.NoError(t, err)
	writeMarked(t, u, data, 0, int64(len(data)))
	durable := rec.waitFor(t, 1)
	require.NoError(t, u.Abort(peers.Context(t)))
	_, err = newDest(t).ResumeUpload(peers.Context(t), durable.state, nil)
	require.Error(t, err, "an aborted upload must not be resumable")
	require.NoError(t, d.DiscardUpload(peers.Context(t), durable.state), "discarding an aborted upload is a no-op")

	u2, err := d.StartUpload(peers.Context(t), peers.RandomName("contract-")+".tar.gz", int64(len(data)), nil)
	require.NoError(t, err)
	writeMarked(t, u2, data, 0, 7*mib)
	state, err := u2.Suspend(peers.Context(t))
	require.NoError(t, err)
	require.NoError(t, newDest(t).DiscardUpload(peers.Context(t), state))
	require.NoError(t, newDest(t).DiscardUpload(peers.Context(t), state), "DiscardUpload is idempotent")
	_, err = newDest(t).ResumeUpload(peers.Context(t), state, nil)
	require.Error(t, err, "a discarded upload must not be resumable")
}

func putOpenStatDelete(t *testing.T, newDest newDestFunc) {
	ctx := peers.Context(t)
	d := newDest(t)
	body := []byte(`{"format":"s3-bucket-tar-gz/1","objects":[]}` + "\n")
	loc, err := d.Put(ctx, peers.RandomName("contract-")+".manifest.json", bytes.NewReader(body), int64(len(body)), "application/json")
	require.NoError(t, err)
	size, err := d.Stat(ctx, loc)
	require.NoError(t, err)
	require.Equal(t, int64(len(body)), size)
	for _, off := range []int64{0, 7, int64(len(body))} {
		require.Equal(t, body[off:], readAll(t, d, loc, off), "offset %d", off)
	}
	require.NoError(t, d.Delete(ctx, loc))
	_, err = d.Stat(ctx, loc)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NoError(t, d.Delete(ctx, loc), "deleting a missing file is not an error")
}

func emptyFile(t *testing.T, newDest newDestFunc) {
	d := newDest(t)
	u, err := d.StartUpload(peers.Context(t), peers.RandomName("contract-")+".tar.gz", 0, nil)
	require.NoError(t, err)
	loc, err := u.Complete(peers.Context(t))
	require.NoError(t, err)
	size, err := d.Stat(peers.Context(t), loc)
	require.NoError(t, err)
	require.Zero(t, size)
}

// randomBytes is reproducible incompressible data.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed)}))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// writeMarked writes data[from:to] in uneven chunks with a mark (the byte
// offset) about every MiB and at `to`.
func writeMarked(t *testing.T, u archive.Upload, data []byte, from, to int64) {
	t.Helper()
	chunk := int64(300 * 1024)
	nextMark := (from/mib + 1) * mib
	marked := false
	for pos := from; pos < to; {
		end := min(pos+chunk, to, nextMark)
		n, err := u.Write(data[pos:end])
		require.NoError(t, err)
		require.Equal(t, int(end-pos), n)
		pos, marked = end, false
		if pos == nextMark {
			u.Mark(pos)
			nextMark += mib
			marked = true
		}
	}
	if !marked {
		u.Mark(to)
	}
}

type durable struct {
	mark  any
	state json.RawMessage
}

// durableRecorder collects durable callbacks.
type durableRecorder struct {
	mu    sync.Mutex
	calls []durable
}

func (r *durableRecorder) record(mark any, state json.RawMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, durable{mark: mark, state: append(json.RawMessage(nil), state...)})
}

func (r *durableRecorder) all() []durable {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]durable(nil), r.calls...)
}

// waitFor returns the n-th durable callback, waiting for it generously.
func (r *durableRecorder) waitFor(t *testing.T, n int) durable {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if calls := r.all(); len(calls) >= n {
			return calls[n-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no durable callback %d within 2 minutes", n)
	return durable{}
}

// requireOrdered checks the callbacks came in mark order with states.
func (r *durableRecorder) requireOrdered(t *testing.T) {
	t.Helper()
	var last int64 = -1
	for i, c := range r.all() {
		m, ok := c.mark.(int64)
		require.True(t, ok, "callback %d: mark %v is not the one passed to Mark", i, c.mark)
		require.Greater(t, m, last, "callback %d: marks out of order", i)
		require.True(t, json.Valid(c.state), "callback %d: state is not JSON", i)
		last = m
	}
}

func readAll(t *testing.T, d archive.Destination, loc archive.Location, offset int64) []byte {
	t.Helper()
	r, err := d.Open(peers.Context(t), loc, offset)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return b
}

// requireCompletes completes u and checks that d reads back exactly data.
func requireCompletes(t *testing.T, u archive.Upload, d archive.Destination, data []byte) {
	t.Helper()
	loc, err := u.Complete(peers.Context(t))
	require.NoError(t, err)
	requireStored(t, d, loc, data)
}

// requireStored reads the file back and compares it with data by hash and
// size (a byte-for-byte diff of 20 MiB would drown the message).
func requireStored(t *testing.T, d archive.Destination, loc archive.Location, data []byte) {
	t.Helper()
	size, err := d.Stat(peers.Context(t), loc)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), size)
	r, err := d.Open(peers.Context(t), loc, 0)
	require.NoError(t, err)
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	want := sha256.Sum256(data)
	require.Equal(t, want[:], h.Sum(nil), "the stored file differs from what was written")
	tail := readAll(t, d, loc, int64(len(data))-1000)
	require.True(t, bytes.Equal(data[len(data)-1000:], tail), "reading from an offset gives other bytes")
}
