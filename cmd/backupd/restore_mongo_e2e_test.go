package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

// MongoDB restores to a different database, typed in (URI + database),
// checked document for document against the source database with the
// driver, independently of the product's verification.

func TestRestoreMongoFromS3ToOtherDatabase(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	db := s.Mongo.Database(t)
	counts := seedShop(t, s.Mongo, db, 1500)
	backup := s.completedBackup(s.mongoSource(db), s.s3Destination(s.S3.Bucket(t), "mongo/"))
	copyDB := s.Mongo.Database(t)

	// insert: into a database that does not exist yet.
	body := restoreBody{"target": s.typedMongoTarget(copyDB), "database": copyDB, "conflict": "insert"}
	pf := s.preflight(backup.ID, body)
	require.True(t, pf.Writable, pf.WritableReason)
	require.Zero(t, pf.Existing)
	require.Empty(t, pf.CollectionsExisting)
	require.Equal(t, int64(len(counts)), pf.Entries)
	require.False(t, pf.SameAsOriginal)
	require.Equal(t, "database "+copyDB+" of database "+copyDB+" (typed in)", pf.Target)

	id := s.restore(backup.ID, body)
	op := s.requireVerifiedRestore(id, int64(len(counts)), 0)
	require.Len(t, op.Report.Collections, len(counts))
	for _, c := range op.Report.Collections {
		require.True(t, c.OK, "%+v", c)
		require.Equal(t, counts[c.Name], c.ActualDocs)
		require.Equal(t, counts[c.Name], c.HashesCompared, "every document's hash is compared")
	}
	requireSameDocuments(t, s.Mongo, db, copyDB)
	log := s.logText(id)
	require.Contains(t, log, "collection orders restored into "+copyDB+".orders: 1500 documents")
	require.Contains(t, log, "restore completed and verified")

	// drop: the collections now exist; they are dropped and restored again.
	body["conflict"] = "drop"
	pf = s.preflight(backup.ID, body)
	require.Equal(t, []string{"customers", "orders"}, nonEmptyCollections(pf.CollectionsExisting, counts), "%v", pf.CollectionsExisting)
	id = s.restore(backup.ID, body)
	s.requireVerifiedRestore(id, int64(len(counts)), 0)
	requireSameDocuments(t, s.Mongo, db, copyDB)
	require.Contains(t, s.logText(id), "each collection is dropped before it is restored")
}

func TestRestoreMongoFromDriveToOtherDatabase(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	db := s.Mongo.Database(t)
	counts := seedShop(t, s.Mongo, db, 400)
	dst, _ := s.driveDestination("mongo-restore-" + db)
	source := s.mongoSource(db)
	backup := s.completedBackup(source, dst)
	copyDB := s.Mongo.Database(t)

	// Restoring to the source connection's own database asks for a
	// confirmation; another database does not.
	pf := s.preflight(backup.ID, restoreBody{"target": connectionTarget(source), "conflict": "drop"})
	require.True(t, pf.SameAsOriginal)
	require.Equal(t, []string{"customers", "orders"}, nonEmptyCollections(pf.CollectionsExisting, counts))

	// Typed-in details are proven by connecting; the answer names the
	// field and never repeats the secret.
	wrong := s.typedMongoTarget(copyDB)
	u, err := url.Parse(s.Mongo.URI)
	require.NoError(t, err)
	u.User = url.UserPassword(u.User.Username(), "wrong-pass-0123")
	wrong["secrets"] = map[string]string{"uri": u.String()}
	r := s.api.Do(http.MethodPost, "/api/operations/"+backup.ID.String()+"/restore/preflight", restoreBody{"target": wrong, "database": copyDB})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	var e errorAnswer
	r.JSON(t, &e)
	require.Equal(t, "connection-check-failed", e.Error.Code, e.String())
	require.NotEmpty(t, e.Error.Field, e.String())
	require.NotContains(t, string(r.Body), "wrong-pass-0123")

	body := restoreBody{"target": s.typedMongoTarget(copyDB), "database": copyDB, "conflict": "drop"}
	id := s.restore(backup.ID, body)
	s.requireVerifiedRestore(id, int64(len(counts)), 0)
	requireSameDocuments(t, s.Mongo, db, copyDB)
	require.Contains(t, s.logText(id), "gdrive://")
}

// nonEmptyCollections keeps the collections that hold documents (whether
// an empty collection survives a dump and restore is the server's
// business), sorted.
func nonEmptyCollections(names []string, counts map[string]int64) []string {
	var out []string
	for _, n := range names {
		if counts[n] > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// insert alongside documents the target already holds: every archived
// document arrives, the others are left alone and reported, not failed.
func TestRestoreMongoInsertAlongsideExistingDocuments(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	db := s.Mongo.Database(t)
	counts := seedShop(t, s.Mongo, db, 300)
	backup := s.completedBackup(s.mongoSource(db), s.s3Destination(s.S3.Bucket(t), ""))

	target := s.Mongo.Database(t)
	var others []any
	for i := 0; i < 25; i++ {
		others = append(others, bson.D{{Key: "_id", Value: 100000 + i}, {Key: "note", Value: "was here before"}})
	}
	_, err := s.Mongo.Client(t).Database(target).Collection("orders").InsertMany(context.Background(), others)
	require.NoError(t, err)

	body := restoreBody{"target": s.typedMongoTarget(target), "database": target, "conflict": "insert"}
	require.Contains(t, s.preflight(backup.ID, body).CollectionsExisting, "orders")
	op := s.requireVerifiedRestore(s.restore(backup.ID, body), int64(len(counts)), 0)
	for _, c := range op.Report.Collections {
		require.True(t, c.OK, "%+v", c)
		if c.Name == "orders" {
			require.Equal(t, int64(25), c.ExtraDocs)
			require.Equal(t, counts["orders"]+25, c.ActualDocs)
		}
	}
	n, err := s.Mongo.Client(t).Database(target).Collection("orders").CountDocuments(context.Background(), bson.D{{Key: "note", Value: "was here before"}})
	require.NoError(t, err)
	require.Equal(t, int64(25), n)
}
