package mongodb_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"

	"backupd/domain"
	"backupd/executors/archive"
	"backupd/executors/mongodb"
	"backupd/executors/testsupport/mongofixture"
	"backupd/executors/testsupport/mongotools"
	"backupd/executors/testsupport/peers"
)

func openFixture(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(peers.Fixture(t, "mongodump/"+name))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	seedShop(t, client, db, 2, 0)
	ctx := peers.Context(t)

	p, err := mongodb.NewTarget(configFor(peer, db), tools, nil).Preflight(ctx, []string{"orders", "customers", "new_one"})
	require.NoError(t, err)
	require.True(t, p.Writable, p.Reason)
	require.Equal(t, []string{"customers", "orders"}, p.Existing)
	require.Equal(t, "mongorestore version: built-without-version-string", p.ToolVersion)
	names, err := client.Database(db).ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"customers", "orders", "empty_collection"}, names, "the probe collection is gone")

	p, err = mongodb.NewTarget(configFor(peer, peer.Database(t)), tools, nil).Preflight(ctx, []string{"orders"})
	require.NoError(t, err)
	require.True(t, p.Writable, "a database that does not exist yet is writable")
	require.Empty(t, p.Existing)

	bad := mongodb.Config{URI: strings.Replace(peer.URI, ":s3cret@", ":nope-nope@", 1), Database: db}
	p, err = mongodb.NewTarget(bad, tools, nil).Preflight(ctx, []string{"orders"})
	require.NoError(t, err)
	require.False(t, p.Writable)
	require.Equal(t, "uri", p.Field)
	require.Contains(t, p.Reason, "authentication failed")
	require.NotContains(t, p.Reason, "nope-nope")

	p, err = mongodb.NewTarget(configFor(peer, db), mongodb.Tools{Mongorestore: "/nonexistent/mongorestore"}, nil).Preflight(ctx, nil)
	require.NoError(t, err)
	require.False(t, p.Writable)
	require.Equal(t, "mongorestore was not found at /nonexistent/mongorestore: install MongoDB Database Tools or set BACKUPD_MONGORESTORE", p.Reason)
}

// The real mongodump's archives restore into ferretdb and verify, and the
// test checks the result itself against expected.json and the archive's
// own documents.
func TestRestoreAndVerifyTheRealFixtures(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	rec, logger := newRecorder()
	target := mongodb.NewTarget(configFor(peer, db), tools, logger, mongodb.WithSpoolDir(t.TempDir()))
	defer target.Close()
	ctx := peers.Context(t)
	want := mongofixture.LoadExpected(t)

	var expected []mongodb.Expected
	for _, coll := range []string{"customers", "orders"} {
		restored, failed, err := target.Restore(ctx, "fixture_shop", coll, openFixture(t, "fixture_shop."+coll+".archive.gz"), false)
		require.NoError(t, err)
		require.Equal(t, want.Collections[coll].Documents, restored)
		require.Zero(t, failed)
		fp := target.Fingerprint(coll)
		require.NotNil(t, fp)
		require.Equal(t, want.Collections[coll].Documents, fp.Documents)
		require.Zero(t, fp.SampleBits)
		expected = append(expected, mongodb.Expected{Collection: coll, Documents: want.Collections[coll].Documents})
		require.Equal(t, mongofixture.CompactJSON(t, want.Collections[coll].FirstDocument), mongofixture.FirstDocumentJSON(t, client, db, coll))
	}
	checks, err := target.Verify(ctx, expected)
	require.NoError(t, err)
	require.Equal(t, []domain.CollectionCheck{
		{Name: "customers", ExpectedDocs: 50, ActualDocs: 50, HashesCompared: 50, OK: true},
		{Name: "orders", ExpectedDocs: 2000, ActualDocs: 2000, HashesCompared: 2000, OK: true},
	}, checks)
	require.True(t, rec.has(slog.LevelInfo, "mongorestore: 50 document(s) restored successfully. 0 document(s) failed to restore."), rec.text())
	require.True(t, rec.has(slog.LevelInfo, "collection orders verified: 2000 documents, every document identical to the archive"), rec.text())

	// Independently of the product's verification: byte-identical
	// documents, the archive's against the database's.
	archiveDocs := readArchiveDocs(t, peers.Fixture(t, "mongodump/fixture_shop.customers.archive.gz"))
	requireSameDocuments(t, archiveDocs, mongofixture.RawDocs(t, client, db, "customers"), "customers")
}

