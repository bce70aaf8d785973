package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"backupd/executors/archive"
	"backupd/executors/archive/archivetest"
	"backupd/executors/testsupport/countingproxy"
)

func TestDestinationContract(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.cfg.Prefix = "archives/"
	archivetest.DestinationContract(t, func(t *testing.T) archive.Destination {
		return NewDestination(f.cfg, f.log, WithPartSize(MinPartSize))
	})
	// Runs once every contract subtest has finished.
	require.Empty(t, f.multipartUploads(t), "no multipart upload may be left behind")
	for _, k := range f.keys(t) {
		require.NotContains(t, k, ".stash-", "no stashed tail may be left behind")
		require.True(t, strings.HasPrefix(k, "archives/contract-"), k)
	}
}

// marks records durable callbacks.
type marks struct {
	mu     sync.Mutex
	marks  []int64
	states []json.RawMessage
}

func (m *marks) record(mark any, state json.RawMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.marks = append(m.marks, mark.(int64))
	m.states = append(m.states, state)
}

func (m *marks) snapshot() ([]int64, []json.RawMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int64(nil), m.marks...), append([]json.RawMessage(nil), m.states...)
}

// write sends data[from:to] in 256 KiB writes with a mark every MiB.
func write(t *testing.T, u archive.Upload, data []byte, from, to int) {
	t.Helper()
	for pos := from; pos < to; {
		end := min(pos+256<<10, to, (pos/mib+1)*mib)
		_, err := u.Write(data[pos:end])
		require.NoError(t, err)
		pos = end
		if pos%mib == 0 {
			u.Mark(int64(pos))
		}
	}
}

func TestUploadPartsAtMarksWithChecksums(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data := randomBytes(21, 17*mib+333)
	proxy := countingproxy.New(t, f.cfg.Endpoint)
	dest := NewDestination(f.via(proxy.URL), f.log, WithPartSize(MinPartSize))
	rec := &marks{}
	u, err := dest.StartUpload(context.Background(), "one.tar.gz", 0, rec.record)
	require.NoError(t, err)
	write(t, u, data, 0, len(data))
	loc, err := u.Complete(context.Background())
	require.NoError(t, err)
	require.Equal(t, archive.Location("s3://"+f.bucket+"/one.tar.gz"), loc)

	_, got := f.get(t, "one.tar.gz")
	require.True(t, bytes.Equal(data, got), "the object read with the peer's client differs")
	gotMarks, states := rec.snapshot()
	// 5 MiB parts cut at the first mark at or after 5 MiB: 5, 10, 15 MiB.
	require.Equal(t, []int64{5 * mib, 10 * mib, 15 * mib}, gotMarks)
	var s uploadState
	require.NoError(t, json.Unmarshal(states[2], &s))
	require.Equal(t, int32(3), s.Parts)
	require.Equal(t, int64(15*mib), s.Bytes)
	require.NotContains(t, string(states[2]), "etag", "the state does not list parts")
	require.Contains(t, f.logs.String(), "part 2 uploaded (5.0 MiB, 10.0 MiB total)")

	// Each part carried its CRC32C for the server to check.
	bounds := []int{0, 5 * mib, 10 * mib, 15 * mib, len(data)}
	seen := 0
	for _, c := range proxy.Calls() {
		q, _ := url.ParseQuery(c.Query)
		if c.Method != "PUT" || q.Get("partNumber") == "" {
			continue
		}
		n, _ := strconv.Atoi(q.Get("partNumber"))
		require.Equal(t, crc32cBase64(data[bounds[n-1]:bounds[n]]), c.Header.Get("X-Amz-Checksum-Crc32c"), "part %d", n)
		seen++
	}
	require.Equal(t, 4, seen)

	require.Empty(t, f.multipartUploads(t))
}

func TestUploadCutsPartsWithoutMarks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data := randomBytes(22, 19*mib)
	rec := &marks{}
	u, err := NewDestination(f.cfg, f.log, WithPartSize(MinPartSize)).StartUpload(context.Background(), "nomarks", 0, rec.record)
	require.NoError(t, err)
	for pos := 0; pos < len(data); pos += 3 * mib {
		_, err := u.Write(data[pos:min(pos+3*mib, len(data))])
		require.NoError(t, err)
	}
	_, err = u.Complete(context.Background())
	require.NoError(t, err)
	_, got := f.get(t, "nomarks")
	require.True(t, bytes.Equal(data, got))
	m, _ := rec.snapshot()
	require.Empty(t, m, "a part cut without a mark is not a resume point")
	require.Contains(t, f.logs.String(), "part 3 uploaded")
}

