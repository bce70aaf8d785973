package executors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"strings"

	"backupd/domain"
	"backupd/executors/archive"
)

// openManifest reads the manifest stored beside an archive (entries beyond
// a few thousand are spooled to a temporary file: Close it) and checks it
// against what the backup recorded: the manifest's own SHA-256, and the
// archive it describes. A manifest that differs is an *archive.ArchiveError
// (problem "manifest"); a failure to read it is returned as it is.
func openManifest(ctx context.Context, dest archive.Destination, r *domain.BackupResult) (*archive.Manifest, error) {
	rc, err := dest.Open(ctx, archive.Location(r.ManifestLocation), 0)
	if err != nil {
		return nil, fmt.Errorf("reading the manifest at %s: %w", r.ManifestLocation, err)
	}
	defer rc.Close()
	h := sha256.New()
	src := &faultReader{r: io.TeeReader(rc, h)}
	m, err := archive.ReadManifest(src)
	if err == nil {
		_, err = io.Copy(io.Discard, src) // the rest counts in the SHA-256
	}
	if err != nil {
		m.Close()
		if src.err != nil {
			return nil, fmt.Errorf("reading the manifest at %s: %w", r.ManifestLocation, src.err)
		}
		return nil, &archive.ArchiveError{Problem: archive.ProblemManifest, Detail: "the manifest beside the archive is unreadable", Err: err}
	}
	bad := func(detail string) (*archive.Manifest, error) {
		m.Close()
		return nil, &archive.ArchiveError{Problem: archive.ProblemManifest, Detail: detail}
	}
	if sum := hex.EncodeToString(h.Sum(nil)); r.ManifestSHA256 != "" && !strings.EqualFold(sum, r.ManifestSHA256) {
		return bad(fmt.Sprintf("the manifest beside the archive has SHA-256 %s; the backup recorded %s", sum, r.ManifestSHA256))
	}
	switch {
	case m.Archive == nil:
		return bad("the manifest beside the archive does not describe the archive")
	case !strings.EqualFold(m.Archive.SHA256, r.ArchiveSHA256) || m.Archive.Size != r.ArchiveSize:
		return bad(fmt.Sprintf("the manifest describes an archive of %d bytes (SHA-256 %s); the backup recorded %d bytes (SHA-256 %s)",
			m.Archive.Size, m.Archive.SHA256, r.ArchiveSize, r.ArchiveSHA256))
	case m.Totals.Entries != m.Len():
		return bad(fmt.Sprintf("the manifest lists %d entries but counts %d", m.Len(), m.Totals.Entries))
	}
	return m, nil
}

// faultReader remembers a read error, so a broken download is not taken
// for a damaged manifest.
type faultReader struct {
	r   io.Reader
	err error
}

func (f *faultReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF {
		f.err = err
	}
	return n, err
}

// manifestWalk iterates a manifest's entries for the service packages,
// which take plain sequences; an unreadable spooled entry ends the walk
// and is kept in err.
type manifestWalk struct {
	m   *archive.Manifest
	err error
}

func (w *manifestWalk) entries() iter.Seq[domain.ArchiveEntry] {
	return func(yield func(domain.ArchiveEntry) bool) {
		for e, err := range w.m.Entries() {
			if err != nil {
				w.err = err
				return
			}
			if !yield(e) {
				return
			}
		}
	}
}

func (w *manifestWalk) keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		for e := range w.entries() {
			if !yield(e.Key) {
				return
			}
		}
	}
}
