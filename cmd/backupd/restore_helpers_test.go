package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"backupd/domain"
	"backupd/executors"
	"backupd/executors/testsupport/peers"
	"backupd/projections"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// restoreBody is a RestoreRequest as the UI sends it (API.md).
type restoreBody map[string]any

func connectionTarget(id uuid.UUID) map[string]any { return map[string]any{"connection_id": id} }

func (s *stack) typedS3Target(bucket string) map[string]any {
	settings, secrets := s.s3Settings(bucket, "")
	return map[string]any{"kind": domain.KindS3Source, "settings": settings, "secrets": secrets}
}

func (s *stack) typedMongoTarget(database string) map[string]any {
	return map[string]any{"kind": domain.KindMongoSource, "settings": map[string]string{"database": database},
		"secrets": map[string]string{"uri": s.Mongo.URI}}
}

// preflight posts the body to the preflight endpoint and requires a 200.
func (s *stack) preflight(backup uuid.UUID, body restoreBody) executors.RestorePreflight {
	s.t.Helper()
	r := s.api.Do(http.MethodPost, "/api/operations/"+backup.String()+"/restore/preflight", body)
	require.Equal(s.t, http.StatusOK, r.Status, "preflight: %s", r.Body)
	var pf executors.RestorePreflight
	r.JSON(s.t, &pf)
	return pf
}

// restore requests a restore and returns its operation id.
func (s *stack) restore(backup uuid.UUID, body restoreBody) uuid.UUID {
	s.t.Helper()
	r := s.api.Do(http.MethodPost, "/api/operations/"+backup.String()+"/restore", body)
	require.Equal(s.t, http.StatusAccepted, r.Status, "restore: %s", r.Body)
	var out struct {
		ID uuid.UUID `json:"id"`
	}
	r.JSON(s.t, &out)
	return out.ID
}

// completedBackup runs a backup through the API and waits for it.
func (s *stack) completedBackup(source, destination uuid.UUID) projections.Operation {
	s.t.Helper()
	op := s.backup(source, destination)
	return s.waitStatus(op, 5*time.Minute, domain.OpCompleted)
}

// requireVerifiedRestore waits for a restore to complete and checks what
// the product says of it.
func (s *stack) requireVerifiedRestore(id uuid.UUID, restored, skipped int64) projections.Operation {
	s.t.Helper()
	op := s.waitStatus(id, 5*time.Minute, domain.OpCompleted)
	require.Equal(s.t, domain.OpRestore, op.Kind)
	require.NotNil(s.t, op.Report, "a completed restore has its verification report")
	require.True(s.t, op.Report.Verified, "report: %+v", op.Report)
	require.Equal(s.t, restored, op.Report.Restored, "restored: %+v", op.Report)
	require.Equal(s.t, skipped, op.Report.Skipped, "skipped: %+v", op.Report)
	require.Empty(s.t, op.Report.Missing)
	require.Empty(s.t, op.Report.Mismatched)
	return op
}

// requireBucketHolds lists bucket/prefix with the peer's own client and
// requires exactly the objects of want under it: same keys, bytes,
// SHA-256, content type and user metadata.
func requireBucketHolds(t *testing.T, p peers.S3Peer, bucket, prefix string, want map[string]object) {
	t.Helper()
	got := listObjects(t, p, bucket, prefix)
	var wantKeys, gotKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	for k := range got {
		gotKeys = append(gotKeys, k)
	}
	slices.Sort(wantKeys)
	slices.Sort(gotKeys)
	require.Equal(t, wantKeys, gotKeys, "keys under s3://%s/%s", bucket, prefix)
	for k, w := range want {
		g := got[k]
		require.Equal(t, sha(w.Body), sha(g.Body), "bytes of %q", k)
		require.Equal(t, w.ContentType, g.ContentType, "content type of %q", k)
		require.Equal(t, normMeta(w.Metadata), normMeta(g.Metadata), "metadata of %q", k)
	}
}

func normMeta(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// listObjects reads every object under bucket/prefix, keyed by the key
// less the prefix.
func listObjects(t *testing.T, p peers.S3Peer, bucket, prefix string) map[string]object {
	t.Helper()
	ctx := context.Background()
	c := p.Client()
	out := map[string]object{}
	pager := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, o := range page.Contents {
			got, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			require.NoError(t, err)
			body, err := io.ReadAll(got.Body)
			got.Body.Close()
			require.NoError(t, err)
			key := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			out[key] = object{Key: key, Body: body, ContentType: aws.ToString(got.ContentType), Metadata: got.Metadata}
		}
	}
	return out
}

// putObject replaces an object with the peer's client.
func putObject(t *testing.T, p peers.S3Peer, bucket, key string, body []byte, contentType string, meta map[string]string) {
	t.Helper()
	in := &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), Metadata: meta}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	_, err := p.Client().PutObject(context.Background(), in)
	require.NoError(t, err, key)
}

func deleteObject(t *testing.T, p peers.S3Peer, bucket, key string) {
	t.Helper()
	_, err := p.Client().DeleteObject(context.Background(), &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err, key)
}

// splitLocation splits s3://bucket/key.
func splitLocation(t *testing.T, loc string) (bucket, key string) {
	t.Helper()
	rest, ok := strings.CutPrefix(loc, "s3://")
	require.True(t, ok, loc)
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key
}

// canonicalDocuments reads every document of every collection of db with
// the driver, in _id order, as canonical Extended JSON (types included:
// an int32 and an int64 of the same value differ).
func canonicalDocuments(t *testing.T, p peers.MongoPeer, db string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	d := p.Client(t).Database(db)
	names, err := d.ListCollectionNames(ctx, bson.D{})
	require.NoError(t, err)
	out := map[string][]string{}
	for _, name := range names {
		cur, err := d.Collection(name).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		require.NoError(t, err)
		docs := []string{}
		for cur.Next(ctx) {
			js, err := bson.MarshalExtJSON(cur.Current, true, false)
			require.NoError(t, err)
			docs = append(docs, string(js))
		}
		require.NoError(t, cur.Err())
		require.NoError(t, cur.Close(ctx))
		out[name] = docs
	}
	return out
}

// requireSameDocuments compares two databases document for document.
func requireSameDocuments(t *testing.T, p peers.MongoPeer, source, target string) {
	t.Helper()
	want := canonicalDocuments(t, p, source)
	got := canonicalDocuments(t, p, target)
	require.Equal(t, len(want), len(got), "collections of %s: %v", target, keysOf(got))
	for name, docs := range want {
		g, ok := got[name]
		require.True(t, ok, "collection %s is not in %s", name, target)
		require.Equal(t, len(docs), len(g), "documents of %s", name)
		for i := range docs {
			require.Equal(t, docs[i], g[i], "document %d of %s", i, name)
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// errorAnswer is the API's error body.
type errorAnswer struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func (e errorAnswer) String() string {
	return fmt.Sprintf("%s (%s): %s", e.Error.Code, e.Error.Field, e.Error.Message)
}
