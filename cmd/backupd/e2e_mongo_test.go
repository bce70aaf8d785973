package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"backupd/executors/testsupport/mongotools"
	"backupd/executors/testsupport/peers"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// seedShop fills a database like the fixture's: customers with every BSON
// type the fixture has, orders, and an empty collection. It returns the
// document count per collection.
func seedShop(t *testing.T, p peers.MongoPeer, db string, orders int) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	d := p.Client(t).Database(db)
	var customers []any
	for i := 0; i < 50; i++ {
		customers = append(customers, bson.D{
			{Key: "_id", Value: primitive.NewObjectID()}, {Key: "name", Value: fmt.Sprintf("Customer %d", i)},
			{Key: "email", Value: fmt.Sprintf("c%d@example.test", i)}, {Key: "vip", Value: i%3 == 0},
			{Key: "score", Value: float64(i) / 3}, {Key: "visits", Value: int32(i)}, {Key: "big", Value: int64(9007199254740993)},
			{Key: "joined", Value: primitive.NewDateTimeFromTime(time.Unix(1700000000+int64(i), 0))},
			{Key: "tags", Value: bson.A{"a", fmt.Sprintf("b%d", i)}}, {Key: "address", Value: bson.D{{Key: "city", Value: "Zürich"}, {Key: "zip", Value: "8000"}}},
			{Key: "avatar", Value: primitive.Binary{Data: []byte{1, 2, 3, byte(i)}}}, {Key: "note", Value: nil},
		})
	}
	_, err := d.Collection("customers").InsertMany(ctx, customers)
	require.NoError(t, err)
	var docs []any
	for i := 0; i < orders; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "customer", Value: int32(i % 50)}, {Key: "total", Value: float64(i) * 1.5},
			{Key: "status", Value: "new"}, {Key: "lines", Value: bson.A{bson.D{{Key: "sku", Value: fmt.Sprintf("SKU-%d", i)}, {Key: "qty", Value: int32(1 + i%4)}}}}})
		if len(docs) == 500 || i == orders-1 {
			_, err := d.Collection("orders").InsertMany(ctx, docs)
			require.NoError(t, err)
			docs = docs[:0]
		}
	}
	require.NoError(t, d.CreateCollection(ctx, "empty_collection"))
	return map[string]int64{"customers": 50, "orders": int64(orders), "empty_collection": 0}
}

// verifyMongoArchive checks a MongoDB backup independently of the product:
// GNU tar extracts it, each collection's mongodump archive is restored by
// mongorestore (the stand-in with the real tool's command line) into a new
// database, and the driver counts what arrived.
func verifyMongoArchive(t *testing.T, p peers.MongoPeer, archive []byte, db string, want map[string]int64) {
	t.Helper()
	dir, listing := extractWithTar(t, archive)
	m := readManifest(t, mustRead(t, filepath.Join(dir, "backupd-manifest.json")))
	require.Equal(t, "mongodb", m.Service)
	require.Equal(t, db, m.Database)
	require.Len(t, m.Entries, len(want), listing)
	_, restore := mongotools.Build(t)
	check := p.Database(t)
	for _, e := range m.Entries {
		n, ok := want[e.Key]
		require.True(t, ok, "unexpected collection %q", e.Key)
		require.NotNil(t, e.Documents)
		require.Equal(t, n, *e.Documents, "documents of %s in the manifest", e.Key)
		file := filepath.Join(dir, e.Path)
		require.Equal(t, "mongodb/"+db+"/"+e.Key+".archive.gz", e.Path)
		out, err := exec.Command(restore, "--uri="+p.URI, "--gzip", "--archive="+file,
			"--nsFrom="+db+"."+e.Key, "--nsTo="+check+"."+e.Key).CombinedOutput()
		require.NoError(t, err, "mongorestore %s: %s", e.Key, out)
	}
	d := p.Client(t).Database(check)
	for coll, n := range want {
		if n == 0 {
			continue
		}
		got, err := d.Collection(coll).CountDocuments(context.Background(), bson.D{})
		require.NoError(t, err)
		require.Equal(t, n, got, "documents of %s restored from the archive", coll)
	}
	names, err := d.ListCollectionNames(context.Background(), bson.D{})
	require.NoError(t, err)
	for coll, n := range want {
		if n > 0 {
			require.Contains(t, names, coll)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
