package gdrive_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"backupd/executors/gdrive"
	"backupd/executors/testsupport/peers"
)

const (
	mib       = 1 << 20
	chunkSize = 8 * mib
)

const sessionPuts = "PUT /upload/drive/v3/files?upload_id"

// A 40 MiB upload in 8 MiB chunks survives a 503, a cut connection, a chunk
// cut after 3 MiB, a 429 with Retry-After and expired tokens, and stores
// exactly the bytes written.
func TestUploadSurvivesFaults(t *testing.T) {
	t.Parallel()
	p, _ := peers.PrivateDrive(t)
	f := newFixture(t, p)
	d := f.destination(t, chunkSize, 0)
	ctx := ctxTimeout(t, 3*time.Minute)
	data := randomData(40*mib+12345, 1)
	name := peers.RandomName("faults-") + ".tar.gz"

	up, err := d.StartUpload(ctx, name, int64(len(data)), nil)
	require.NoError(t, err)
	// Each fault is queued just before the chunk it should hit is handed
	// off, once the previous one has fired.
	faults := map[int64]func(){
		0 * chunkSize: func() {
			p.Fault(t, map[string]any{"method": "PUT", "path_prefix": "/upload/", "status": 503, "reason": "backendError"})
		},
		1 * chunkSize: func() { p.Fault(t, map[string]any{"method": "PUT", "path_prefix": "/upload/", "drop": true}) },
		2 * chunkSize: func() {
			p.Fault(t, map[string]any{"method": "PUT", "path_prefix": "/upload/", "query_contains": "upload_id", "after_bytes": 3*mib + 1000})
		},
		3 * chunkSize: func() {
			p.Fault(t, map[string]any{"method": "PUT", "path_prefix": "/upload/", "status": 429, "reason": "rateLimitExceeded", "retry_after": 1})
		},
		4 * chunkSize: func() { p.Control(t, "expire-tokens", nil) },
	}
	writeMarked(t, up, data, 0, mib, func(off int64) {
		if fault, ok := faults[off]; ok {
			// The chunk before is confirmed: the next request to the
			// session is the data of the chunk starting at off.
			require.Eventually(t, func() bool { return up.Uploaded() >= off }, time.Minute, 5*time.Millisecond)
			fault()
		}
	})
	loc, err := up.Complete(ctx)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(loc), "gdrive://"), loc)
	require.Equal(t, int64(len(data)), up.Uploaded())

	got := f.download(t, loc)
	require.Equal(t, len(data), len(got))
	require.Equal(t, sha(data), sha(got), "the stored file differs from what was written")

	st := state(t, p)
	require.Empty(t, st.FaultsPending, "every fault fired")
	require.Zero(t, st.sessionsNamed(name), "the session is finished")
	require.Equal(t, 1, st.filesNamed(name))
	for _, file := range st.Files {
		if file.Name == name {
			require.Equal(t, []string{f.folderID}, file.Parents)
			require.Equal(t, sha(data), file.SHA256)
		}
	}
	puts := st.Requests[sessionPuts]
	require.EqualValues(t, 1, puts["503"], "%v", puts)
	require.EqualValues(t, 1, puts["429"], "%v", puts)
	require.EqualValues(t, 2, puts["dropped"], "the drop and the cut chunk: %v", puts)
	require.GreaterOrEqual(t, puts["401"], int64(1), "the expired token was refused once: %v", puts)
	require.GreaterOrEqual(t, f.refresh.count(), 1, "the refreshed token is reported")
	// The cut chunk kept 3 MiB (to its last 256 KiB boundary): the session
	// said so, and only the rest of the chunk was sent again.
	require.Contains(t, f.logs.String(), "the upload session holds 19922944 bytes; continuing from there")
	require.Equal(t, int64(len(data)), st.uploadedToday(), "no byte was stored twice")
	// Each failed request is sent again at most once.
	require.LessOrEqual(t, f.counter.chunkSent.Load(), int64(len(data))+5*chunkSize)

	logs := f.logs.String()
	require.Contains(t, logs, "uploaded 8.0 MiB to Google Drive")
	require.Contains(t, logs, "retrying in")
	require.Contains(t, logs, "refused the access token")
	require.NotContains(t, logs, "upload_id", "the session URI never reaches the log")
	for _, tok := range f.refresh.tokens {
		require.NotContains(t, logs, tok.AccessToken)
	}
}

