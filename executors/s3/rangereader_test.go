package s3

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"backupd/executors/archive"
	"backupd/executors/testsupport/countingproxy"
)

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
	var delivered int64
	for _, c := range proxy.Calls() {
		delivered += c.ResponseBytes
	}
	require.Equal(t, int64(len(body)-1000), delivered, "nothing was downloaded twice")

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
