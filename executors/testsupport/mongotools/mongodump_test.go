package mongotools_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"backupd/executors/mongodb/mongoarchive"
	"backupd/executors/testsupport/mongofixture"
	"backupd/executors/testsupport/mongotools"
	"backupd/executors/testsupport/peers"
)

// seed fills db with a collection of varied types (and a unique index), a
// plain one and an empty one.
func seed(t *testing.T, c *mongo.Client, db string, n int) {
	t.Helper()
	ctx := context.Background()
	var docs []any
	for i := 0; i < n; i++ {
		docs = append(docs, bson.D{
			{Key: "_id", Value: primitive.NewObjectID()}, {Key: "name", Value: fmt.Sprintf("Customer %d", i)},
			{Key: "email", Value: fmt.Sprintf("c%d@example.test", i)}, {Key: "vip", Value: i%2 == 0},
			{Key: "score", Value: float64(i) / 4}, {Key: "visits", Value: int32(i)}, {Key: "big", Value: int64(9007199254740993) + int64(i)},
			{Key: "joined", Value: primitive.NewDateTimeFromTime(time.UnixMilli(1700000000000 + int64(i)))},
			{Key: "tags", Value: bson.A{"a", fmt.Sprintf("b%d", i)}}, {Key: "address", Value: bson.D{{Key: "city", Value: "Zürich"}, {Key: "zip", Value: "8000"}}},
			{Key: "avatar", Value: primitive.Binary{Data: []byte{byte(i), 1, 2, 3}}}, {Key: "note", Value: nil},
		})
	}
	_, err := c.Database(db).Collection("customers").InsertMany(ctx, docs)
	require.NoError(t, err)
	_, err = c.Database(db).Collection("customers").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)})
	require.NoError(t, err)
	docs = docs[:0]
	for i := 0; i < 20; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "status", Value: "new"}})
	}
	_, err = c.Database(db).Collection("orders").InsertMany(ctx, docs)
	require.NoError(t, err)
	require.NoError(t, c.Database(db).CreateCollection(ctx, "empty_collection"))
}

