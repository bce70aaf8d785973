package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The bench's own arithmetic: the figures it prints are only as good as
// these. The whole command is exercised by running it (.ci/bench).

func TestGroupBestAndMedian(t *testing.T) {
	t.Parallel()
	d := dataset{bucket: "b", count: 10, size: 1 << 20}
	for _, tc := range []struct {
		walls        []time.Duration
		best, median time.Duration
	}{
		{[]time.Duration{3 * time.Second}, 3 * time.Second, 3 * time.Second},
		{[]time.Duration{4 * time.Second, 2 * time.Second}, 2 * time.Second, 3 * time.Second},
		{[]time.Duration{5 * time.Second, 1 * time.Second, 2 * time.Second}, time.Second, 2 * time.Second},
	} {
		g := group{data: d, tool: "backupd"}
		for _, w := range tc.walls {
			g.runs = append(g.runs, measurement{data: d, wall: w})
		}
		require.Equal(t, tc.best, g.best())
		require.Equal(t, tc.median, g.median())
	}
}

func TestGCStatsReadsOnlyLinesAfterTheOffset(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "worker.log")
	before := "gc 1 @0.010s 1%: 0.01+0.5+0.003 ms clock, 0.02+0.1/0.3/0+0.007 ms cpu, 300->400->200 MB, 500 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
	after := "time=... level=INFO msg=\"worker started\"\n" +
		"gc 2 @1.0s 2%: 0.01+0.5+0.003 ms clock, 0.02+0.1/0.3/0+0.007 ms cpu, 40->45->30 MB, 60 MB goal, 0 MB stacks, 0 MB globals, 2 P\n" +
		"gc 3 @2.0s 2%: 0.01+0.5+0.003 ms clock, 0.02+0.1/0.3/0+0.007 ms cpu, 91->92->42 MB, 93 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
	require.NoError(t, os.WriteFile(path, []byte(before+after), 0o600))
	g, err := gcStats(path, int64(len(before)))
	require.NoError(t, err)
	require.Equal(t, gcSummary{cycles: 2, maxStart: 91, maxLive: 42, maxGoal: 93}, g)

	_, err = gcStats(path, int64(len(before)+len(after)))
	require.Error(t, err, "no collection after the offset")
}

func TestCountS3SeparatesPartsStashesAndTheRest(t *testing.T) {
	t.Parallel()
	q := func(s string) url.Values { v, _ := url.ParseQuery(s); return v }
	calls := []proxyCall{
		{Method: "POST", Path: "/dst/a.tar.gz", Query: q("uploads="), Bytes: 0, decoded: -1},
		{Method: "PUT", Path: "/dst/a.tar.gz", Query: q("partNumber=1&uploadId=u"), Bytes: 8_000_100, decoded: 8_000_000},
		{Method: "PUT", Path: "/dst/a.tar.gz", Query: q("partNumber=2&uploadId=u"), Bytes: 8_000_000, decoded: -1},
		{Method: "PUT", Path: "/dst/a.tar.gz.stash-2-abcd", Query: q(""), Bytes: 1000, decoded: -1},
		{Method: "PUT", Path: "/dst/a.tar.gz", Query: q("partNumber=2&uploadId=u"), Bytes: 8_000_000, decoded: -1},
		{Method: "PUT", Path: "/dst/a.tar.gz", Query: q("partNumber=3&uploadId=u"), Bytes: 500, decoded: -1},
		{Method: "POST", Path: "/dst/a.tar.gz", Query: q("uploadId=u"), Bytes: 300, decoded: -1},
		{Method: "PUT", Path: "/dst/a.tar.gz.manifest.json", Query: q(""), Bytes: 2000, decoded: -1},
		{Method: "GET", Path: "/dst/a.tar.gz.stash-2-abcd", Query: q(""), Bytes: 0, decoded: -1},
	}
	var r pauseResult
	op := operation{}
	op.Result = &struct {
		ArchiveLocation  string    `json:"archive_location"`
		ManifestLocation string    `json:"manifest_location"`
		ArchiveSize      int64     `json:"archive_size"`
		ObjectCount      int64     `json:"object_count"`
		TotalBytes       int64     `json:"total_bytes"`
		StartedAt        time.Time `json:"started_at"`
		FinishedAt       time.Time `json:"finished_at"`
	}{ArchiveLocation: "s3://dst/a.tar.gz"}
	r.archiveSize = 16_000_500
	require.NoError(t, countS3(&r, op, calls))
	require.Equal(t, int64(24_000_500), r.archiveReceived, "decoded length for aws-chunked parts, body bytes otherwise")
	require.Equal(t, int64(1000), r.stashBytes)
	require.Equal(t, int64(2300), r.otherBytes)
	require.Equal(t, int64(8_000_000), r.unit)
	require.Equal(t, "part 2 ×2", r.reuploaded)
	require.Equal(t, int64(8_001_000), r.resent(), "one part again plus the stashed tail")
}

