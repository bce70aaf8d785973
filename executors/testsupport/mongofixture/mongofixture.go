// Package mongofixture is what the tests of the MongoDB packages (mongodb,
// mongoarchive, the stand-in tools) share to check data against the real
// mongodump fixtures (../shared/fixtures/mongodump) and against each other.
package mongofixture

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"backupd/executors/testsupport/peers"
)

// Expected is mongodump/expected.json: what the fixture archives hold.
type Expected struct {
	Database    string `json:"database"`
	Collections map[string]struct {
		Documents     int64           `json:"documents"`
		Indexes       []string        `json:"indexes"`
		FirstDocument json.RawMessage `json:"first_document_canonical_extended_json"`
	} `json:"collections"`
}

// LoadExpected reads mongodump/expected.json.
func LoadExpected(t testing.TB) Expected {
	t.Helper()
	b, err := os.ReadFile(peers.Fixture(t, "mongodump/expected.json"))
	require.NoError(t, err)
	var e Expected
	require.NoError(t, json.Unmarshal(b, &e))
	return e
}

// CompactJSON normalises expected.json's pretty-printed document so it can
// be compared byte for byte with the driver's canonical Extended JSON
// (json.RawMessage keeps the key order).
func CompactJSON(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, raw))
	return buf.String()
}

// FirstDocumentJSON is the collection's first document by _id, in canonical
// Extended JSON (as expected.json writes it).
func FirstDocumentJSON(t testing.TB, c *mongo.Client, db, coll string) string {
	t.Helper()
	raw, err := c.Database(db).Collection(coll).FindOne(context.Background(), bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: 1}})).Raw()
	require.NoError(t, err)
	js, err := bson.MarshalExtJSON(raw, true, false)
	require.NoError(t, err)
	return string(js)
}

// RawDocs reads a collection as raw BSON keyed by _id.
func RawDocs(t testing.TB, c *mongo.Client, db, coll string) map[string]bson.Raw {
	t.Helper()
	cur, err := c.Database(db).Collection(coll).Find(context.Background(), bson.D{})
	require.NoError(t, err)
	out := map[string]bson.Raw{}
	for cur.Next(context.Background()) {
		out[cur.Current.Lookup("_id").String()] = append(bson.Raw(nil), cur.Current...)
	}
	require.NoError(t, cur.Err())
	return out
}
