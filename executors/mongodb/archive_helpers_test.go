package mongodb_test

import (
	"compress/gzip"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"

	"backupd/executors/mongodb/mongoarchive"
)

// docsOfArchive reads a mongodump --gzip archive's documents by _id.
func docsOfArchive(t *testing.T, r io.Reader) map[string]bson.Raw {
	t.Helper()
	zr, err := gzip.NewReader(r)
	require.NoError(t, err)
	ar, err := mongoarchive.NewReader(zr)
	require.NoError(t, err)
	out := map[string]bson.Raw{}
	for {
		it, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		if !it.End {
			out[it.Document.Lookup("_id").String()] = append(bson.Raw(nil), it.Document...)
		}
	}
}