func TestVerifyFindsChangedMissingAndExtraDocuments(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	rec, logger := newRecorder()
	target := mongodb.NewTarget(configFor(peer, db), tools, logger)
	defer target.Close()
	ctx := peers.Context(t)

	_, _, err := target.Restore(ctx, "fixture_shop", "customers", openFixture(t, "fixture_shop.customers.archive.gz"), false)
	require.NoError(t, err)
	coll := client.Database(db).Collection("customers")
	byName := func(n string) bson.D { return bson.D{{Key: "name", Value: n}} }
	_, err = coll.UpdateOne(ctx, byName("Customer 1"), bson.D{{Key: "$set", Value: bson.D{{Key: "vip", Value: true}}}}) // was false
	require.NoError(t, err)
	// Same value, other type: 2 (int32) becomes 2 (int64).
	_, err = coll.UpdateOne(ctx, byName("Customer 2"), bson.D{{Key: "$set", Value: bson.D{{Key: "visits", Value: int64(2)}}}})
	require.NoError(t, err)
	_, err = coll.DeleteOne(ctx, byName("Customer 3"))
	require.NoError(t, err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "name", Value: "Intruder"}})
	require.NoError(t, err)

	checks, err := target.Verify(ctx, []mongodb.Expected{{Collection: "customers", Documents: 50}, {Collection: "never_restored", Documents: 5}})
	require.NoError(t, err)
	require.Equal(t, []domain.CollectionCheck{
		{Name: "customers", ExpectedDocs: 50, ActualDocs: 50, HashesCompared: 50, HashMismatches: 4, OK: false},
		{Name: "never_restored", ExpectedDocs: 5, ActualDocs: 0, OK: false},
	}, checks)
	log := rec.text()
	require.Contains(t, log, "collection customers differs from the archive: 50 documents (expected 50); 2 changed, 1 not in the archive, 1 missing; differing: ")
	require.Contains(t, log, `{"_id":{"$oid":"5f0000000000000000000001"}}`)
}

func TestRestoreDropOrAlongside(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	target := mongodb.NewTarget(configFor(peer, db), tools, nil)
	defer target.Close()
	ctx := peers.Context(t)
	fixture := "fixture_shop.customers.archive.gz"
	exp := []mongodb.Expected{{Collection: "customers", Documents: 50}}

	restored, failed, err := target.Restore(ctx, "fixture_shop", "customers", openFixture(t, fixture), false)
	require.NoError(t, err)
	require.Equal(t, [2]int64{50, 0}, [2]int64{restored, failed})
	_, err = client.Database(db).Collection("customers").UpdateOne(ctx, bson.D{{Key: "name", Value: "Customer 7"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "vip", Value: false}}}}) // was true
	require.NoError(t, err)

	// Alongside: every _id is taken; mongorestore counts failures, the
	// changed document stays changed, and verification says so.
	restored, failed, err = target.Restore(ctx, "fixture_shop", "customers", openFixture(t, fixture), false)
	require.NoError(t, err)
	require.Equal(t, [2]int64{0, 50}, [2]int64{restored, failed})
	checks, err := target.Verify(ctx, exp)
	require.NoError(t, err)
	require.Equal(t, int64(1), checks[0].HashMismatches)

	restored, failed, err = target.Restore(ctx, "fixture_shop", "customers", openFixture(t, fixture), true)
	require.NoError(t, err)
	require.Equal(t, [2]int64{50, 0}, [2]int64{restored, failed})
	checks, err = target.Verify(ctx, exp)
	require.NoError(t, err)
	require.True(t, checks[0].OK, "%+v", checks[0])
}

// Above the hash limit, a deterministic sample is compared.
func TestVerifySamplesLargeCollections(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	rec, logger := newRecorder()
	target := mongodb.NewTarget(configFor(peer, db), tools, logger, mongodb.WithHashLimit(100))
	defer target.Close()
	ctx := peers.Context(t)

	_, _, err := target.Restore(ctx, "fixture_shop", "orders", openFixture(t, "fixture_shop.orders.archive.gz"), false)
	require.NoError(t, err)
	fp := target.Fingerprint("orders")
	require.Equal(t, int64(2000), fp.Documents)
	require.GreaterOrEqual(t, fp.SampleBits, uint8(5), "2000 documents need at least 5 bits to fit in 100")
	require.Positive(t, fp.Sampled)
	require.LessOrEqual(t, fp.Sampled, int64(100))

	exp := []mongodb.Expected{{Collection: "orders", Documents: 2000}}
	checks, err := target.Verify(ctx, exp)
	require.NoError(t, err)
	require.Equal(t, domain.CollectionCheck{Name: "orders", ExpectedDocs: 2000, ActualDocs: 2000, HashesCompared: fp.Sampled, OK: true}, checks[0])
	require.True(t, rec.has(slog.LevelInfo, "a sample of"), rec.text())

	// The sample is what the documentation says: the documents whose
	// SHA-256 of (_id type byte, _id value) starts with SampleBits zero
	// bits. The orders' _id are int32 0..1999.
	var sampled, outside []any
	for i := int32(0); i < 2000; i++ {
		sum := sha256.Sum256([]byte{0x10, byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
		if binary.BigEndian.Uint64(sum[:8])>>(64-fp.SampleBits) == 0 {
			sampled = append(sampled, i)
		} else {
			outside = append(outside, i)
		}
	}
	require.Len(t, sampled, int(fp.Sampled))
	orders := client.Database(db).Collection("orders")
	change := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "changed"}}}}
	_, err = orders.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: outside[:3]}}}}, change)
	require.NoError(t, err)
	checks, err = target.Verify(ctx, exp)
	require.NoError(t, err)
	require.True(t, checks[0].OK, "documents outside the sample are not compared (the stated limit of sampling)")

	_, err = orders.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: sampled}}}}, change)
	require.NoError(t, err)
	checks, err = target.Verify(ctx, exp)
	require.NoError(t, err)
	require.Equal(t, fp.Sampled, checks[0].HashMismatches)
	require.False(t, checks[0].OK)
}

