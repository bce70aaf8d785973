package mongoarchive

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"

	"go.mongodb.org/mongo-driver/bson"
)

// Item is one step of an archive: a document, or the end of a collection.
type Item struct {
	Namespace Namespace
	// Document is the raw BSON document, exactly as stored. It is only
	// valid until the next call to Next (the reader reuses its buffer).
	Document bson.Raw
	// End marks the namespace's EOF header: no more documents follow for
	// it, and their CRC matched.
	End bool
	// Documents is, with End, how many documents the namespace had.
	Documents int64
}

// Reader reads an archive as a stream. Memory: one document at a time plus
// a CRC state per collection of the prelude.
type Reader struct {
	in      *bufio.Reader
	prelude Prelude
	buf     []byte
	lenBuf  [4]byte // kept here: a local would escape to the heap per document
	// block state: inBlock after a namespace header until its terminator
	inBlock bool
	current Namespace
	eofOpen bool // the current block is an EOF header (no documents may follow)
	states  map[Namespace]*nsState
	offset  int64 // bytes consumed, for error messages
	err     error // sticky
}

type nsState struct {
	crc   hash.Hash64
	docs  int64
	ended bool
}

// NewReader reads the magic number and the prelude from r.
func NewReader(r io.Reader) (*Reader, error) {
	ar := &Reader{in: bufio.NewReaderSize(r, 64<<10), states: map[Namespace]*nsState{}}
	var magic [4]byte
	if _, err := io.ReadFull(ar.in, magic[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrNotArchive
		}
		return nil, fmt.Errorf("reading the archive: %w", err)
	}
	ar.offset = 4
	if binary.LittleEndian.Uint32(magic[:]) != MagicNumber {
		return nil, ErrNotArchive
	}
	header, term, err := ar.readDocument()
	if err != nil {
		return nil, ar.eofIsTruncation(err)
	}
	if term {
		return nil, corrupt("the archive has no header")
	}
	if err := validateDocument(header); err != nil {
		return nil, err
	}
	if ar.prelude.Header, err = decodeHeader(header); err != nil {
		return nil, err
	}
	for {
		doc, term, err := ar.readDocument()
		if err != nil {
			return nil, ar.eofIsTruncation(err)
		}
		if term {
			break
		}
		if err := validateDocument(doc); err != nil {
			return nil, err
		}
		cm, err := decodeCollectionMetadata(doc)
		if err != nil {
			return nil, err
		}
		if _, dup := ar.states[cm.Namespace()]; dup {
			return nil, corrupt("the prelude lists %s twice", cm.Namespace())
		}
		ar.prelude.Collections = append(ar.prelude.Collections, cm)
		ar.states[cm.Namespace()] = &nsState{crc: crc64.New(crcTable)}
	}
	return ar, nil
}

// Prelude is the archive's header and collection list.
func (r *Reader) Prelude() Prelude { return r.prelude }

// Next returns the next document or end of collection. At the end of a
// complete archive it returns io.EOF; if the stream stops early, an error
// wrapping ErrTruncated. Errors are sticky.
func (r *Reader) Next() (Item, error) {
	if r.err != nil {
		return Item{}, r.err
	}
	it, err := r.next()
	if err != nil {
		r.err = err
	}
	return it, err
}

func (r *Reader) next() (Item, error) {
	for {
		start := r.offset
		doc, term, err := r.readDocument()
		if err == io.EOF && !r.inBlock {
			for _, c := range r.prelude.Collections {
				if !r.states[c.Namespace()].ended {
					return Item{}, fmt.Errorf("%w (%s has no end marker)", ErrTruncated, c.Namespace())
				}
			}
			return Item{}, io.EOF
		}
		if err != nil {
			return Item{}, r.eofIsTruncation(err)
		}
		switch {
		case term && !r.inBlock:
			return Item{}, corrupt("a block terminator without a block at byte %d", start)
		case term:
			r.inBlock, r.eofOpen = false, false
		case !r.inBlock:
			it, isEnd, err := r.openBlock(doc, start)
			if err != nil {
				return Item{}, err
			}
			if isEnd {
				return it, nil
			}
		case r.eofOpen:
			return Item{}, corrupt("documents follow the end marker of %s at byte %d", r.current, start)
		default:
			st := r.states[r.current]
			st.crc.Write(doc)
			st.docs++
			return Item{Namespace: r.current, Document: doc}, nil
		}
	}
}

// openBlock handles a namespace header; for an EOF header it returns the
// collection's End item after checking the CRC.
func (r *Reader) openBlock(doc bson.Raw, at int64) (Item, bool, error) {
	if err := validateDocument(doc); err != nil {
		return Item{}, false, err
	}
	h, err := decodeNamespaceHeader(doc)
	if err != nil {
		return Item{}, false, err
	}
	st, ok := r.states[h.ns]
	if !ok {
		return Item{}, false, corrupt("data for %s, which the prelude does not list, at byte %d", h.ns, at)
	}
	if st.ended {
		return Item{}, false, corrupt("data for %s after its end marker, at byte %d", h.ns, at)
	}
	r.inBlock, r.current, r.eofOpen = true, h.ns, h.eof
	if !h.eof {
		return Item{}, false, nil
	}
	if sum := int64(st.crc.Sum64()); sum != h.crc {
		return Item{}, false, corrupt("CRC mismatch for namespace %s: the documents give %d, the archive says %d", h.ns, sum, h.crc)
	}
	st.ended = true
	return Item{Namespace: h.ns, End: true, Documents: st.docs}, true, nil
}

// readDocument reads a length-prefixed document, or a terminator (term).
// A clean end of stream before the length is io.EOF.
func (r *Reader) readDocument() (bson.Raw, bool, error) {
	n, err := io.ReadFull(r.in, r.lenBuf[:])
	r.offset += int64(n)
	if err != nil {
		return nil, false, err
	}
	size := binary.LittleEndian.Uint32(r.lenBuf[:])
	if size == terminator {
		return nil, true, nil
	}
	if size < minDocumentSize || size > MaxDocumentSize {
		return nil, false, corrupt("a document of %d bytes at byte %d", size, r.offset-4)
	}
	if cap(r.buf) < int(size) {
		r.buf = make([]byte, size, max(int(size), 2*cap(r.buf)))
	}
	r.buf = r.buf[:size]
	copy(r.buf, r.lenBuf[:])
	n, err = io.ReadFull(r.in, r.buf[4:])
	r.offset += int64(n)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	}
	if r.buf[size-1] != 0 {
		return nil, false, corrupt("a document without its final zero byte at byte %d", r.offset-int64(size))
	}
	return bson.Raw(r.buf), false, nil
}

func (r *Reader) eofIsTruncation(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w (the stream stops at byte %d)", ErrTruncated, r.offset)
	}
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("reading the archive at byte %d: %w", r.offset, err)
}
