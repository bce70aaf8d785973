package archive

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
)

// spoolInMemory is how many entries a Manifest keeps in memory before it
// moves them to a temporary file.
const spoolInMemory = 4096

// Manifest is a decoded manifest: its header, and its entries iterable
// without holding them all (beyond a few thousand they live in a temporary
// file). Close removes that file.
type Manifest struct {
	ManifestHeader
	count int64
	mem   []ManifestEntry
	file  *os.File // JSON lines, when spooled
}

// ReadManifest decodes a whole manifest (as stored beside an archive, or
// read from inside it).
func ReadManifest(r io.Reader) (*Manifest, error) {
	m := &Manifest{}
	var w *bufio.Writer
	var enc *json.Encoder
	hdr, err := DecodeManifest(r, func(e ManifestEntry) error {
		m.count++
		if m.file == nil && len(m.mem) < spoolInMemory {
			m.mem = append(m.mem, e)
			return nil
		}
		if m.file == nil {
			f, err := os.CreateTemp("", "backupd-manifest-read-*.jsonl")
			if err != nil {
				return fmt.Errorf("spooling the manifest's entries: %w", err)
			}
			m.file = f
			w = bufio.NewWriterSize(f, 64<<10)
			enc = json.NewEncoder(w)
			for _, old := range m.mem {
				if err := enc.Encode(old); err != nil {
					return fmt.Errorf("spooling the manifest's entries: %w", err)
				}
			}
			m.mem = nil
		}
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("spooling the manifest's entries: %w", err)
		}
		return nil
	})
	if err == nil && w != nil {
		err = w.Flush()
	}
	if err != nil {
		m.Close()
		return nil, err
	}
	m.ManifestHeader = hdr
	return m, nil
}

// Len is the number of entries.
func (m *Manifest) Len() int64 { return m.count }

// Entries yields the entries in archive order. It may be iterated several
// times; an error ends the iteration.
func (m *Manifest) Entries() iter.Seq2[ManifestEntry, error] {
	return func(yield func(ManifestEntry, error) bool) {
		if m.file == nil {
			for _, e := range m.mem {
				if !yield(e, nil) {
					return
				}
			}
			return
		}
		dec := json.NewDecoder(bufio.NewReaderSize(io.NewSectionReader(m.file, 0, 1<<62), 64<<10))
		for i := int64(0); i < m.count; i++ {
			var e ManifestEntry
			if err := dec.Decode(&e); err != nil {
				yield(e, fmt.Errorf("reading the spooled manifest: %w", err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// Close removes the temporary file, if any.
func (m *Manifest) Close() error {
	if m == nil || m.file == nil {
		return nil
	}
	name := m.file.Name()
	m.file.Close()
	m.file = nil
	return os.Remove(name)
}
