package mongoarchive_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"backupd/executors/mongodb/mongoarchive"
)

func benchArchive(b *testing.B, docs int) ([]byte, [][]byte) {
	b.Helper()
	ns := mongoarchive.Namespace{Database: "bench", Collection: "events"}
	p := mongoarchive.Prelude{Header: mongoarchive.Header{ConcurrentCollections: 4, Version: "0.1"},
		Collections: []mongoarchive.CollectionMetadata{{Database: ns.Database, Collection: ns.Collection, Type: "collection"}}}
	var raw [][]byte
	for i := 0; i < docs; i++ {
		d, err := bson.Marshal(bson.D{{Key: "_id", Value: int64(i)}, {Key: "kind", Value: "click"},
			{Key: "payload", Value: fmt.Sprintf("%0200d", i)}, {Key: "n", Value: float64(i)}})
		if err != nil {
			b.Fatal(err)
		}
		raw = append(raw, d)
	}
	var buf bytes.Buffer
	w, err := mongoarchive.NewWriter(&buf, p)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range raw {
		if err := w.WriteDocument(ns, d); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.EndCollection(ns); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), raw
}

// BenchmarkReader prints read throughput (MB/s of uncompressed archive).
func BenchmarkReader(b *testing.B) {
	data, _ := benchArchive(b, 50_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := mongoarchive.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWriter prints write throughput.
func BenchmarkWriter(b *testing.B) {
	data, docs := benchArchive(b, 50_000)
	ns := mongoarchive.Namespace{Database: "bench", Collection: "events"}
	p := mongoarchive.Prelude{Header: mongoarchive.Header{ConcurrentCollections: 4, Version: "0.1"},
		Collections: []mongoarchive.CollectionMetadata{{Database: ns.Database, Collection: ns.Collection, Type: "collection"}}}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := mongoarchive.NewWriter(io.Discard, p)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range docs {
			if err := w.WriteDocument(ns, d); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.EndCollection(ns); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