func TestRestoreRefusesDamagedArchives(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	db := peer.Database(t)
	target := mongodb.NewTarget(configFor(peer, db), tools, nil)
	defer target.Close()
	ctx := peers.Context(t)
	whole, err := os.ReadFile(peers.Fixture(t, "mongodump/fixture_shop.orders.archive.gz"))
	require.NoError(t, err)
	flipped := append([]byte(nil), whole...)
	flipped[len(flipped)/2] ^= 0x40

	for name, data := range map[string][]byte{"truncated": whole[:len(whole)/2], "one byte changed": flipped, "empty": nil} {
		_, _, err := target.Restore(ctx, "fixture_shop", "orders", bytes.NewReader(data), false)
		require.Error(t, err, name)
		var te *mongodb.ToolError
		require.ErrorAs(t, err, &te, name)
		require.NotEmpty(t, te.Reason, name)
		require.Nil(t, target.Fingerprint("orders"), name)
	}
}

// The product's own path: a collection dumped by the Source is restored by
// the Target into another database and verified; mongorestore's arguments
// hold no secret either.
func TestSourceToTargetRoundTrip(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	src := peer.Database(t)
	dst := peer.Database(t)
	seedShop(t, client, src, 200, 1500)
	ctx := peers.Context(t)
	spool := t.TempDir()
	slow := tools
	slow.Mongorestore = mongotools.WithEnv(t, tools.Mongorestore, mongotools.EnvDocumentDelay+"=1ms")
	target := mongodb.NewTarget(configFor(peer, dst), slow, nil, mongodb.WithSpoolDir(spool))
	defer target.Close()

	var watch sync.WaitGroup
	var cmdlines []string
	var mu sync.Mutex
	stopWatch := make(chan struct{})
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(20 * time.Millisecond):
			}
			for _, args := range processesWith("--config=" + spool) {
				mu.Lock()
				cmdlines = append(cmdlines, strings.Join(args, " "))
				mu.Unlock()
			}
		}
	}()

	var expected []mongodb.Expected
	err := mongodb.NewSource(configFor(peer, src), tools, nil, t.TempDir()).List(ctx, "", func(e archive.Entry) error {
		defer e.Release()
		rd, err := e.Open(ctx, 0)
		if err != nil {
			return err
		}
		defer rd.Close()
		restored, failed, err := target.Restore(ctx, src, e.Key, rd, true)
		require.NoError(t, err)
		require.Equal(t, *e.Documents, restored, e.Key)
		require.Zero(t, failed)
		expected = append(expected, mongodb.Expected{Collection: e.Key, Documents: *e.Documents})
		return nil
	})
	close(stopWatch)
	watch.Wait()
	require.NoError(t, err)
	require.Len(t, expected, 4)
	checks, err := target.Verify(ctx, expected)
	require.NoError(t, err)
	for _, c := range checks {
		require.True(t, c.OK, "%+v", c)
		require.Equal(t, c.ExpectedDocs, c.HashesCompared)
		requireSameDocuments(t, mongofixture.RawDocs(t, client, src, c.Name), mongofixture.RawDocs(t, client, dst, c.Name), c.Name)
	}
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, cmdlines, "mongorestore was never seen running")
	for _, c := range cmdlines {
		require.Contains(t, c, "--nsFrom="+src+".")
		require.NotContains(t, c, "s3cret")
		require.NotContains(t, c, "mongodb://")
	}
	for _, name := range dirEntries(t, spool) {
		require.True(t, strings.HasPrefix(name, "backupd-fingerprint-"), "only fingerprints remain until Close: %s", name)
	}
	require.NoError(t, target.Close())
	require.Empty(t, dirEntries(t, spool))
}

func readArchiveDocs(t *testing.T, path string) map[string]bson.Raw {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	return docsOfArchive(t, f)
}