func TestSuspendAndResume(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		cut       int // bytes written before Suspend
		inline    bool
		stashSize int
	}{
		{name: "small tail kept inline", cut: 10*mib + 100<<10, inline: true, stashSize: 100 << 10},
		{name: "big tail in a stash object", cut: 9*mib + mib/2, stashSize: 4*mib + mib/2},
		{name: "at a part boundary", cut: 10 * mib, inline: true, stashSize: 0},
		{name: "before the first part", cut: 2 * mib, stashSize: 2 * mib},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			proxy := countingproxy.New(t, f.cfg.Endpoint)
			cfg := f.via(proxy.URL)
			data := randomBytes(23, 16*mib+999)
			rec := &marks{}
			u, err := NewDestination(cfg, f.log, WithPartSize(MinPartSize)).StartUpload(context.Background(), "s.tar.gz", 0, rec.record)
			require.NoError(t, err)
			write(t, u, data, 0, tc.cut)
			u.Mark(int64(tc.cut))
			state, err := u.Suspend(context.Background())
			require.NoError(t, err)

			var s uploadState
			require.NoError(t, json.Unmarshal(state, &s))
			require.Equal(t, int64(tc.cut), s.Bytes+int64(len(s.Stash))+s.StashSize)
			require.Less(t, len(state), 400<<10)
			if tc.inline {
				require.Empty(t, s.StashKey)
				require.Len(t, s.Stash, tc.stashSize)
			} else {
				require.Equal(t, int64(tc.stashSize), s.StashSize)
				require.True(t, strings.HasPrefix(s.StashKey, "s.tar.gz.stash-"), s.StashKey)
				require.True(t, f.exists(t, s.StashKey), "the stash object is stored")
			}
			sentBefore := proxy.RequestBytes("PUT", "/")

			// A new process resumes.
			u2, err := NewDestination(cfg, f.log, WithPartSize(MinPartSize)).ResumeUpload(context.Background(), state, rec.record)
			require.NoError(t, err)
			require.Equal(t, s.Bytes, u2.Uploaded())
			write(t, u2, data, tc.cut, len(data))
			_, err = u2.Complete(context.Background())
			require.NoError(t, err)

			_, got := f.get(t, "s.tar.gz")
			require.True(t, bytes.Equal(data, got), "resumed upload differs")
			require.Equal(t, []string{"s.tar.gz"}, f.keys(t), "stash objects are gone")
			require.Empty(t, f.multipartUploads(t))
			// Every byte went up once in a part; the only extra is the stash
			// object (an inline stash travels in the state), under one part.
			sent := proxy.RequestBytes("PUT", "/")
			extra := int64(0)
			if !tc.inline {
				extra = int64(tc.stashSize)
			}
			require.Equal(t, int64(len(data))+extra, sent, "bytes sent:\n%s", proxy)
			require.Less(t, sent-int64(len(data)), int64(MinPartSize), "resume re-sent less than one part")
			require.Equal(t, int64(tc.cut-tc.stashSize)+extra, sentBefore, "before the suspend: parts plus the stash object")
			m, _ := rec.snapshot()
			for i := 1; i < len(m); i++ {
				require.Less(t, m[i-1], m[i], "durable marks in order")
			}
		})
	}
}

func TestResumeFromADurableStateAfterACrash(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data := randomBytes(24, 26*mib+5)
	rec := &marks{}
	crashed, err := NewDestination(f.cfg, f.log, WithPartSize(MinPartSize)).StartUpload(context.Background(), "crash.tar.gz", 0, rec.record)
	require.NoError(t, err)
	write(t, crashed, data, 0, 12*mib)
	waitMarks(t, rec, 2)
	// The worker keeps going and sends parts after the state we keep, then
	// dies (its later states are lost).
	write(t, crashed, data, 12*mib, 22*mib)
	_, err = crashed.Suspend(context.Background())
	require.NoError(t, err)
	m, states := rec.snapshot()
	require.GreaterOrEqual(t, len(m), 4)
	keep, offset := states[0], int(m[0])

	parts, err := f.client.ListParts(context.Background(), &s3.ListPartsInput{Bucket: aws.String(f.bucket), Key: aws.String("crash.tar.gz"), UploadId: aws.String(mustState(t, keep).UploadID)})
	require.NoError(t, err)
	require.Greater(t, len(parts.Parts), int(mustState(t, keep).Parts), "stale parts exist beyond the kept state")

	u, err := NewDestination(f.cfg, f.log, WithPartSize(MinPartSize)).ResumeUpload(context.Background(), keep, nil)
	require.NoError(t, err)
	write(t, u, data, offset, len(data))
	_, err = u.Complete(context.Background())
	require.NoError(t, err)
	_, got := f.get(t, "crash.tar.gz")
	require.True(t, bytes.Equal(data, got))
	require.Equal(t, []string{"crash.tar.gz"}, f.keys(t), "the dead worker's stash is removed too")
}

