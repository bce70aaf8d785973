package mongoarchive_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"

	"backupd/executors/mongodb/mongoarchive"
	"backupd/executors/testsupport/mongofixture"
	"backupd/executors/testsupport/peers"
)

func gunzipFixture(t *testing.T, name string) (gz, plain []byte) {
	t.Helper()
	gz, err := os.ReadFile(peers.Fixture(t, "mongodump/"+name))
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	plain, err = io.ReadAll(zr)
	require.NoError(t, err)
	return gz, plain
}

var fixtureArchives = []struct {
	file        string
	collections []string
}{
	{"fixture_shop.archive.gz", []string{"customers", "empty_collection", "orders"}},
	{"fixture_shop.customers.archive.gz", []string{"customers"}},
	{"fixture_shop.orders.archive.gz", []string{"orders"}},
}

func TestReaderParsesTheRealMongodumpFixtures(t *testing.T) {
	t.Parallel()
	want := mongofixture.LoadExpected(t)
	for _, fx := range fixtureArchives {
		t.Run(fx.file, func(t *testing.T) {
			t.Parallel()
			_, plain := gunzipFixture(t, fx.file)
			r, err := mongoarchive.NewReader(bytes.NewReader(plain))
			require.NoError(t, err)
			p := r.Prelude()
			require.Equal(t, int32(4), p.Header.ConcurrentCollections)
			require.Equal(t, "0.1", p.Header.Version)
			require.NotEmpty(t, p.Header.ServerVersion)
			require.NotEmpty(t, p.Header.ToolVersion)

			var listed []string
			for _, c := range p.Collections {
				require.Equal(t, want.Database, c.Database)
				listed = append(listed, c.Collection)
				meta, err := mongoarchive.ParseMetadata(c.Metadata)
				require.NoError(t, err)
				require.Equal(t, c.Collection, meta.CollectionName)
				require.Equal(t, want.Collections[c.Collection].Indexes, meta.IndexNames(), "indexes of %s", c.Collection)
				again, err := mongoarchive.MarshalMetadata(meta)
				require.NoError(t, err)
				require.Equal(t, c.Metadata, again, "metadata JSON is written as mongodump writes it")
			}
			require.ElementsMatch(t, fx.collections, listed)

			counts := map[string]int64{}
			ends := map[string]int64{}
			first := map[string]string{}
			for {
				it, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				require.Equal(t, want.Database, it.Namespace.Database)
				name := it.Namespace.Collection
				if it.End {
					ends[name] = it.Documents
					continue
				}
				require.NoError(t, it.Document.Validate())
				if counts[name] == 0 {
					js, err := bson.MarshalExtJSON(it.Document, true, false)
					require.NoError(t, err)
					first[name] = string(js)
				}
				counts[name]++
			}
			for _, name := range fx.collections {
				exp := want.Collections[name]
				require.Equal(t, exp.Documents, counts[name], "documents of %s", name)
				require.Equal(t, exp.Documents, ends[name], "end marker count of %s", name)
				if exp.Documents == 0 {
					require.Equal(t, "null", string(exp.FirstDocument))
					continue
				}
				require.Equal(t, mongofixture.CompactJSON(t, exp.FirstDocument), first[name], "first document of %s", name)
			}
		})
	}
}

// Re-encoding a parsed fixture through the Writer gives the same bytes, so
// the Writer (and the stand-in mongodump built on it) writes what the real
// mongodump writes: layout, header types, CRCs. Compressed with Go's gzip
// at the default level, as mongodump does, even the .gz bytes match.
func TestWriterReproducesTheFixturesByteForByte(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtureArchives {
		t.Run(fx.file, func(t *testing.T) {
			t.Parallel()
			gz, plain := gunzipFixture(t, fx.file)
			var out bytes.Buffer
			zw := gzip.NewWriter(&out)
			copyArchive(t, bytes.NewReader(plain), zw)
			require.NoError(t, zw.Close())

			_, again := gunzipBytes(t, out.Bytes())
			require.Equal(t, len(plain), len(again))
			require.True(t, bytes.Equal(plain, again), "re-encoded archive differs from the fixture")
			require.True(t, bytes.Equal(gz, out.Bytes()), "gzip bytes differ from the fixture")
		})
	}
}

func copyArchive(t *testing.T, in io.Reader, out io.Writer) {
	t.Helper()
	r, err := mongoarchive.NewReader(in)
	require.NoError(t, err)
	w, err := mongoarchive.NewWriter(out, r.Prelude())
	require.NoError(t, err)
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if it.End {
			require.NoError(t, w.EndCollection(it.Namespace))
		} else {
			require.NoError(t, w.WriteDocument(it.Namespace, it.Document))
		}
	}
	require.NoError(t, w.Close())
}

func gunzipBytes(t *testing.T, gz []byte) ([]byte, []byte) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	return gz, plain
}
