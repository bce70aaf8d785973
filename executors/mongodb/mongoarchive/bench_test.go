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

// The benchmarks' archive: one collection.
var (
	benchNS      = mongoarchive.Namespace{Database: "bench", Collection: "events"}
	benchPrelude = mongoarchive.Prelude{Header: mongoarchive.Header{ConcurrentCollections: 4, Version: "0.1"},
		Collections: []mongoarchive.CollectionMetadata{{Database: benchNS.Database, Collection: benchNS.Collection, Type: "collection"}}}
)

func benchArchive(b *testing.B, docs int) ([]byte, [][]byte) {
	b.Helper()
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
	writeArchive(b, &buf, raw)
	return buf.Bytes(), raw
}

// writeArchive writes docs as the benchmarks' archive to out.
func writeArchive(b *testing.B, out io.Writer, docs [][]byte) {
	w, err := mongoarchive.NewWriter(out, benchPrelude)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range docs {
		if err := w.WriteDocument(benchNS, d); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.EndCollection(benchNS); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
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
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		writeArchive(b, io.Discard, docs)
	}
}