func TestResumeRefusesALostUpload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data := randomBytes(25, 6*mib)
	rec := &marks{}
	u, err := NewDestination(f.cfg, f.log, WithPartSize(MinPartSize)).StartUpload(context.Background(), "lost", 0, rec.record)
	require.NoError(t, err)
	write(t, u, data, 0, len(data))
	state, err := u.Suspend(context.Background())
	require.NoError(t, err)
	s := mustState(t, state)
	_, err = f.client.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{Bucket: aws.String(f.bucket), Key: aws.String("lost"), UploadId: aws.String(s.UploadID)})
	require.NoError(t, err)
	_, err = NewDestination(f.cfg, f.log).ResumeUpload(context.Background(), state, nil)
	require.ErrorIs(t, err, ErrUploadGone)

	// A state claiming more bytes than the server holds is refused too.
	u, err = NewDestination(f.cfg, f.log, WithPartSize(MinPartSize)).StartUpload(context.Background(), "short", 0, rec.record)
	require.NoError(t, err)
	write(t, u, data, 0, len(data))
	state, err = u.Suspend(context.Background())
	require.NoError(t, err)
	s = mustState(t, state)
	s.Bytes++
	forged, _ := json.Marshal(s)
	_, err = NewDestination(f.cfg, f.log).ResumeUpload(context.Background(), forged, nil)
	require.ErrorContains(t, err, "the state says")
	require.NoError(t, NewDestination(f.cfg, f.log).DiscardUpload(context.Background(), state))
}

func TestAPartThatFailsFailsTheUpload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data := randomBytes(26, 12*mib)
	u, err := NewDestination(f.cfg, f.log, WithPartSize(MinPartSize)).StartUpload(context.Background(), "fails", 0, nil)
	require.NoError(t, err)
	up := u.(*upload)
	// Someone aborts the upload behind our back: every later part fails
	// permanently (NoSuchUpload) and the upload reports it.
	_, err = f.client.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{Bucket: aws.String(f.bucket), Key: aws.String("fails"), UploadId: aws.String(up.uploadID)})
	require.NoError(t, err)
	var werr error
	for pos := 0; pos < len(data) && werr == nil; pos += mib {
		_, werr = u.Write(data[pos : pos+mib])
		u.Mark(int64(pos + mib))
	}
	_, err = u.Complete(context.Background())
	require.Error(t, err)
	require.Contains(t, err.Error(), "NoSuchUpload")
	require.NoError(t, u.Abort(context.Background()))
	require.Empty(t, f.multipartUploads(t))
}

func TestAbortAndDiscardLeaveNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data := randomBytes(27, 14*mib)
	dest := NewDestination(f.cfg, f.log, WithPartSize(MinPartSize))

	u, err := dest.StartUpload(context.Background(), "aborted", 0, nil)
	require.NoError(t, err)
	write(t, u, data, 0, 12*mib+mib/2)
	require.NoError(t, u.Abort(context.Background()))

	u, err = dest.StartUpload(context.Background(), "discarded", 0, nil)
	require.NoError(t, err)
	write(t, u, data, 0, 9*mib)
	state, err := u.Suspend(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, mustState(t, state).StashKey)
	require.NotEmpty(t, f.keys(t), "the stash object exists before the discard")
	require.NoError(t, dest.DiscardUpload(context.Background(), state))
	require.NoError(t, dest.DiscardUpload(context.Background(), state))

	require.Empty(t, f.multipartUploads(t))
	require.Empty(t, f.keys(t))
	require.Contains(t, f.logs.String(), "aborted the upload of s3://"+f.bucket+"/aborted")
}

func waitMarks(t *testing.T, m *marks, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if got, _ := m.snapshot(); len(got) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d durable marks after 2 minutes", n)
}

func mustState(t *testing.T, raw json.RawMessage) uploadState {
	t.Helper()
	s, err := parseState(raw)
	require.NoError(t, err)
	return s
}

func TestPeriodicSuspendsKeepFewStashObjects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data := randomBytes(29, 9*mib)
	u, err := NewDestination(f.cfg, f.log, WithPartSize(MinPartSize)).StartUpload(context.Background(), "p.tar.gz", 0, nil)
	require.NoError(t, err)
	var states []json.RawMessage
	for i := 1; i <= 4; i++ { // tails of 1..4 MiB: each Suspend stashes an object
		write(t, u, data, (i-1)*mib, i*mib)
		state, err := u.Suspend(context.Background())
		require.NoError(t, err)
		require.NotEmpty(t, mustState(t, state).StashKey)
		states = append(states, state)
	}
	var stashes []string
	for _, k := range f.keys(t) {
		if strings.Contains(k, ".stash-") {
			stashes = append(stashes, k)
		}
	}
	require.ElementsMatch(t, []string{mustState(t, states[2]).StashKey, mustState(t, states[3]).StashKey}, stashes)

	// The newest two states still resume; the upload itself goes on.
	for _, st := range states[2:] {
		r, err := NewDestination(f.cfg, f.log).ResumeUpload(context.Background(), st, nil)
		require.NoError(t, err)
		require.Zero(t, r.Uploaded())
	}
	write(t, u, data, 4*mib, len(data))
	_, err = u.Complete(context.Background())
	require.NoError(t, err)
	_, got := f.get(t, "p.tar.gz")
	require.True(t, bytes.Equal(data, got))
	require.Equal(t, []string{"p.tar.gz"}, f.keys(t))
}
