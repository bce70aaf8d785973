package archive

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"backupd/domain"
)

func entriesRange(from, to int64, version string) []domain.ArchiveEntry {
	var es []domain.ArchiveEntry
	for i := from; i < to; i++ {
		es = append(es, domain.ArchiveEntry{Index: i, Key: fmt.Sprintf("k%03d", i), Path: fmt.Sprintf("p/k%03d", i), Size: i, SHA256: version})
	}
	return es
}

func buildFrom(t *testing.T, j *fakeJournal, expected int64) (*builtManifest, []ManifestEntry, error) {
	t.Helper()
	m, err := buildManifest(context.Background(), j, ManifestHeader{FormatVersion: 1, Format: "test/1"}, expected, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { m.remove() })
	r, _, err := m.open(nil)
	require.NoError(t, err)
	defer r.Close()
	var got []ManifestEntry
	_, err = DecodeManifest(r, func(e ManifestEntry) error { got = append(got, e); return nil })
	require.NoError(t, err)
	return m, got, nil
}

// Entries a dead worker recorded past the checkpoint the next one resumed
// from are void; the manifest keeps the later ones.
func TestBuildManifestResolvesRewinds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	j := &fakeJournal{}
	require.NoError(t, j.RecordEntries(ctx, entriesRange(0, 10, "first")))
	require.NoError(t, j.Checkpoint(ctx, Checkpoint{Reason: "part", Position: Position{EntriesDone: 5}}))
	// the worker died; the next resumed from EntriesDone 5
	require.NoError(t, j.Checkpoint(ctx, Checkpoint{Resumed: true, Reason: "resume", Position: Position{EntriesDone: 5}}))
	require.NoError(t, j.RecordEntries(ctx, entriesRange(5, 13, "second")))
	require.NoError(t, j.Checkpoint(ctx, Checkpoint{Resumed: true, Reason: "resume", Position: Position{EntriesDone: 8}}))
	require.NoError(t, j.RecordEntries(ctx, entriesRange(8, 15, "third")))

	m, got, err := buildFrom(t, j, 15)
	require.NoError(t, err)
	require.Len(t, got, 15)
	for i, e := range got {
		require.Equal(t, int64(i), e.Index)
		want := map[bool]string{true: "first"}[i < 5]
		if i >= 5 && i < 8 {
			want = "second"
		} else if i >= 8 {
			want = "third"
		}
		require.Equal(t, want, e.SHA256, "entry %d", i)
	}
	require.Equal(t, int64(15), m.header.Totals.Entries)
	require.Equal(t, int64(14*15/2), m.header.Totals.Bytes)
}

func TestBuildManifestRefusesGapsAndCountMismatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	j := &fakeJournal{}
	require.NoError(t, j.RecordEntries(ctx, entriesRange(0, 3, "x")))
	require.NoError(t, j.RecordEntries(ctx, entriesRange(4, 6, "x")))
	_, _, err := buildFrom(t, j, 6)
	require.ErrorContains(t, err, "misses archive entries 3 to 3")

	j = &fakeJournal{}
	require.NoError(t, j.RecordEntries(ctx, entriesRange(0, 3, "x")))
	require.NoError(t, j.RecordEntries(ctx, entriesRange(2, 3, "dup"))) // a retried append
	_, got, err := buildFrom(t, j, 3)
	require.NoError(t, err)
	require.Equal(t, "x", got[2].SHA256)
	_, _, err = buildFrom(t, j, 4)
	require.ErrorContains(t, err, "holds 3 archive entries but the archive has 4")
}

func TestManifestDecoding(t *testing.T) {
	t.Parallel()
	h := ManifestHeader{FormatVersion: 1, Format: "s3-bucket-tar-gz/1", Bucket: "b", Totals: ManifestTotals{Entries: 2, Bytes: 3},
		Archive: &ManifestArchive{Name: "x.tar.gz", Size: 10, SHA256: "ab"}}
	opening, err := manifestOpening(h)
	require.NoError(t, err)
	doc := string(opening) + `{"index":0,"key":"a","path":"p/a","size":1,"sha256":"00"},` + "\n" +
		`{"index":1,"key":"b","path":"p/b","size":2,"sha256":"11"}` + string(manifestClosing)

	var keys []string
	got, err := DecodeManifest(strings.NewReader(doc), func(e ManifestEntry) error { keys = append(keys, e.Key); return nil })
	require.NoError(t, err)
	require.Equal(t, h, got)
	require.Equal(t, []string{"a", "b"}, keys)

	// The header alone, without reading the entries.
	r := &countingReader{r: strings.NewReader(doc + strings.Repeat(" ", 1<<20))}
	got, err = ReadManifestHeader(r)
	require.NoError(t, err)
	require.Equal(t, h, got)
	require.Less(t, r.n, int64(1<<20), "read the whole document for the header")

	for name, bad := range map[string]string{
		"not json":      "hello",
		"cut short":     doc[:len(doc)/2],
		"newer version": strings.Replace(doc, `"format_version":1`, `"format_version":9`, 1),
		"no version":    `{"entries":[]}`,
		"no entries":    `{"format_version":1}`,
	} {
		_, err := DecodeManifest(strings.NewReader(bad), nil)
		require.Error(t, err, name)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// A big manifest is spooled to a temporary file and iterated, never held.
func TestReadManifestSpoolsBigManifests(t *testing.T) {
	t.Parallel()
	const n = spoolInMemory*2 + 7
	var buf bytes.Buffer
	opening, _ := manifestOpening(ManifestHeader{FormatVersion: 1, Totals: ManifestTotals{Entries: n}})
	buf.Write(opening)
	for i := range n {
		if i > 0 {
			buf.WriteString(",\n")
		}
		fmt.Fprintf(&buf, `{"index":%d,"key":"k%d","path":"p","size":%d,"sha256":"x"}`, i, i, i)
	}
	buf.Write(manifestClosing)
	m, err := ReadManifest(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(n), m.Len())
	require.Nil(t, m.mem, "entries stay on disk")
	spool := m.file.Name()
	for range 2 {
		var i int64
		for e, err := range m.Entries() {
			require.NoError(t, err)
			require.Equal(t, i, e.Index)
			i++
		}
		require.Equal(t, int64(n), i)
	}
	require.NoError(t, m.Close())
	_, err = os.Stat(spool)
	require.True(t, os.IsNotExist(err), "the spool file is removed")
}
