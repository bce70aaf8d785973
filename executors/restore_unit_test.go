package executors

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"backupd/domain"
	"backupd/executors/archive"

	"github.com/stretchr/testify/require"
)

// Unit tests of the restore's small pieces; the restore itself is tested
// end to end against the peers in cmd/backupd (restore_*_test.go).

func TestMongoHosts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ uri, want string }{
		{"mongodb://admin:s3cret@127.0.0.1:27017/?authSource=admin", "127.0.0.1:27017"},
		{"mongodb://127.0.0.1:27017", "127.0.0.1:27017"},
		{"mongodb://u:p@A.example:1,b.example:2/db?replicaSet=rs", "a.example:1,b.example:2"},
		{"mongodb+srv://u:p%40x@cluster.example/", "cluster.example"},
		{"not a uri", ""},
	} {
		require.Equal(t, c.want, mongoHosts(c.uri), c.uri)
	}
}

func TestEstimateRestore(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		result domain.BackupResult
		bytes  int64
		want   int64
		basis  string
	}{
		{"the backup's own speed", domain.BackupResult{TotalBytes: 100 << 20, StartedAt: at, FinishedAt: at.Add(10 * time.Second)}, 100 << 20, restoreSetup + 20, "backup's own speed (10.0 MiB/s"},
		{"no timing: the default", domain.BackupResult{}, 400 << 20, restoreSetup + 20, "assumes 40.0 MiB/s"},
		{"a paused backup is clamped", domain.BackupResult{TotalBytes: 1 << 20, StartedAt: at, FinishedAt: at.Add(time.Hour)}, 1 << 20, restoreSetup + 2, "1.0 MiB/s"},
		{"nothing to restore", domain.BackupResult{}, 0, restoreSetup, "assumes"},
	} {
		secs, basis := estimateRestore(&c.result, c.bytes)
		require.Equal(t, c.want, secs, c.name)
		require.Contains(t, basis, c.basis, c.name)
	}
}

func TestMongoReport(t *testing.T) {
	t.Parallel()
	ok := []domain.CollectionCheck{
		{Name: "customers", ExpectedDocs: 50, ActualDocs: 50, HashesCompared: 50, OK: true},
		{Name: "empty", OK: true},
	}
	r := mongoReport(ok, 0)
	require.True(t, r.Verified)
	require.Equal(t, int64(2), r.Checked)
	require.Contains(t, r.Summary, "all 2 collections verified: 50 documents, every document's content identical")

	sampled := append([]domain.CollectionCheck{{Name: "events", ExpectedDocs: 3_000_000, ActualDocs: 3_000_000, HashesCompared: 700_000, OK: true}}, ok...)
	require.Contains(t, mongoReport(sampled, 0).Summary, "deterministic sample")

	bad := append([]domain.CollectionCheck{{Name: "orders", ExpectedDocs: 10, ActualDocs: 9, HashesCompared: 10, HashMismatches: 1}}, ok...)
	r = mongoReport(bad, 1)
	require.False(t, r.Verified)
	require.Equal(t, []domain.Mismatch{{Key: "orders", Reason: "9 documents, the archive holds 10; 1 documents differ from the archive, are missing or are not in it"}}, r.Mismatched)
	require.Equal(t, "1 of 3 collections differ from the archive; mongorestore could not insert 1 documents", r.Summary)
}

// endCheck yields data, then fails at its end like Extract's content
// reader when the bytes differ from the manifest.
type endCheck struct {
	r   io.Reader
	err error
}

func (e *endCheck) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestReadWhole(t *testing.T) {
	t.Parallel()
	body, err := readWhole(iotest.OneByteReader(strings.NewReader("hello")), 5)
	require.NoError(t, err)
	require.Equal(t, "hello", string(body))

	empty, err := readWhole(strings.NewReader(""), 0)
	require.NoError(t, err)
	require.Empty(t, empty)

	_, err = readWhole(strings.NewReader("hell"), 5)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)

	_, err = readWhole(strings.NewReader("hello!"), 5)
	require.ErrorContains(t, err, "more than the 5 bytes")

	damaged := &archive.ArchiveError{Problem: archive.ProblemEntrySHA256, Detail: "differs"}
	_, err = readWhole(&endCheck{r: strings.NewReader("hello"), err: damaged}, 5)
	require.ErrorIs(t, err, damaged, "the check at the end is seen before anything is sent")
}

// manifestOnly is a destination that only serves files by location.
type manifestOnly struct {
	archive.Destination
	files map[archive.Location][]byte
	fail  error
}

func (d manifestOnly) Open(_ context.Context, loc archive.Location, offset int64) (io.ReadCloser, error) {
	b, ok := d.files[loc]
	if !ok {
		return nil, errors.New("no such file")
	}
	var r io.Reader = bytes.NewReader(b[offset:])
	if d.fail != nil {
		r = io.MultiReader(bytes.NewReader(b[:len(b)/2]), iotest.ErrReader(d.fail))
	}
	return io.NopCloser(r), nil
}

func TestOpenManifest(t *testing.T) {
	t.Parallel()
	manifest := []byte(`{"format_version":1,"format":"s3-bucket-tar-gz/1","service":"s3","bucket":"b","path_prefix":"b/",` +
		`"totals":{"entries":1,"bytes":3},"archive":{"name":"a.tar.gz","location":"s3://d/a.tar.gz","size":10,"sha256":"abcd","compression":"gzip"},"entries":[` + "\n" +
		`{"index":0,"key":"k","path":"b/k","size":3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}` + "\n]}\n")
	sum := sha256.Sum256(manifest)
	result := domain.BackupResult{ManifestLocation: "s3://d/a.tar.gz.manifest.json", ManifestSHA256: hex.EncodeToString(sum[:]), ArchiveSize: 10, ArchiveSHA256: "ABCD"}
	dest := manifestOnly{files: map[archive.Location][]byte{archive.Location(result.ManifestLocation): manifest}}

	m, err := openManifest(context.Background(), dest, &result)
	require.NoError(t, err)
	require.Equal(t, int64(1), m.Len())
	walk := &manifestWalk{m: m}
	var keys []string
	for k := range walk.keys() {
		keys = append(keys, k)
	}
	require.NoError(t, walk.err)
	require.Equal(t, []string{"k"}, keys)
	require.NoError(t, m.Close())

	var ae *archive.ArchiveError
	altered := bytes.Replace(manifest, []byte(`"size":3,`), []byte(`"size":4,`), 1)
	_, err = openManifest(context.Background(), manifestOnly{files: map[archive.Location][]byte{archive.Location(result.ManifestLocation): altered}}, &result)
	require.ErrorAs(t, err, &ae)
	require.Equal(t, archive.ProblemManifest, ae.Problem)
	require.Contains(t, err.Error(), "the backup recorded "+result.ManifestSHA256)

	other := result
	other.ArchiveSHA256 = "ffff"
	_, err = openManifest(context.Background(), dest, &other)
	require.ErrorAs(t, err, &ae)
	require.Contains(t, err.Error(), "describes an archive of 10 bytes (SHA-256 abcd)")

	cut := errors.New("connection reset")
	_, err = openManifest(context.Background(), manifestOnly{files: dest.files, fail: cut}, &result)
	require.ErrorIs(t, err, cut, "a broken download is not damage")
	require.False(t, errors.As(err, &ae))
}
