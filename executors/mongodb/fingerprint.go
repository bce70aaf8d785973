package mongodb

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"go.mongodb.org/mongo-driver/bson"

	"backupd/executors/mongodb/mongoarchive"
)

// DefaultHashLimit is how many documents per collection a verification
// compares one by one. Above it, it compares a deterministic sample: the
// documents whose _id hash starts with k zero bits, k the smallest that
// keeps the sample at or under the limit (so about half to all of the
// limit). Memory: 32 bytes per compared document, about 32 MiB at most,
// one collection at a time.
const DefaultHashLimit = 1_000_000

const recordSize = 32 // 16 bytes of SHA-256(_id) + 16 bytes of SHA-256(document)

type record [recordSize]byte

// Fingerprint is what a verification compares a restored collection with:
// a SHA-256 per document of the archive, keyed by the document's _id (its
// type and raw BSON value: the same identity as its canonical Extended
// JSON). The hashes live in a file until Release.
type Fingerprint struct {
	Namespace mongoarchive.Namespace // as in the archive
	Documents int64                  // documents the archive holds
	// SampleBits is 0 when every document is in the fingerprint, else k:
	// only documents whose _id hash starts with k zero bits are.
	SampleBits uint8
	Sampled    int64 // documents in the fingerprint
	path       string
}

// Release deletes the fingerprint's file.
func (f *Fingerprint) Release() {
	if f != nil && f.path != "" {
		_ = os.Remove(f.path)
	}
}

func (f *Fingerprint) load() ([]record, error) {
	b, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("reading the fingerprint of %s: %w", f.Namespace, err)
	}
	recs := make([]record, len(b)/recordSize)
	for i := range recs {
		copy(recs[i][:], b[i*recordSize:])
	}
	return recs, nil
}

// readFingerprint reads a mongodump --gzip --archive stream and
// fingerprints the documents of ns, keeping at most limit hashes (0:
// DefaultHashLimit); the hashes go to a 0600 file in dir ("" for the
// temporary folder). The archive must be complete and its CRCs right.
func readFingerprint(gzArchive io.Reader, ns mongoarchive.Namespace, limit int, dir string) (*Fingerprint, error) {
	zr, err := gzip.NewReader(gzArchive)
	if err != nil {
		return nil, err
	}
	ar, err := mongoarchive.NewReader(zr)
	if err != nil {
		return nil, err
	}
	if !ar.Prelude().Has(ns) {
		return nil, fmt.Errorf("the archive does not hold %s", ns)
	}
	b := newFingerprintBuilder(limit)
	var docs int64
	ended := false
	for {
		it, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if it.Namespace != ns {
			continue
		}
		if it.End {
			docs, ended = it.Documents, true
			continue
		}
		b.add(it.Document)
	}
	if !ended {
		return nil, fmt.Errorf("the archive has no end marker for %s", ns)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil { // checks the gzip trailer
		return nil, err
	}
	return b.finish(ns, docs, dir)
}

type fingerprintBuilder struct {
	limit   int
	bits    uint8
	records []record
}

func newFingerprintBuilder(limit int) *fingerprintBuilder {
	if limit <= 0 {
		limit = DefaultHashLimit
	}
	return &fingerprintBuilder{limit: limit}
}

func (b *fingerprintBuilder) add(doc bson.Raw) {
	id := idHash(doc)
	if !inSample(id[:], b.bits) {
		return
	}
	var r record
	copy(r[:16], id[:16])
	sum := sha256.Sum256(doc)
	copy(r[16:], sum[:16])
	if len(b.records) == cap(b.records) && len(b.records) < b.limit {
		b.records = slices.Grow(b.records, min(max(len(b.records), 1024), b.limit-len(b.records)))
	}
	b.records = append(b.records, r)
	for len(b.records) > b.limit {
		// Halve the sample: keep the documents whose id hash has one more
		// leading zero bit.
		b.bits++
		b.records = slices.DeleteFunc(b.records, func(r record) bool { return !inSample(r[:16], b.bits) })
	}
}

func (b *fingerprintBuilder) finish(ns mongoarchive.Namespace, docs int64, dir string) (*Fingerprint, error) {
	slices.SortFunc(b.records, func(x, y record) int { return bytes.Compare(x[:], y[:]) })
	f, err := os.CreateTemp(dir, "backupd-fingerprint-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("storing the fingerprint of %s: %w", ns, err)
	}
	buf := make([]byte, 0, 64<<10)
	for _, r := range b.records {
		buf = append(buf, r[:]...)
		if len(buf) == cap(buf) {
			if _, err = f.Write(buf); err != nil {
				break
			}
			buf = buf[:0]
		}
	}
	if err == nil {
		_, err = f.Write(buf)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("storing the fingerprint of %s: %w", ns, err)
	}
	fp := &Fingerprint{Namespace: ns, Documents: docs, SampleBits: b.bits, Sampled: int64(len(b.records)), path: f.Name()}
	b.records = nil
	return fp, nil
}

// idHash is the SHA-256 of the document's _id: its BSON type byte and raw
// value (a document without _id hashes as an empty key).
func idHash(doc bson.Raw) [32]byte {
	v, err := doc.LookupErr("_id")
	if err != nil {
		return sha256.Sum256(nil)
	}
	h := sha256.New()
	h.Write([]byte{byte(v.Type)})
	h.Write(v.Value)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// inSample: the first bits bits of the id hash are zero.
func inSample(id []byte, bits uint8) bool {
	for i := uint8(0); i < bits; i++ {
		if id[i/8]&(0x80>>(i%8)) != 0 {
			return false
		}
	}
	return true
}
