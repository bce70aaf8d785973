package mongotools_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"backupd/executors/testsupport/mongofixture"
	"backupd/executors/testsupport/mongotools"
	"backupd/executors/testsupport/peers"
)

// checkAgainstExpected compares a restored collection with expected.json:
// count, index names, first document (by _id) in canonical Extended JSON.
func checkAgainstExpected(t *testing.T, c *mongo.Client, db, coll string) {
	t.Helper()
	ctx := context.Background()
	want := mongofixture.LoadExpected(t).Collections[coll]
	n, err := c.Database(db).Collection(coll).CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	require.Equal(t, want.Documents, n, "documents of %s", coll)

	names, err := c.Database(db).ListCollectionNames(ctx, bson.D{{Key: "name", Value: coll}})
	require.NoError(t, err)
	require.Equal(t, []string{coll}, names, "the collection exists, even empty")

	cur, err := c.Database(db).Collection(coll).Indexes().List(ctx)
	require.NoError(t, err)
	var ix []struct {
		Name string `bson:"name"`
	}
	require.NoError(t, cur.All(ctx, &ix))
	var got []string
	for _, i := range ix {
		got = append(got, i.Name)
	}
	sort.Strings(got)
	wantIx := append([]string(nil), want.Indexes...)
	sort.Strings(wantIx)
	require.Equal(t, wantIx, got, "indexes of %s", coll)

	if want.Documents == 0 {
		return
	}
	require.Equal(t, mongofixture.CompactJSON(t, want.FirstDocument), mongofixture.FirstDocumentJSON(t, c, db, coll), "first document of %s", coll)
}

func TestMongorestoreRestoresTheRealFixtures(t *testing.T) {
	t.Parallel()
	_, restore := mongotools.Build(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)

	t.Run("whole database from a file, renamed", func(t *testing.T) {
		t.Parallel()
		db := peer.Database(t)
		res := runTool(t, nil, restore, "--uri="+peer.URI, "--gzip", "--archive="+peers.Fixture(t, "mongodump/fixture_shop.archive.gz"),
			"--nsFrom=fixture_shop.$coll$", "--nsTo="+db+".$coll$", "--numInsertionWorkersPerCollection=4")
		require.Equal(t, 0, res.code, res.stderr)
		lines := res.lines()
		require.Regexp(t, `\t2050 document\(s\) restored successfully\. 0 document\(s\) failed to restore\.$`, lines[len(lines)-1])
		require.Contains(t, res.stderr, "finished restoring `"+db+".orders` (2000 documents, 0 failures)")
		require.Contains(t, res.stderr, "restoring indexes for collection `"+db+".customers` from metadata")
		for _, coll := range []string{"customers", "orders", "empty_collection"} {
			checkAgainstExpected(t, client, db, coll)
		}
	})
	for _, coll := range []string{"customers", "orders"} {
		t.Run(coll+" from stdin", func(t *testing.T) {
			t.Parallel()
			db := peer.Database(t)
			f, err := os.Open(peers.Fixture(t, "mongodump/fixture_shop."+coll+".archive.gz"))
			require.NoError(t, err)
			defer f.Close()
			res := runTool(t, f, restore, "--uri="+peer.URI, "--gzip", "--archive",
				"--nsInclude=fixture_shop."+coll, "--nsFrom=fixture_shop."+coll, "--nsTo="+db+"."+coll)
			require.Equal(t, 0, res.code, res.stderr)
			require.Contains(t, res.stderr, "restoring `"+db+"."+coll+"` from `archive on stdin`")
			checkAgainstExpected(t, client, db, coll)
		})
	}
}

func TestMongorestoreDropAndWriteErrors(t *testing.T) {
	t.Parallel()
	_, restore := mongotools.Build(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	fixture := peers.Fixture(t, "mongodump/fixture_shop.customers.archive.gz")
	args := []string{"--uri=" + peer.URI, "--gzip", "--archive=" + fixture, "--nsFrom=fixture_shop.customers", "--nsTo=" + db + ".customers"}

	res := runTool(t, nil, restore, args...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "50 document(s) restored successfully. 0 document(s) failed to restore.")

	// Again, alongside: every _id exists, so every insert fails, and that
	// is not a failure of the run.
	res = runTool(t, nil, restore, args...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "restoring to existing collection `"+db+".customers` without dropping")
	require.Contains(t, res.stderr, "continuing through error: E11000 duplicate key error")
	require.Contains(t, res.stderr, "0 document(s) restored successfully. 50 document(s) failed to restore.")

	res = runTool(t, nil, restore, append(args, "--stopOnError")...)
	require.Equal(t, 1, res.code, res.stderr)
	require.Regexp(t, "\tFailed: "+db+`\.customers: error restoring from archive `+"`[^`]+`"+`: .*E11000 duplicate key error`, res.stderr)

	// A document changed in the target comes back with --drop.
	_, err := client.Database(db).Collection("customers").UpdateOne(context.Background(), bson.D{{Key: "name", Value: "Customer 0"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "vip", Value: false}}}})
	require.NoError(t, err)
	res = runTool(t, nil, restore, append(args, "--drop")...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stderr, "dropping collection `"+db+".customers` before restoring")
	require.Contains(t, res.stderr, "50 document(s) restored successfully. 0 document(s) failed to restore.")
	checkAgainstExpected(t, client, db, "customers")
}

func TestMongorestoreRefusesDamagedArchives(t *testing.T) {
	t.Parallel()
	_, restore := mongotools.Build(t)
	peer := peers.Mongo(t)
	db := peer.Database(t)
	whole, err := os.ReadFile(peers.Fixture(t, "mongodump/fixture_shop.orders.archive.gz"))
	require.NoError(t, err)
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.gz")
	require.NoError(t, os.WriteFile(cut, whole[:len(whole)/2], 0o600))

	tests := []struct {
		name   string
		args   []string
		reason string
	}{
		{"truncated", []string{"--gzip", "--archive=" + cut}, `Failed: the mongodump archive is corrupt: it ends before every collection is complete`},
		{"gzip read as plain", []string{"--archive=" + peers.Fixture(t, "mongodump/fixture_shop.orders.archive.gz")}, `Failed: stream or file does not appear to be a mongodump archive`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runTool(t, nil, restore, append([]string{"--uri=" + peer.URI, "--nsFrom=fixture_shop.$c$", "--nsTo=" + db + ".$c$"}, tc.args...)...)
			require.Equal(t, 1, res.code, res.stderr)
			require.Regexp(t, tc.reason, res.stderr)
		})
	}
}
