package mongoarchive_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"

	"backupd/executors/mongodb/mongoarchive"
)

func readAll(data []byte) (int64, error) {
	r, err := mongoarchive.NewReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	var n int64
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if !it.End {
			n++
		}
	}
}

func TestReaderDetectsDamage(t *testing.T) {
	t.Parallel()
	gz, plain := gunzipFixture(t, "fixture_shop.customers.archive.gz")
	n, err := readAll(plain)
	require.NoError(t, err)
	require.Equal(t, int64(50), n)

	// Offset of the first document: after the prelude and the first
	// namespace header.
	r, err := mongoarchive.NewReader(bytes.NewReader(plain))
	require.NoError(t, err)
	it, err := r.Next()
	require.NoError(t, err)
	firstDoc := bytes.Index(plain, it.Document)
	require.Positive(t, firstDoc)
	nameAt := bytes.Index(plain[firstDoc:], []byte("Customer 0")) + firstDoc

	tests := []struct {
		name   string
		mangle func([]byte) []byte
		want   error
		text   string
	}{
		{"gzip bytes read without gunzip", func([]byte) []byte { return append([]byte(nil), gz...) }, mongoarchive.ErrNotArchive, "does not appear to be a mongodump archive"},
		{"empty stream", func([]byte) []byte { return nil }, mongoarchive.ErrNotArchive, ""},
		{"one byte of a document changed", func(b []byte) []byte { b[nameAt] = 'K'; return b }, mongoarchive.ErrCorrupt, "CRC mismatch for namespace fixture_shop.customers"},
		{"cut in the middle of a document", func(b []byte) []byte { return b[:firstDoc+100] }, mongoarchive.ErrTruncated, ""},
		{"cut after a block, before the end marker", func(b []byte) []byte { return b[:len(b)-75] }, mongoarchive.ErrTruncated, "fixture_shop.customers has no end marker"},
		{"cut inside the prelude", func(b []byte) []byte { return b[:200] }, mongoarchive.ErrTruncated, ""},
		{"impossible document length", func(b []byte) []byte { copy(b[firstDoc:], []byte{0xff, 0xff, 0xff, 0x7f}); return b }, mongoarchive.ErrCorrupt, "a document of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.mangle(append([]byte(nil), plain...))
			_, err := readAll(data)
			require.ErrorIs(t, err, tc.want)
			if tc.text != "" {
				require.ErrorContains(t, err, tc.text)
			}
		})
	}
}

// Blocks of several namespaces interleave when mongodump dumps in
// parallel; the reader follows them and the writer switches headers only
// when the namespace changes.
func TestInterleavedCollectionsRoundTrip(t *testing.T) {
	t.Parallel()
	a := mongoarchive.Namespace{Database: "d", Collection: "a"}
	b := mongoarchive.Namespace{Database: "d", Collection: "b"}
	empty := mongoarchive.Namespace{Database: "d", Collection: "empty"}
	p := mongoarchive.Prelude{
		Header: mongoarchive.Header{ConcurrentCollections: 4, Version: mongoarchive.FormatVersion, ServerVersion: "7.0.0", ToolVersion: "test"},
		Collections: []mongoarchive.CollectionMetadata{
			{Database: "d", Collection: "a", Type: "collection"},
			{Database: "d", Collection: "b", Type: "collection"},
			{Database: "d", Collection: "empty", Type: "collection"},
		},
	}
	var buf bytes.Buffer
	w, err := mongoarchive.NewWriter(&buf, p)
	require.NoError(t, err)
	doc := func(i int) []byte { b, _ := bson.Marshal(bson.D{{Key: "_id", Value: i}}); return b }
	order := []mongoarchive.Namespace{a, a, b, a, b, b}
	for i, ns := range order {
		require.NoError(t, w.WriteDocument(ns, doc(i)))
	}
	require.NoError(t, w.EndCollection(b))
	require.NoError(t, w.EndCollection(empty))
	require.NoError(t, w.WriteDocument(a, doc(99)))
	require.Error(t, w.WriteDocument(b, doc(100)), "b was ended")
	require.Error(t, w.Close(), "a is still open")
	require.NoError(t, w.EndCollection(a))
	require.NoError(t, w.Close())

	r, err := mongoarchive.NewReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	var got []string
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if it.End {
			got = append(got, "end "+it.Namespace.Collection)
			continue
		}
		got = append(got, it.Namespace.Collection+" "+it.Document.Lookup("_id").String())
	}
	require.Equal(t, []string{
		`a {"$numberInt":"0"}`, `a {"$numberInt":"1"}`, `b {"$numberInt":"2"}`, `a {"$numberInt":"3"}`,
		`b {"$numberInt":"4"}`, `b {"$numberInt":"5"}`, "end b", "end empty", `a {"$numberInt":"99"}`, "end a",
	}, got)

	var again bytes.Buffer
	copyArchive(t, bytes.NewReader(buf.Bytes()), &again)
	require.Equal(t, buf.Bytes(), again.Bytes())
}