func TestUploadQuotaFailsWithGooglesMessage(t *testing.T) {
	t.Parallel()
	p, _ := peers.PrivateDrive(t)
	f := newFixture(t, p)
	d := f.destination(t, 4*mib, 0)
	ctx := ctxTimeout(t, 2*time.Minute)

	t.Run("storage quota", func(t *testing.T) {
		p.Control(t, "config", map[string]any{"storage_quota_bytes": 10 * mib})
		up, err := d.StartUpload(ctx, "big.tar.gz", 0, nil)
		require.NoError(t, err)
		data := randomData(20*mib, 2)
		var werr error
		for off := 0; off < len(data) && werr == nil; off += mib {
			_, werr = up.Write(data[off : off+mib])
		}
		if werr == nil {
			_, werr = up.Complete(ctx)
		}
		require.ErrorIs(t, werr, gdrive.ErrQuotaExceeded)
		require.Contains(t, werr.Error(), "The user's Drive storage quota has been exceeded.")
		require.NoError(t, up.Abort(ctx))
		require.Zero(t, state(t, p).sessionsNamed("big.tar.gz"))
		p.Control(t, "config", map[string]any{"storage_quota_bytes": 0})
	})
	t.Run("daily upload limit", func(t *testing.T) {
		p.Control(t, "config", map[string]any{"daily_upload_bytes": 1})
		t.Cleanup(func() { p.Control(t, "config", map[string]any{"daily_upload_bytes": 0}) })
		start := time.Now()
		_, err := d.StartUpload(ctx, "daily.tar.gz", 0, nil)
		require.ErrorIs(t, err, gdrive.ErrQuotaExceeded)
		require.Contains(t, err.Error(), "daily upload limit")
		require.Less(t, time.Since(start), 5*time.Second, "a quota error is not retried")
	})
}

// Suspend makes what was written durable and keeps the partial block
// inline; the upload goes on (a periodic checkpoint) and is suspended again
// (a pause). A new destination (a new process) resumes from the last state
// and finishes the identical file, having re-sent at most one chunk.
func TestSuspendAndResumeInANewInstance(t *testing.T) {
	t.Parallel()
	p, _ := peers.PrivateDrive(t)
	f := newFixture(t, p)
	ctx := ctxTimeout(t, 2*time.Minute)
	data := randomData(30*mib+777, 3)
	name := peers.RandomName("pause-") + ".tar.gz"
	checkpointAt := int64(5*mib + 1000)
	pauseAt := int64(13*mib + 300*1024 + 5) // not on a 256 KiB boundary

	up, err := f.destination(t, chunkSize, 0).StartUpload(ctx, name, int64(len(data)), nil)
	require.NoError(t, err)
	writeMarked(t, up, data[:checkpointAt], 0, 700*1024, nil)
	_, err = up.Suspend(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5*mib), up.Uploaded())
	writeMarked(t, up, data[checkpointAt:pauseAt], checkpointAt, 700*1024, nil)
	raw, err := up.Suspend(ctx)
	require.NoError(t, err)

	var st struct {
		SessionURI   string `json:"session_uri"`
		FileName     string `json:"file_name"`
		Confirmed    int64  `json:"confirmed"`
		TotalWritten int64  `json:"total_written"`
		Tail         []byte `json:"tail"`
	}
	require.NoError(t, json.Unmarshal(raw, &st))
	require.Equal(t, name, st.FileName)
	require.Equal(t, pauseAt, st.TotalWritten)
	require.Equal(t, pauseAt/(256*1024)*(256*1024), st.Confirmed)
	require.Equal(t, data[st.Confirmed:pauseAt], st.Tail)
	require.Less(t, len(st.Tail), 256*1024)
	require.Equal(t, st.Confirmed, up.Uploaded())
	es := state(t, p)
	require.Len(t, es.Sessions, 1)
	require.Equal(t, st.Confirmed, es.Sessions[0].Persisted)
	require.NotContains(t, f.logs.String(), "upload_id", "the session URI never reaches the log")

	// A new process: a new destination built from the stored connection.
	resumed, err := f.destination(t, chunkSize, 0).ResumeUpload(ctx, raw, nil)
	require.NoError(t, err)
	require.Equal(t, st.Confirmed, resumed.Uploaded())
	writeMarked(t, resumed, data[pauseAt:], pauseAt, 900*1024, nil)
	loc, err := resumed.Complete(ctx)
	require.NoError(t, err)
	require.Equal(t, sha(data), sha(f.download(t, loc)))

	es = state(t, p)
	require.Zero(t, es.sessionsNamed(name))
	require.Equal(t, int64(len(data)), es.uploadedToday(), "the session stored every byte once")
	resent := f.counter.chunkSent.Load() - int64(len(data))
	require.GreaterOrEqual(t, resent, int64(0))
	require.LessOrEqual(t, resent, int64(chunkSize), "at most one chunk re-sent")
	t.Logf("bytes sent in chunks: %d for a %d-byte file (%d re-sent)", f.counter.chunkSent.Load(), len(data), resent)
}

