package mongoarchive

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc64"
	"io"
	"sort"
	"strings"
)

// Writer writes an archive as a stream, laid out as mongodump lays it out:
// a namespace header only when the namespace changes, and at the end of
// each collection a terminator, the EOF header with the CRC and another
// terminator. Documents are written through as they come.
type Writer struct {
	out     *bufio.Writer
	prelude Prelude
	current Namespace
	inBlock bool
	states  map[Namespace]*nsState
	err     error
}

// NewWriter writes the magic number and prelude to w. Every collection
// written later must be listed in p.
func NewWriter(w io.Writer, p Prelude) (*Writer, error) {
	aw := &Writer{out: bufio.NewWriterSize(w, 64<<10), prelude: p, states: map[Namespace]*nsState{}}
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], MagicNumber)
	aw.write(magic[:])
	h, err := encodeHeader(p.Header)
	if err != nil {
		return nil, err
	}
	aw.write(h)
	for _, c := range p.Collections {
		if _, dup := aw.states[c.Namespace()]; dup {
			return nil, fmt.Errorf("the prelude lists %s twice", c.Namespace())
		}
		aw.states[c.Namespace()] = &nsState{crc: crc64.New(crcTable)}
		doc, err := encodeCollectionMetadata(c)
		if err != nil {
			return nil, err
		}
		aw.write(doc)
	}
	aw.writeTerminator()
	return aw, aw.err
}

// WriteDocument appends one raw BSON document of ns.
func (w *Writer) WriteDocument(ns Namespace, doc []byte) error {
	st, err := w.state(ns)
	if err != nil {
		return err
	}
	if len(doc) < minDocumentSize || int(binary.LittleEndian.Uint32(doc)) != len(doc) || len(doc) > MaxDocumentSize {
		return fmt.Errorf("writing %s: not a single BSON document (%d bytes)", ns, len(doc))
	}
	w.switchTo(ns)
	st.crc.Write(doc)
	st.docs++
	w.write(doc)
	return w.err
}

// EndCollection ends ns: no documents of it may follow. A collection
// without documents still gets its (empty) block, as mongodump writes it.
func (w *Writer) EndCollection(ns Namespace) error {
	st, err := w.state(ns)
	if err != nil {
		return err
	}
	w.switchTo(ns)
	w.writeTerminator()
	w.inBlock = false
	w.current = Namespace{}
	h, err := encodeNamespaceHeader(ns, true, int64(st.crc.Sum64()))
	if err != nil {
		return err
	}
	w.write(h)
	w.writeTerminator()
	st.ended = true
	return w.err
}

// Close flushes. Every collection of the prelude must have been ended.
// It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	var open []string
	for ns, st := range w.states {
		if !st.ended {
			open = append(open, ns.String())
		}
	}
	if len(open) > 0 {
		sort.Strings(open)
		return fmt.Errorf("closing the archive: collections not ended: %s", strings.Join(open, ", "))
	}
	return w.out.Flush()
}

func (w *Writer) state(ns Namespace) (*nsState, error) {
	if w.err != nil {
		return nil, w.err
	}
	st, ok := w.states[ns]
	if !ok {
		return nil, fmt.Errorf("writing %s: the prelude does not list it", ns)
	}
	if st.ended {
		return nil, fmt.Errorf("writing %s: the collection was already ended", ns)
	}
	return st, nil
}

// switchTo opens a block for ns unless it is the current one.
func (w *Writer) switchTo(ns Namespace) {
	if w.inBlock && w.current == ns {
		return
	}
	if w.inBlock {
		w.writeTerminator()
	}
	h, err := encodeNamespaceHeader(ns, false, 0)
	if err != nil {
		w.err = err
		return
	}
	w.write(h)
	w.inBlock, w.current = true, ns
}

func (w *Writer) writeTerminator() {
	var t [4]byte
	binary.LittleEndian.PutUint32(t[:], terminator)
	w.write(t[:])
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	if _, err := w.out.Write(b); err != nil {
		w.err = fmt.Errorf("writing the archive: %w", err)
	}
}
