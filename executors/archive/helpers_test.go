package archive

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"backupd/domain"
	"backupd/executors/testsupport/logbuf"
)

var testNow = time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)

type testRig struct {
	src     *fakeSource
	dest    *fakeDest
	journal *fakeJournal
	log     *logbuf.Buffer
	// blockSize of the tar blocks (default 16 KiB).
	blockSize int
}

func newRig(src *fakeSource, partSize int) *testRig {
	return &testRig{src: src, dest: newFakeDest(partSize), journal: &fakeJournal{}, log: &logbuf.Buffer{}}
}

func (r *testRig) params() BackupParams {
	return BackupParams{
		Source: r.src, Destination: r.dest, Journal: r.journal,
		Logger:      slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         func() time.Time { return testNow },
		OperationID: uuid.MustParse("6f1c9a52-8d7e-4b1a-9c3e-0a2b4c6d8e10"),
		SourceID:    uuid.MustParse("11111111-2222-4333-8444-555555555555"),
		SourceName:  "Photos bucket", SourceKind: domain.KindS3Source,
		ArchiveName:      "photos-20261127T101500Z-6f1c9a52.tar.gz",
		CompressWorkers:  2,
		CompressionLevel: 1,
		BlockSize:        cmp.Or(r.blockSize, 16<<10),
		PrefetchEntries:  4,
		PrefetchBytes:    64 << 10,
		CheckpointEvery:  time.Nanosecond,
		SuspendEvery:     -1,
	}
}

func (r *testRig) archive(t *testing.T, out BackupOutcome) []byte {
	t.Helper()
	b := r.dest.file(out.Result.ArchiveName)
	require.NotNil(t, b, "archive %s not at the destination", out.Result.ArchiveName)
	return b
}

func (r *testRig) sidecar(t *testing.T, out BackupOutcome) *Manifest {
	t.Helper()
	b := r.dest.file(out.Result.ArchiveName + ".manifest.json")
	require.NotNil(t, b, "no manifest beside the archive")
	m, err := ReadManifest(bytes.NewReader(b))
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// gunzip decompresses all members with the standard library's reader.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

// extractedObject is what Extract handed over for one key.
type extractedObject struct {
	entry   ExtractedEntry
	content []byte
}

func extractAll(t *testing.T, archive []byte, m *Manifest) (map[string]extractedObject, ExtractResult, error) {
	t.Helper()
	got := map[string]extractedObject{}
	res, err := Extract(context.Background(), bytes.NewReader(archive), ExtractParams{
		Manifest: m,
		OnEntry: func(ctx context.Context, e ExtractedEntry, content io.Reader) error {
			b, err := io.ReadAll(content)
			if err != nil {
				return err
			}
			got[e.Key] = extractedObject{entry: e, content: b}
			return nil
		},
	})
	return got, res, err
}

// gnuTarExtract runs `tar -xzf` into a fresh directory.
func gnuTarExtract(t *testing.T, archive []byte) string {
	t.Helper()
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("GNU tar is not installed")
	}
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "a.tar.gz")
	require.NoError(t, os.WriteFile(file, archive, 0o600))
	cmd := exec.Command("tar", "-xzf", file, "-C", dir) // plain, as a user would
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "tar -xzf: %s", out)
	return dir
}

func gnuTarList(t *testing.T, archive []byte) []string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "a.tar.gz")
	require.NoError(t, os.WriteFile(file, archive, 0o600))
	out, err := exec.Command("tar", "--warning=no-unknown-keyword", "-tzvf", file).CombinedOutput()
	require.NoError(t, err, "tar -tzvf: %s", out)
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

func entriesOf(t *testing.T, m *Manifest) []ManifestEntry {
	t.Helper()
	var out []ManifestEntry
	for e, err := range m.Entries() {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

func runBackup(t *testing.T, p BackupParams) (BackupOutcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return Backup(ctx, p)
}

func mustComplete(t *testing.T, p BackupParams) BackupOutcome {
	t.Helper()
	out, err := runBackup(t, p)
	require.NoError(t, err)
	return out
}