// The process died after a checkpoint, but later chunks reached Drive: the
// session is ahead of the state. The resumed writer produces those bytes
// again; they are skipped, not re-sent.
func TestResumeWhenTheSessionIsAheadOfTheCheckpoint(t *testing.T) {
	t.Parallel()
	p, _ := peers.PrivateDrive(t)
	f := newFixture(t, p)
	ctx := ctxTimeout(t, 2*time.Minute)
	data := randomData(20*mib+4321, 4)
	name := peers.RandomName("ahead-") + ".tar.gz"
	const chunk = 2 * mib

	type durable struct {
		mark  any
		state json.RawMessage
	}
	var mu sync.Mutex
	var durables []durable
	onDurable := func(mark any, state json.RawMessage) {
		mu.Lock()
		defer mu.Unlock()
		durables = append(durables, durable{mark, state})
	}
	crashCtx, crash := context.WithCancel(ctx)
	up, err := f.destination(t, chunk, 4*mib).StartUpload(crashCtx, name, 0, onDurable)
	require.NoError(t, err)
	written := int64(12*mib + 100*1024)
	// Marks every 300 KiB: they rarely fall on a chunk boundary.
	writeMarked(t, up, data[:written], 0, 300*1024, nil)
	require.Eventually(t, func() bool { return up.Uploaded() >= 12*mib }, time.Minute, 10*time.Millisecond)
	crash() // the worker dies: no Suspend, no Abort

	mu.Lock()
	require.NotEmpty(t, durables)
	first := durables[0]
	var prev int64
	for _, d := range durables {
		var st struct {
			Confirmed    int64  `json:"confirmed"`
			TotalWritten int64  `json:"total_written"`
			Tail         []byte `json:"tail"`
		}
		require.NoError(t, json.Unmarshal(d.state, &st))
		require.Equal(t, d.mark, st.TotalWritten, "the state resumes at its mark")
		require.Greater(t, st.TotalWritten, prev, "durable calls come in mark order")
		prev = st.TotalWritten
		require.Less(t, len(st.Tail), 256*1024)
		require.GreaterOrEqual(t, st.Confirmed-prev+int64(len(st.Tail)), int64(0))
		if st.TotalWritten > st.Confirmed {
			require.Equal(t, data[st.Confirmed:st.TotalWritten], st.Tail)
		} else {
			require.Empty(t, st.Tail)
		}
	}
	mu.Unlock()
	var st struct {
		Confirmed    int64 `json:"confirmed"`
		TotalWritten int64 `json:"total_written"`
	}
	require.NoError(t, json.Unmarshal(first.state, &st))
	require.GreaterOrEqual(t, st.Confirmed, int64(4*mib))
	require.Less(t, st.TotalWritten, int64(12*mib))
	sentBefore := f.counter.chunkSent.Load()

	resumed, err := f.destination(t, chunk, 4*mib).ResumeUpload(ctx, first.state, nil)
	require.NoError(t, err)
	require.Equal(t, st.TotalWritten, resumed.Uploaded(), "progress restarts at the checkpoint")
	es := state(t, p)
	require.Len(t, es.Sessions, 1)
	require.GreaterOrEqual(t, es.Sessions[0].Persisted, int64(12*mib), "the session is ahead of the checkpoint")
	writeMarked(t, resumed, data[st.TotalWritten:], st.TotalWritten, 300*1024, nil)
	loc, err := resumed.Complete(ctx)
	require.NoError(t, err)
	require.Equal(t, sha(data), sha(f.download(t, loc)))
	sentAfter := f.counter.chunkSent.Load() - sentBefore
	require.LessOrEqual(t, sentAfter, int64(len(data))-12*mib, "bytes already in the session are not sent again")
	require.Equal(t, int64(len(data)), state(t, p).uploadedToday())
}

