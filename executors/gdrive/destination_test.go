package gdrive_test

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"backupd/executors/testsupport/peers"
)

// Put stores the manifest in the folder, replacing an earlier copy; Open
// reads from an offset and resumes cut downloads; Stat and Delete.
func TestPutOpenStatDelete(t *testing.T) {
	t.Parallel()
	p, _ := peers.PrivateDrive(t)
	f := newFixture(t, p)
	d := f.destination(t, 2*mib, 0)
	ctx := ctxTimeout(t, 2*time.Minute)

	manifest := []byte(`{"format":"s3-bucket-tar-gz/1","objects":3}`)
	first, err := d.Put(ctx, "b.manifest.json", strings.NewReader("{}"), 2, "application/json")
	require.NoError(t, err)
	loc, err := d.Put(ctx, "b.manifest.json", strings.NewReader(string(manifest)), int64(len(manifest)), "application/json")
	require.NoError(t, err)
	require.NotEqual(t, first, loc)
	require.Equal(t, manifest, f.download(t, loc))
	st := state(t, p)
	require.Equal(t, 1, st.filesNamed("b.manifest.json"), "the earlier copy is replaced")
	_, err = d.Stat(ctx, first)
	require.ErrorIs(t, err, fs.ErrNotExist)

	// Too big for a multipart upload: Put streams it through a session.
	big := randomData(6*mib+5, 8)
	bigLoc, err := d.Put(ctx, "big.manifest.json", strings.NewReader(string(big)), int64(len(big)), "application/json")
	require.NoError(t, err)
	require.Equal(t, sha(big), sha(f.download(t, bigLoc)))

	// A 7 MiB archive, downloaded through two cut connections.
	data := randomData(7*mib+3, 7)
	up, err := d.StartUpload(ctx, "a.tar.gz", 0, nil)
	require.NoError(t, err)
	writeMarked(t, up, data, 0, mib, nil)
	arch, err := up.Complete(ctx)
	require.NoError(t, err)
	n, err := d.Stat(ctx, arch)
	require.NoError(t, err)
	require.EqualValues(t, len(data), n)

	p.Fault(t, map[string]any{"method": "GET", "query_contains": "alt=media", "after_bytes": 1*mib + 17, "count": 2})
	rd, err := d.Open(ctx, arch, 0)
	require.NoError(t, err)
	got, err := io.ReadAll(rd)
	require.NoError(t, err)
	require.NoError(t, rd.Close())
	require.Equal(t, sha(data), sha(got))
	downloads := state(t, p).Requests["GET /drive/v3/files/{id}?alt=media"]
	require.EqualValues(t, 2, downloads["dropped"], "%v", downloads)
	require.Contains(t, f.logs.String(), "resuming the download")

	for _, off := range []int64{1, 3*mib + 5, int64(len(data)) - 1, int64(len(data))} {
		rd, err := d.Open(ctx, arch, off)
		require.NoError(t, err, "offset %d", off)
		got, err := io.ReadAll(rd)
		require.NoError(t, err)
		rd.Close()
		require.Equal(t, data[off:], got, "offset %d", off)
	}
	_, err = d.Open(ctx, arch, int64(len(data))+1)
	require.Error(t, err)

	require.NoError(t, d.Delete(ctx, arch))
	require.NoError(t, d.Delete(ctx, arch), "deleting a missing file is fine")
	_, err = d.Stat(ctx, arch)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = d.Open(ctx, arch, 0)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = d.Open(ctx, "s3://bucket/key", 0)
	require.Error(t, err)
	require.False(t, errors.Is(err, fs.ErrNotExist))
}
