package archive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"backupd/domain"
)

// maxCollections bounds the per-collection summary a result carries (a
// MongoDB database has far fewer; an S3 bucket has none).
const maxCollections = 10000

// builtManifest is the manifest's entries in a temporary file plus the
// header, ready to be written inside the archive and beside it.
type builtManifest struct {
	header      ManifestHeader
	path        string // entries as JSON fragments ("{...},\n{...}")
	entriesSize int64
	collections []domain.CollectionSummary
}

// rewind is a resume found in the journal: entries recorded before it
// (at replay position ordinal) with an index of at least entriesDone are void.
type rewind struct {
	ordinal     int64
	entriesDone int64
}

// ManifestTempPattern names the manifest's temporary file (a worker that
// was killed leaves one behind; the worker sweeps old ones at start).
const ManifestTempPattern = "backupd-manifest-*.part"

// readRewinds is the first pass over the journal: where each resumed attempt
// rewound to. minAfter[k] is the smallest rewind target from rewind k on
// (minAfter[len(rewinds)] is the largest int64: nothing void).
func readRewinds(ctx context.Context, j Journal) (rewinds []rewind, minAfter []int64, err error) {
	var ordinal int64
	err = j.Replay(ctx, func(es []domain.ArchiveEntry) error {
		ordinal += int64(len(es))
		return nil
	}, func(cp Checkpoint) error {
		if cp.Resumed {
			rewinds = append(rewinds, rewind{ordinal: ordinal, entriesDone: cp.Position.EntriesDone})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading the journal for the manifest: %w", err)
	}
	minAfter = make([]int64, len(rewinds)+1)
	minAfter[len(rewinds)] = 1<<63 - 1
	for k := len(rewinds) - 1; k >= 0; k-- {
		minAfter[k] = min(rewinds[k].entriesDone, minAfter[k+1])
	}
	return rewinds, minAfter, nil
}

// buildManifest replays the journal — resolving rewinds, since a worker
// that died may have recorded entries past the checkpoint the next one
// resumed from — into a temporary file, never holding all entries.
func buildManifest(ctx context.Context, j Journal, header ManifestHeader, expected int64, tempDir string, log *slog.Logger) (*builtManifest, error) {
	rewinds, minAfter, err := readRewinds(ctx, j)
	if err != nil {
		return nil, err
	}

	f, err := os.CreateTemp(tempDir, ManifestTempPattern)
	if err != nil {
		return nil, fmt.Errorf("creating the manifest's temporary file: %w", err)
	}
	m := &builtManifest{header: header, path: f.Name()}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			m.remove()
		}
	}()
	w := bufio.NewWriterSize(f, 256<<10)
	counter := &countingWriter{w: w}

	// Pass 2: keep the valid entries, in order.
	var next, bytesTotal, docs, duplicates int64
	var haveDocs bool
	var ordinal int64
	k := 0
	err = j.Replay(ctx, func(es []domain.ArchiveEntry) error {
		for _, e := range es {
			for k < len(rewinds) && rewinds[k].ordinal <= ordinal {
				k++
			}
			ordinal++
			if e.Index >= minAfter[k] {
				continue // void: recorded by a worker whose progress was rewound
			}
			if e.Index < next {
				duplicates++
				continue
			}
			if e.Index > next {
				return fmt.Errorf("the journal misses archive entries %d to %d", next, e.Index-1)
			}
			line, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encoding manifest entry %q: %w", e.Key, err)
			}
			if next > 0 {
				counter.Write([]byte(",\n"))
			}
			counter.Write(line)
			next++
			bytesTotal += e.Size
			if e.Documents != nil {
				haveDocs = true
				docs += *e.Documents
				if len(m.collections) < maxCollections {
					m.collections = append(m.collections, domain.CollectionSummary{Name: e.Key, Documents: *e.Documents, Bytes: e.Size})
				}
			}
		}
		return counter.err
	}, func(Checkpoint) error { return nil })
	if err != nil {
		return nil, fmt.Errorf("building the manifest from the journal: %w", err)
	}
	if next != expected {
		return nil, fmt.Errorf("the journal holds %d archive entries but the archive has %d", next, expected)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("writing the manifest's temporary file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing the manifest's temporary file: %w", err)
	}
	if duplicates > 0 {
		log.Warn(fmt.Sprintf("the journal recorded %d entries twice; kept the first of each", duplicates))
	}
	m.entriesSize = counter.n
	m.header.Totals = ManifestTotals{Entries: next, Bytes: bytesTotal}
	if haveDocs {
		m.header.Totals.Documents = &docs
	}
	ok = true
	return m, nil
}

// open returns the manifest's JSON — inside the archive when archive is nil,
// beside it otherwise — with its size.
func (m *builtManifest) open(archive *ManifestArchive) (io.ReadCloser, int64, error) {
	h := m.header
	h.Archive = archive
	opening, err := manifestOpening(h)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(m.path)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the manifest's temporary file: %w", err)
	}
	r := io.MultiReader(bytes.NewReader(opening), io.NewSectionReader(f, 0, m.entriesSize), bytes.NewReader(manifestClosing))
	size := int64(len(opening)) + m.entriesSize + int64(len(manifestClosing))
	return readCloser{Reader: r, Closer: f}, size, nil
}

func (m *builtManifest) remove() error {
	if m == nil || m.path == "" {
		return nil
	}
	err := os.Remove(m.path)
	if os.IsNotExist(err) {
		err = nil
	}
	return err
}

type readCloser struct {
	io.Reader
	io.Closer
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