func TestCountDriveTakesTheLargestSession(t *testing.T) {
	t.Parallel()
	q := func(s string) url.Values { v, _ := url.ParseQuery(s); return v }
	calls := []proxyCall{
		{Method: "POST", Path: "/upload/drive/v3/files", Query: q("uploadType=resumable"), Bytes: 120},
		{Method: "PUT", Path: "/upload/drive/v3/files", Query: q("uploadType=resumable&upload_id=A"), Bytes: 16, ContentRange: "bytes 0-15/*"},
		{Method: "PUT", Path: "/upload/drive/v3/files", Query: q("uploadType=resumable&upload_id=A"), Bytes: 16, ContentRange: "bytes 16-31/*"},
		{Method: "PUT", Path: "/upload/drive/v3/files", Query: q("uploadType=resumable&upload_id=A"), Bytes: 16, ContentRange: "bytes 16-31/*"},
		{Method: "PUT", Path: "/upload/drive/v3/files", Query: q("uploadType=resumable&upload_id=A"), Bytes: 4, ContentRange: "bytes 32-35/36"},
		{Method: "PUT", Path: "/upload/drive/v3/files", Query: q("uploadType=resumable&upload_id=M"), Bytes: 10, ContentRange: "bytes 0-9/10"},
	}
	r := pauseResult{archiveSize: 36}
	countDrive(&r, calls)
	require.Equal(t, int64(52), r.archiveReceived)
	require.Equal(t, int64(130), r.otherBytes)
	require.Equal(t, int64(16), r.unit)
	require.Equal(t, int64(16), r.resent())
	require.Equal(t, "chunk at 16 ×2", r.reuploaded)
}

func TestCountingProxyCountsBodiesAndKeepsTheHost(t *testing.T) {
	t.Parallel()
	var hosts []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host)
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(backend.Close)
	p, err := startCountingProxy(backend.URL)
	require.NoError(t, err)
	t.Cleanup(p.close)

	for _, n := range []int{10, 2000} {
		req, err := http.NewRequest(http.MethodPut, p.URL+"/bucket/key?partNumber=1", bytes.NewReader(make([]byte, n)))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	resp, err := http.Get(p.URL + "/bucket/key")
	require.NoError(t, err)
	resp.Body.Close()

	require.Equal(t, int64(2010), p.uploadedBytes())
	calls := p.snapshot()
	require.Len(t, calls, 3)
	require.Equal(t, "1", calls[0].Query.Get("partNumber"))
	u, _ := url.Parse(p.URL)
	require.Equal(t, []string{u.Host, u.Host, u.Host}, hosts, "the Host the client signed reaches the server")
	require.GreaterOrEqual(t, p.conns.Load(), int64(1))

	p.reset()
	require.Empty(t, p.snapshot())
	require.Zero(t, p.uploadedBytes())
}

func TestHalfway(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uploaded, done, total, expect int64
		want                          bool
	}{
		{uploaded: 49, expect: 100, want: false},
		{uploaded: 50, expect: 100, want: true},
		{uploaded: 1, done: 50, total: 100, want: true},
		{uploaded: 0, done: 50, total: 100, want: false},
		{uploaded: 1, done: 49, total: 100, want: false},
		{uploaded: 1, done: 0, total: 0, want: false},
	} {
		require.Equal(t, tc.want, halfway(tc.uploaded, tc.done, tc.total, tc.expect), "%+v", tc)
	}
}

func TestPipeRunsThreeProcessesAndReportsTheirFailure(t *testing.T) {
	t.Parallel()
	b := &bench{cfg: config{state: t.TempDir()}}
	out := filepath.Join(t.TempDir(), "out")
	last := b.timed("sh", "-c", "cat > "+out)
	_, err := pipe(b.timed("printf", "hello world"), b.timed("tr", "a-z", "A-Z"), last)
	require.NoError(t, err)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "HELLO WORLD", string(got))
	_, cpu, err := last.usage(123)
	require.NoError(t, err)
	require.GreaterOrEqual(t, cpu, time.Duration(0))

	_, err = pipe(b.timed("printf", "x"), b.timed("sh", "-c", "echo broken >&2; exit 3"), b.timed("cat"))
	require.ErrorContains(t, err, "broken")
}

func TestTimedReadsUsrBinTime(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Skip("no /usr/bin/time: the bench samples /proc instead")
	}
	b := &bench{cfg: config{state: t.TempDir()}, timeBin: "/usr/bin/time"}
	c := b.timed("sh", "-c", "head -c 20000000 /dev/zero | tail -c 1 >/dev/null")
	sampler, err := c.start()
	require.NoError(t, err)
	require.NoError(t, c.cmd.Wait())
	sampler.done()
	rss, _, err := c.usage(0)
	require.NoError(t, err)
	require.Greater(t, rss, int64(100), "%%M is in KiB and a shell uses more than 100 KiB")
}