func TestAbortAndDiscardLeaveNoSession(t *testing.T) {
	t.Parallel()
	p, _ := peers.PrivateDrive(t)
	f := newFixture(t, p)
	d := f.destination(t, 2*mib, 0)
	ctx := ctxTimeout(t, 2*time.Minute)
	data := randomData(9*mib, 5)

	// Abort mid-upload.
	up, err := d.StartUpload(ctx, "aborted.tar.gz", 0, nil)
	require.NoError(t, err)
	writeMarked(t, up, data, 0, mib, nil)
	require.Eventually(t, func() bool { return up.Uploaded() >= 4*mib }, time.Minute, 10*time.Millisecond)
	require.Equal(t, 1, state(t, p).sessionsNamed("aborted.tar.gz"))
	require.NoError(t, up.Abort(ctx))
	st := state(t, p)
	require.Empty(t, st.Sessions, "no open upload session")
	require.Zero(t, st.filesNamed("aborted.tar.gz"))
	_, err = up.Write([]byte("x"))
	require.Error(t, err)

	// Discard a suspended upload, twice.
	up, err = d.StartUpload(ctx, "paused.tar.gz", 0, nil)
	require.NoError(t, err)
	writeMarked(t, up, data[:5*mib+10], 0, mib, nil)
	raw, err := up.Suspend(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, state(t, p).sessionsNamed("paused.tar.gz"))
	require.NoError(t, d.DiscardUpload(ctx, raw))
	require.NoError(t, d.DiscardUpload(ctx, raw), "discarding is idempotent")
	require.Empty(t, state(t, p).Sessions)
	_, err = d.ResumeUpload(ctx, raw, nil)
	require.ErrorIs(t, err, gdrive.ErrSessionExpired)

	// Abort after Complete removes the file too.
	up, err = d.StartUpload(ctx, "completed.tar.gz", 0, nil)
	require.NoError(t, err)
	writeMarked(t, up, data[:3*mib], 0, mib, nil)
	_, err = up.Complete(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, state(t, p).filesNamed("completed.tar.gz"))
	require.NoError(t, up.Abort(ctx))
	require.Zero(t, state(t, p).filesNamed("completed.tar.gz"))
}

func TestSessionExpiredAfterAWeek(t *testing.T) {
	t.Parallel()
	p, _ := peers.PrivateDrive(t)
	f := newFixture(t, p)
	d := f.destination(t, 2*mib, 0)
	ctx := ctxTimeout(t, time.Minute)
	up, err := d.StartUpload(ctx, "old.tar.gz", 0, nil)
	require.NoError(t, err)
	writeMarked(t, up, randomData(3*mib, 6), 0, mib, nil)
	raw, err := up.Suspend(ctx)
	require.NoError(t, err)
	p.Control(t, "advance-clock", map[string]any{"seconds": 8 * 24 * 3600})
	_, err = f.destination(t, 2*mib, 0).ResumeUpload(ctx, raw, nil)
	require.ErrorIs(t, err, gdrive.ErrSessionExpired)
	require.NoError(t, d.DiscardUpload(ctx, raw), "an expired session needs no clean-up")
}

func TestEmptyAndSmallUploads(t *testing.T) {
	t.Parallel()
	p := peers.Drive(t)
	f := newFixture(t, p)
	d := f.destination(t, 0, 0)
	ctx := ctxTimeout(t, time.Minute)
	for _, size := range []int{0, 1, 256 * 1024, 256*1024 + 1} {
		data := randomData(size, uint64(size))
		up, err := d.StartUpload(ctx, "small.tar.gz", 0, nil)
		require.NoError(t, err)
		writeMarked(t, up, data, 0, 100*1024, nil)
		loc, err := up.Complete(ctx)
		require.NoError(t, err, "size %d", size)
		n, err := d.Stat(ctx, loc)
		require.NoError(t, err)
		require.EqualValues(t, size, n)
		require.Equal(t, sha(data), sha(f.download(t, loc)))
		rd, err := d.Open(ctx, loc, 0)
		require.NoError(t, err)
		got, err := io.ReadAll(rd)
		require.NoError(t, err)
		require.Equal(t, sha(data), sha(got))
	}
}
