package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func corruptionFixture(t *testing.T) (archive, sidecar []byte) {
	t.Helper()
	rig := newRig(newFakeSource(trickyObjects()...), 40<<10)
	out := mustComplete(t, rig.params())
	return rig.archive(t, out), rig.dest.file(out.Result.ArchiveName + ".manifest.json")
}

func readSidecar(t *testing.T, b []byte) *Manifest {
	t.Helper()
	m, err := ReadManifest(bytes.NewReader(b))
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func problemOf(t *testing.T, err error) Problem {
	t.Helper()
	var ae *ArchiveError
	require.ErrorAs(t, err, &ae, "expected an *ArchiveError, got %v", err)
	return ae.Problem
}

func TestExtractDetectsFlippedBytes(t *testing.T) {
	t.Parallel()
	archive, sidecar := corruptionFixture(t)
	m := readSidecar(t, sidecar)
	seen := map[Problem]int{}
	step := max(1, len(archive)/200)
	for off := 0; off < len(archive); off += step {
		bad := bytes.Clone(archive)
		bad[off] ^= 0x5a
		_, _, err := extractAll(t, bad, m)
		require.Error(t, err, "a flipped byte at %d went unnoticed", off)
		p := problemOf(t, err)
		seen[p]++
		require.Contains(t, err.Error(), string(p))
	}
	t.Logf("problems named: %v", seen)
	require.Positive(t, seen[ProblemGzip])
}

// Without the manifest beside it, damage to compressed data is still caught
// (gzip CRC, tar, the manifest inside).
func TestExtractDetectsDamageWithoutSidecar(t *testing.T) {
	t.Parallel()
	archive, _ := corruptionFixture(t)
	for _, frac := range []float64{0.1, 0.3, 0.5, 0.7, 0.9, 0.99} {
		off := int(float64(len(archive)) * frac)
		bad := bytes.Clone(archive)
		bad[off] ^= 0xff
		_, _, err := extractAll(t, bad, nil)
		require.Error(t, err, "offset %d", off)
		problemOf(t, err)
	}
}

func TestExtractDetectsTruncation(t *testing.T) {
	t.Parallel()
	archive, sidecar := corruptionFixture(t)
	m := readSidecar(t, sidecar)
	for _, n := range []int{0, 5, 30, len(archive) / 3, len(archive) / 2, len(archive) - 100, len(archive) - 1} {
		for _, manifest := range []*Manifest{m, nil} {
			_, _, err := extractAll(t, archive[:n], manifest)
			require.Error(t, err, "cut at %d of %d", n, len(archive))
			p := problemOf(t, err)
			require.Contains(t, []Problem{ProblemTruncated, ProblemGzip}, p, "cut at %d: %v", n, err)
		}
	}
}

// Cut exactly at a member boundary, a truncated archive is valid gzip and
// tar; what is missing is the manifest at the end.
func TestExtractDetectsCutAtMemberBoundary(t *testing.T) {
	t.Parallel()
	rig := newRig(newFakeSource(trickyObjects()...), 40<<10)
	var marks []int64
	out := mustComplete(t, rig.params())
	archive := rig.archive(t, out)
	for _, cp := range rig.journal.checkpoints() {
		marks = append(marks, cp.Position.CompressedBytes)
	}
	require.NotEmpty(t, marks)
	for _, n := range marks {
		_, _, err := extractAll(t, archive[:n], nil)
		require.Equal(t, ProblemTruncated, problemOf(t, err), "cut at %d", n)
	}
}

func TestExtractDetectsTrailingGarbage(t *testing.T) {
	t.Parallel()
	archive, sidecar := corruptionFixture(t)
	for _, junk := range []string{"garbage", "more garbage than a gzip header"} {
		bad := append(bytes.Clone(archive), []byte(junk)...)
		_, _, err := extractAll(t, bad, readSidecar(t, sidecar))
		require.Contains(t, []Problem{ProblemGzip, ProblemTruncated}, problemOf(t, err))
	}
}

// editSidecar rewrites the manifest beside the archive.
func editSidecar(t *testing.T, sidecar []byte, edit func(h *ManifestHeader, entries []ManifestEntry) []ManifestEntry) *Manifest {
	t.Helper()
	var entries []ManifestEntry
	h, err := DecodeManifest(bytes.NewReader(sidecar), func(e ManifestEntry) error { entries = append(entries, e); return nil })
	require.NoError(t, err)
	entries = edit(&h, entries)
	opening, err := manifestOpening(h)
	require.NoError(t, err)
	var buf bytes.Buffer
	buf.Write(opening)
	for i, e := range entries {
		if i > 0 {
			buf.WriteString(",\n")
		}
		b, _ := json.Marshal(e)
		buf.Write(b)
	}
	buf.Write(manifestClosing)
	return readSidecar(t, buf.Bytes())
}

func TestExtractEntryDiffersFromManifest(t *testing.T) {
	t.Parallel()
	archive, sidecar := corruptionFixture(t)
	m := editSidecar(t, sidecar, func(h *ManifestHeader, es []ManifestEntry) []ManifestEntry {
		i := indexOf(es, "big.bin")
		es[i].SHA256 = fmt.Sprintf("%064x", 1)
		return es
	})
	var readErr error
	var delivered int64
	_, err := Extract(context.Background(), bytes.NewReader(archive), ExtractParams{
		Manifest: m,
		OnEntry: func(ctx context.Context, e ExtractedEntry, content io.Reader) error {
			if e.Key != "big.bin" {
				_, err := io.Copy(io.Discard, content)
				return err
			}
			// Like an upload with a content length: read exactly Size.
			delivered, readErr = io.CopyN(io.Discard, content, e.Size)
			return readErr
		},
	})
	require.Equal(t, ProblemEntrySHA256, problemOf(t, err))
	require.Error(t, readErr, "the reader handed to OnEntry fails at the end")
	require.Less(t, delivered, int64(5*16<<10+777), "the last bytes of a wrong object are withheld")
	var ae *ArchiveError
	require.True(t, errors.As(readErr, &ae))
	require.Equal(t, "big.bin", ae.Entry)
}

func TestExtractMissingAndExtraEntries(t *testing.T) {
	t.Parallel()
	archive, sidecar := corruptionFixture(t)
	more := editSidecar(t, sidecar, func(h *ManifestHeader, es []ManifestEntry) []ManifestEntry {
		return append(es, ManifestEntry{Index: int64(len(es)), Key: "ghost", Path: "photos/ghost", Size: 1})
	})
	_, _, err := extractAll(t, archive, more)
	require.Equal(t, ProblemMissing, problemOf(t, err))
	require.ErrorContains(t, err, "ghost")

	fewer := editSidecar(t, sidecar, func(h *ManifestHeader, es []ManifestEntry) []ManifestEntry {
		return es[:len(es)-1]
	})
	_, _, err = extractAll(t, archive, fewer)
	require.Equal(t, ProblemExtra, problemOf(t, err))

	renamed := editSidecar(t, sidecar, func(h *ManifestHeader, es []ManifestEntry) []ManifestEntry {
		es[2].Key = "other"
		return es
	})
	_, _, err = extractAll(t, archive, renamed)
	require.Equal(t, ProblemEntry, problemOf(t, err))
}

func TestExtractArchiveHashAndSize(t *testing.T) {
	t.Parallel()
	archive, sidecar := corruptionFixture(t)
	wrongSHA := editSidecar(t, sidecar, func(h *ManifestHeader, es []ManifestEntry) []ManifestEntry {
		h.Archive.SHA256 = fmt.Sprintf("%064x", 7)
		return es
	})
	_, _, err := extractAll(t, archive, wrongSHA)
	require.Equal(t, ProblemSHA256, problemOf(t, err))
	wrongSize := editSidecar(t, sidecar, func(h *ManifestHeader, es []ManifestEntry) []ManifestEntry {
		h.Archive.Size++
		return es
	})
	_, _, err = extractAll(t, archive, wrongSize)
	require.Equal(t, ProblemSize, problemOf(t, err))
}

type failingSource struct{ r io.Reader }

func (f *failingSource) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset by peer")
	}
	return n, err
}

// A download that breaks is reported as such, not as a damaged archive.
func TestExtractReadErrorIsNotDamage(t *testing.T) {
	t.Parallel()
	archive, _ := corruptionFixture(t)
	_, err := Extract(context.Background(), &failingSource{r: bytes.NewReader(archive[:len(archive)/2])}, ExtractParams{})
	require.ErrorContains(t, err, "connection reset by peer")
	var ae *ArchiveError
	require.False(t, errors.As(err, &ae), "a read error is not a damaged archive: %v", err)
}
