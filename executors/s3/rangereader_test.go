package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"backupd/executors/archive"
	"backupd/executors/testsupport/countingproxy"
)

// socketSlack bounds what a connection cut on purpose may have written but
// the client never read.
const socketSlack = 256 << 10

func TestDestinationOpenResumesACutDownload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := randomBytes(28, 4*mib+3)
	f.put(t, "archive.tar.gz", body, "", nil)
	proxy := countingproxy.New(t, f.cfg.Endpoint)
	loc := archive.Location("s3://" + f.bucket + "/archive.tar.gz")
	isArchive := func(p string) bool { return strings.HasSuffix(p, "/archive.tar.gz") }

	dest := NewDestination(f.via(proxy.URL), f.log)
	proxy.CutResponseOnce("GET", isArchive, mib+1)
	proxy.CutResponseOnce("GET", isArchive, 2*mib)
	r, err := dest.Open(context.Background(), loc, 1000)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.True(t, bytes.Equal(body[1000:], got))
	require.Equal(t, 3, proxy.Count("GET", "/"+f.bucket+"/archive.tar.gz"), "two cuts, two continuations")
	// Each continuation asks for the bytes after those the reader got, not
	// from the start: the ranges grow, and what the proxy wrote adds up to
	// the object once plus at most what a cut connection swallowed in its
	// socket buffers (the proxy counts bytes written, not bytes read).
	var delivered int64
	var starts []int64
	for _, c := range proxy.Calls() {
		if c.Method != "GET" || !isArchive(c.Path) {
			continue
		}
		delivered += c.ResponseBytes
		var from int64
		_, err := fmt.Sscanf(c.Header.Get("Range"), "bytes=%d-", &from)
		require.NoError(t, err, "every read is ranged: %q", c.Header.Get("Range"))
		starts = append(starts, from)
	}
	require.Equal(t, int64(1000), starts[0])
	require.Greater(t, starts[1], starts[0]+mib-socketSlack, "the first continuation starts where the first cut left the reader")
	require.Greater(t, starts[2], starts[1]+2*mib-socketSlack, "the second continuation starts where the second cut left the reader")
	require.GreaterOrEqual(t, delivered, int64(len(body)-1000))
	require.LessOrEqual(t, delivered, int64(len(body)-1000)+2*socketSlack, "nothing but unread socket bytes was sent twice")

	// Without retries, a cut is an error, never silently short data.
	strict := NewDestination(f.via(proxy.URL), f.log, WithReadRetries(0))
	proxy.CutResponseOnce("GET", isArchive, mib)
	r, err = strict.Open(context.Background(), loc, 0)
	require.NoError(t, err)
	_, err = io.ReadAll(r)
	require.Error(t, err)

	size, err := dest.Stat(context.Background(), loc)
	require.NoError(t, err)
	require.Equal(t, int64(len(body)), size)
}