func TestMongodumpArchiveHoldsExactlyWhatTheServerHolds(t *testing.T) {
	t.Parallel()
	dump, _ := mongotools.Build(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	seed(t, client, db, 120)

	file := filepath.Join(t.TempDir(), db+".archive.gz")
	res := runTool(t, nil, dump, "--uri="+peer.URI, "--db="+db, "--gzip", "--archive="+file)
	require.Equal(t, 0, res.code, res.stderr)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	prelude, docs := archiveDocs(t, data, true)

	require.Equal(t, int32(4), prelude.Header.ConcurrentCollections)
	require.Equal(t, mongoarchive.FormatVersion, prelude.Header.Version)
	require.Equal(t, "built-without-version-string", prelude.Header.ToolVersion)
	require.NotEmpty(t, prelude.Header.ServerVersion)
	var names []string
	for _, c := range prelude.Collections {
		names = append(names, c.Collection)
		meta, err := mongoarchive.ParseMetadata(c.Metadata)
		require.NoError(t, err)
		require.Equal(t, c.Collection, meta.CollectionName)
		require.Equal(t, "collection", meta.Type)
		require.Len(t, meta.UUID, 32)
		if c.Collection == "customers" {
			require.Equal(t, []string{"_id_", "email_1"}, meta.IndexNames())
		}
	}
	require.Equal(t, []string{"customers", "empty_collection", "orders"}, names)

	for _, coll := range names {
		want := mongofixture.RawDocs(t, client, db, coll)
		require.Len(t, docs[coll], len(want), coll)
		for _, d := range docs[coll] {
			require.Equal(t, want[d.Lookup("_id").String()], d, "document bytes of %s", coll)
		}
	}

	// stderr: the real tool's lines, one template per kind of line.
	templates := fixtureTemplates(t)
	lines := res.lines()
	require.Len(t, lines, 6, res.stderr)
	for _, l := range lines {
		require.NotNil(t, matchesTemplate(templates, l), "line %q is not like any of the real mongodump's lines", l)
	}
	require.Contains(t, lines[0], "writing `"+db+".customers` to \"archive `"+file+"`\"")
	require.Contains(t, res.stderr, "done dumping `"+db+".customers` (120 documents)")
	require.Contains(t, res.stderr, "done dumping `"+db+".empty_collection` (0 documents)")
}

func TestMongodumpPrintsProgressBarsLikeTheRealOne(t *testing.T) {
	t.Parallel()
	dump, _ := mongotools.Build(t)
	dump = mongotools.WithEnv(t, dump, mongotools.EnvProgressInterval+"=100ms", mongotools.EnvDocumentDelay+"=3ms")
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	seed(t, client, db, 300)

	file := filepath.Join(t.TempDir(), "c.archive.gz")
	res := runTool(t, nil, dump, "--uri="+peer.URI, "--db="+db, "--collection=customers", "--gzip", "--archive="+file)
	require.Equal(t, 0, res.code, res.stderr)
	templates := fixtureTemplates(t)
	bar := regexp.MustCompile(`\t\[[#.]{24}\]  (\S+)  (\d+)/(\d+)  \((\d+\.\d)%\)$`)
	var bars []string
	for _, l := range res.lines() {
		require.NotNil(t, matchesTemplate(templates, l), "line %q", l)
		if m := bar.FindStringSubmatch(l); m != nil {
			require.Equal(t, db+".customers", m[1])
			require.Equal(t, "300", m[3])
			bars = append(bars, l)
		}
	}
	require.GreaterOrEqual(t, len(bars), 2, res.stderr)
	last := bar.FindStringSubmatch(bars[len(bars)-1])
	require.Equal(t, "300", last[2], "the last bar, drawn when the collection is done, shows the total")
	require.Equal(t, "100.0", last[4])
	require.Contains(t, bars[len(bars)-1], "[########################]")
	lines := res.lines()
	require.Contains(t, lines[len(lines)-1], "done dumping `"+db+".customers` (300 documents)")
}

func TestMongodumpFailsLikeTheRealOne(t *testing.T) {
	t.Parallel()
	dump, _ := mongotools.Build(t)
	peer := peers.Mongo(t)
	db := peer.Database(t)
	badURI := strings.Replace(peer.URI, ":s3cret@", ":wrong-password@", 1)
	stamp := `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}\t`
	dir := t.TempDir()

	tests := []struct {
		name  string
		args  []string
		code  int
		lines []string // patterns, one per stderr line
	}{
		{"wrong password", []string{"--uri=" + badURI, "--db=" + db, "--archive=" + filepath.Join(dir, "a")}, 1,
			[]string{`Failed: can't create session: could not connect to server: connection\(\) error occurred during connection handshake: auth error: .*\(AuthenticationFailed\) Authentication failed\.`}},
		{"unknown option", []string{"--bogus"}, 1,
			[]string{"error parsing command line options: unknown flag `bogus'", `try 'mongodump --help' for more information`}},
		{"option without its value", []string{"--db"}, 1,
			[]string{"error parsing command line options: expected argument for flag `--db'", `try 'mongodump --help' for more information`}},
		{"collection that does not exist", []string{"--uri=" + peer.URI, "--db=" + db, "--collection=nope", "--archive=" + filepath.Join(dir, "b")}, 0,
			[]string{"namespace with DB " + db + " and collection nope does not exist"}},
		{"collection without database", []string{"--uri=" + peer.URI, "--collection=x", "--archive=" + filepath.Join(dir, "c")}, 1,
			[]string{`Failed: bad option: cannot dump a collection without a specified database`}},
		{"quiet hides even the failure", []string{"--quiet", "--uri=" + badURI, "--db=" + db, "--archive=" + filepath.Join(dir, "d")}, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runTool(t, nil, dump, tc.args...)
			require.Equal(t, tc.code, res.code, res.stderr)
			require.Len(t, res.lines(), len(tc.lines), res.stderr)
			for i, p := range tc.lines {
				require.Regexp(t, "^"+stamp+p+"$", res.lines()[i])
			}
			require.NotContains(t, res.stderr, "wrong-password")
		})
	}
	_, err := os.Stat(filepath.Join(dir, "b"))
	require.ErrorIs(t, err, os.ErrNotExist, "no archive for a collection that does not exist")
}

// The secret can come from a --config file, as with the real tools: whole
// in the uri, or the password apart.
func TestMongodumpReadsItsConfigFile(t *testing.T) {
	t.Parallel()
	dump, _ := mongotools.Build(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	seed(t, client, db, 5)
	dir := t.TempDir()
	noPassword := strings.Replace(peer.URI, ":s3cret@", "@", 1)
	configs := map[string]string{
		"uri":          fmt.Sprintf("uri: %q\n", peer.URI),
		"uri+password": fmt.Sprintf("uri: '%s'\npassword: s3cret\n", noPassword),
	}
	for name, body := range configs {
		cfg := filepath.Join(dir, name+".yaml")
		require.NoError(t, os.WriteFile(cfg, []byte(body), 0o600))
		res := runTool(t, nil, dump, "--config="+cfg, "--db="+db, "--collection=orders", "--archive")
		require.Equal(t, 0, res.code, "%s: %s", name, res.stderr)
		require.Contains(t, res.stderr, "writing `"+db+".orders` to `archive on stdout`")
		_, docs := archiveDocs(t, []byte(res.stdout), false)
		require.Len(t, docs["orders"], 20, name)
	}
}

func TestVersionOutput(t *testing.T) {
	t.Parallel()
	dump, restore := mongotools.Build(t)
	for name, path := range map[string]string{"mongodump": dump, "mongorestore": restore} {
		res := runTool(t, nil, path, "--version")
		require.Equal(t, 0, res.code)
		require.True(t, strings.HasPrefix(res.stdout, name+" version: built-without-version-string\ngit version: "), res.stdout)
		require.Empty(t, res.stderr)
	}
}
