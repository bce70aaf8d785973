package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backupd/domain"
	"backupd/executors"
	"backupd/executors/archive"
	"backupd/executors/testsupport/countingproxy"
	"backupd/executors/testsupport/mongotools"
	"backupd/executors/testsupport/peers"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"
)

func bigObjects(n, size int) []object {
	out := make([]object, n)
	for i := range out {
		out[i] = object{Key: fmt.Sprintf("data/%03d.bin", i), Body: randomBytes(size), ContentType: "application/octet-stream"}
	}
	return out
}

func (s *stack) s3DestinationAt(bucket, prefix, endpoint string) uuid.UUID {
	settings, secrets := s.s3Settings(bucket, prefix)
	settings["endpoint"] = endpoint
	return s.createConnection(domain.KindS3Destination, "archive via "+endpoint, settings, secrets)
}

func (s *stack) act(op uuid.UUID, action string) {
	s.t.Helper()
	r := s.api.Do(http.MethodPost, "/api/operations/"+op.String()+"/"+action, nil)
	require.Equal(s.t, http.StatusAccepted, r.Status, "%s: %s", action, r.Body)
}

func (s *stack) lastCheckpoint(op uuid.UUID) *archive.Checkpoint {
	s.t.Helper()
	j, err := executors.OpenJournal(context.Background(), s.Store, op, "test", 0)
	require.NoError(s.t, err)
	cp, err := j.Last(context.Background())
	require.NoError(s.t, err)
	require.NotNil(s.t, cp, "a checkpoint is recorded")
	return cp
}

// manifestEntries is the manifest inside an archive, as key → "size sha256".
func manifestEntries(t *testing.T, archiveBytes []byte) map[string]string {
	t.Helper()
	dir, _ := extractWithTar(t, archiveBytes)
	m := readManifest(t, mustRead(t, filepath.Join(dir, "backupd-manifest.json")))
	out := map[string]string{}
	for _, e := range m.Entries {
		out[e.Key] = fmt.Sprintf("%d %s %s", e.Size, e.SHA256, e.ETag)
	}
	return out
}

// uploadedTo sums the request bytes the proxy forwarded for one archive:
// its parts and any stashed tail, not the manifest beside it.
func uploadedTo(p *countingproxy.Proxy, bucket, key string) int64 {
	var n int64
	for _, c := range p.Calls() {
		if c.Method == http.MethodPut && strings.HasPrefix(c.Path, "/"+bucket+"/"+key) && !strings.HasSuffix(c.Path, ".manifest.json") {
			n += c.RequestBytes
		}
	}
	return n
}

func TestPauseAndResumeS3ToS3(t *testing.T) {
	t.Parallel()
	const part = 5 << 20
	s := startStack(t, stackOptions{S3PartSize: part})
	src, dst, refDst := s.S3.Bucket(t), s.S3.Bucket(t), s.S3.Bucket(t)
	objects := seedBucket(t, s.S3, src, bigObjects(12, 4<<20))
	counter := countingproxy.New(t, s.S3.Endpoint)
	slow := newSlowProxy(t, counter.URL, 300*time.Millisecond)
	source := s.s3Source(src)
	dest := s.s3DestinationAt(dst, "paused/", slow.URL)

	fourParts := slow.afterUploads(4)
	op := s.backup(source, dest)
	s.waitUploads(fourParts, op)
	asked := time.Now()
	s.act(op, "pause")
	paused := s.waitStatus(op, 2*time.Minute, domain.OpPaused)
	t.Logf("pause took effect %s after the request", time.Since(asked).Round(time.Millisecond))
	require.NotEmpty(t, paused.PausedPosition)
	require.Equal(t, []string{"resume", "cancel"}, paused.AllowedActions)

	// What the executor recorded: the pause checkpoint with the listing
	// position, the archive stream's position and the open multipart upload.
	cp := s.lastCheckpoint(op)
	require.Equal(t, "pause", cp.Reason)
	require.Greater(t, cp.Position.CompressedBytes, int64(0))
	require.Greater(t, cp.Position.TarOffset, int64(0))
	require.NotEmpty(t, cp.Position.ArchiveSHA256)
	var state map[string]any
	require.NoError(t, json.Unmarshal(cp.Upload, &state))
	require.NotEmpty(t, state["upload_id"], "the multipart upload id is recorded: %s", cp.Upload)
	uploads, err := listUploads(s, dst)
	require.NoError(t, err)
	require.Len(t, uploads, 1, "the multipart upload stays open while paused")

	// Paused means paused: nothing more goes to the destination.
	sentAtPause := counter.RequestBytes(http.MethodPut, "/"+dst+"/")
	time.Sleep(2 * time.Second)
	require.Equal(t, sentAtPause, counter.RequestBytes(http.MethodPut, "/"+dst+"/"), "no upload while paused")

	slow.SetDelay(0)
	s.act(op, "resume")
	done := s.waitStatus(op, 3*time.Minute, domain.OpCompleted)
	require.Equal(t, 2, done.Attempt)
	archiveBytes := downloadS3(t, s.S3, done.Result.ArchiveLocation)
	verifyBucketArchive(t, archiveBytes, downloadS3(t, s.S3, done.Result.ManifestLocation), done.Result, objects)

	// The same as an uninterrupted backup of the same bucket.
	ref := s.waitStatus(s.backup(source, s.s3Destination(refDst, "")), 3*time.Minute, domain.OpCompleted)
	require.Equal(t, manifestEntries(t, downloadS3(t, s.S3, ref.Result.ArchiveLocation)), manifestEntries(t, archiveBytes))

	// Resume re-sent at most the one part in flight.
	sent := uploadedTo(counter, dst, "paused/"+done.Result.ArchiveName)
	resent := sent - done.Result.ArchiveSize
	t.Logf("archive %d bytes; the destination received %d bytes for it: %d re-sent (part size %d)", done.Result.ArchiveSize, sent, resent, part)
	require.GreaterOrEqual(t, resent, int64(0))
	require.LessOrEqual(t, resent, int64(part))

	uploads, err = listUploads(s, dst)
	require.NoError(t, err)
	require.Empty(t, uploads)
	log := s.logText(op)
	require.Contains(t, log, "paused")
	require.Contains(t, log, "resumes the backup")
}

// requireNothingLeft checks the destination and the worker's temp folder
// after a cancel: no multipart upload, no object under the prefix, no spool.
func requireNothingLeft(t *testing.T, s *stack, bucket, prefix string) {
	t.Helper()
	requireCleanedUp(t, s, bucket, prefix, nil)
}

// heldBackup starts a backup of a fresh 40 MiB bucket to another bucket
// under prefix, through a proxy that holds each upload request, and returns
// once three parts are on their way.
func (s *stack) heldBackup(prefix string) (op uuid.UUID, dst string) {
	s.t.Helper()
	src := s.S3.Bucket(s.t)
	dst = s.S3.Bucket(s.t)
	seedBucket(s.t, s.S3, src, bigObjects(10, 4<<20))
	slow := newSlowProxy(s.t, s.S3.Endpoint, 300*time.Millisecond)
	dest := s.s3DestinationAt(dst, prefix, slow.URL)
	started := slow.afterUploads(3)
	op = s.backup(s.s3Source(src), dest)
	s.waitUploads(started, op)
	return op, dst
}

func TestCancelRunningBackup(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{S3PartSize: 5 << 20})
	op, dst := s.heldBackup("cancelled/")
	s.act(op, "cancel")
	done := s.waitStatus(op, 2*time.Minute, domain.OpCancelled)
	require.Empty(t, done.AllowedActions)
	requireNothingLeft(t, s, dst, "cancelled/")
	log := s.logText(op)
	require.Contains(t, log, "cancel")
	require.Contains(t, strings.ToLower(log), "abort")
}

func TestCancelPausedBackup(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{S3PartSize: 5 << 20})
	op, dst := s.heldBackup("p/")
	s.act(op, "pause")
	s.waitStatus(op, 2*time.Minute, domain.OpPaused)
	uploads, err := listUploads(s, dst)
	require.NoError(t, err)
	require.Len(t, uploads, 1)

	s.act(op, "cancel")
	s.waitStatus(op, 2*time.Minute, domain.OpCancelled)
	requireNothingLeft(t, s, dst, "p/")
	require.Contains(t, s.logText(op), "removed the unfinished upload")
}

func TestPauseAndResumeMongoToS3(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{MongodumpEnv: []string{mongotools.EnvDocumentDelay + "=2ms"}})
	db := s.Mongo.Database(t)
	ctx := context.Background()
	want := map[string]int64{}
	for _, c := range []string{"c1", "c2", "c3", "c4"} {
		var docs []any
		for i := 0; i < 400; i++ {
			docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "coll", Value: c}, {Key: "pad", Value: strings.Repeat("x", 100)}})
		}
		_, err := s.Mongo.Client(t).Database(db).Collection(c).InsertMany(ctx, docs)
		require.NoError(t, err)
		want[c] = 400
	}
	dst := s.S3.Bucket(t)
	op := s.backup(s.mongoSource(db), s.s3Destination(dst, ""))
	require.Eventually(t, func() bool { return strings.Contains(s.logText(op), "done dumping `"+db+".c1`") }, 2*time.Minute, 100*time.Millisecond)
	s.act(op, "pause")
	paused := s.waitStatus(op, 2*time.Minute, domain.OpPaused)
	require.NotEmpty(t, paused.PausedPosition)
	cp := s.lastCheckpoint(op)
	require.Equal(t, "pause", cp.Reason)
	require.GreaterOrEqual(t, cp.Position.EntriesDone, int64(1))
	require.Nil(t, cp.Position.Partial, "a MongoDB backup pauses at a collection boundary")
	doneBefore := cp.Position.EntriesDone

	s.act(op, "resume")
	done := s.waitStatus(op, 3*time.Minute, domain.OpCompleted)
	verifyMongoArchive(t, s.Mongo, downloadS3(t, s.S3, done.Result.ArchiveLocation), db, want)

	// Resume dumped only what remained: no collection was completed twice,
	// and the ones archived before the pause were not dumped again.
	log := s.logText(op)
	for _, c := range []string{"c1", "c2", "c3", "c4"} {
		require.Equal(t, 1, strings.Count(log, "done dumping `"+db+"."+c+"`"), "collection %s:\n%s", c, log)
	}
	for i := 1; i <= int(doneBefore); i++ {
		require.Equal(t, 1, strings.Count(log, fmt.Sprintf("writing `%s.c%d`", db, i)), "c%d was archived before the pause", i)
	}
}

func TestPauseAndResumeS3ToDrive(t *testing.T) {
	t.Parallel()
	const chunk = 1 << 20
	drive, _ := peers.PrivateDrive(t)
	counter := countingproxy.New(t, drive.URL)
	slow := newSlowProxy(t, counter.URL, 200*time.Millisecond)
	viaProxy := drive
	viaProxy.URL = slow.URL
	s := startStack(t, stackOptions{Drive: &viaProxy, DriveChunk: chunk})
	src := s.S3.Bucket(t)
	objects := seedBucket(t, s.S3, src, bigObjects(6, 3<<20))
	dest, token := s.driveDestination("paused-" + src)

	started := slow.afterUploads(6)
	op := s.backup(s.s3Source(src), dest)
	s.waitUploads(started, op)
	asked := time.Now()
	s.act(op, "pause")
	s.waitStatus(op, 2*time.Minute, domain.OpPaused)
	t.Logf("pause took effect %s after the request", time.Since(asked).Round(time.Millisecond))
	cp := s.lastCheckpoint(op)
	require.Equal(t, "pause", cp.Reason)
	var state map[string]any
	require.NoError(t, json.Unmarshal(cp.Upload, &state))
	require.NotEmpty(t, state["session_uri"], "the resumable session is recorded")
	require.Greater(t, state["confirmed"], float64(0), "the offset the server confirmed is recorded")
	sessions := drive.State(t)["upload_sessions"].([]any)
	require.Len(t, sessions, 1, "the resumable session stays open while paused")

	sentAtPause := counter.RequestBytes(http.MethodPut, "/upload/")
	time.Sleep(2 * time.Second)
	require.Equal(t, sentAtPause, counter.RequestBytes(http.MethodPut, "/upload/"), "no upload while paused")

	slow.SetDelay(0)
	s.act(op, "resume")
	done := s.waitStatus(op, 3*time.Minute, domain.OpCompleted)
	verifyBucketArchive(t, downloadDrive(t, &drive, token, done.Result.ArchiveLocation),
		downloadDrive(t, &drive, token, done.Result.ManifestLocation), done.Result, objects)
	sent := counter.RequestBytes(http.MethodPut, "/upload/")
	resent := sent - done.Result.ArchiveSize
	t.Logf("archive %d bytes; Drive received %d bytes for it: %d re-sent (chunk size %d)", done.Result.ArchiveSize, sent, resent, chunk)
	require.GreaterOrEqual(t, resent, int64(0))
	require.LessOrEqual(t, resent, int64(chunk))
	require.Empty(t, drive.State(t)["upload_sessions"])
}

// A backup paused for longer than Google keeps an upload session (a week)
// starts its archive again when resumed, instead of failing.
func TestResumeAfterTheDriveSessionExpiredStartsOver(t *testing.T) {
	t.Parallel()
	drive, _ := peers.PrivateDrive(t)
	slow := newSlowProxy(t, drive.URL, 200*time.Millisecond)
	viaProxy := drive
	viaProxy.URL = slow.URL
	s := startStack(t, stackOptions{Drive: &viaProxy, DriveChunk: 1 << 20})
	src := s.S3.Bucket(t)
	objects := seedBucket(t, s.S3, src, bigObjects(4, 3<<20))
	dest, _ := s.driveDestination("expired-" + src)

	started := slow.afterUploads(4)
	op := s.backup(s.s3Source(src), dest)
	s.waitUploads(started, op)
	s.act(op, "pause")
	s.waitStatus(op, 2*time.Minute, domain.OpPaused)
	drive.Control(t, "advance-clock", map[string]any{"seconds": 8 * 24 * 3600})

	slow.SetDelay(0)
	s.act(op, "resume")
	done := s.waitStatus(op, 3*time.Minute, domain.OpCompleted)
	verifyBucketArchive(t, downloadDrive(t, &drive, refreshToken(t, &drive), done.Result.ArchiveLocation),
		downloadDrive(t, &drive, refreshToken(t, &drive), done.Result.ManifestLocation), done.Result, objects)
	require.Contains(t, s.logText(op), "starting the archive again from the beginning")
}

// A cancel that comes after the last object is in the archive, while the
// last parts still upload, still cancels: nothing is completed or left.
func TestCancelWhileTheLastPartsUpload(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{S3PartSize: 5 << 20})
	src, dst := s.S3.Bucket(t), s.S3.Bucket(t)
	seedBucket(t, s.S3, src, bigObjects(3, 4<<20))
	slow := newSlowProxy(t, s.S3.Endpoint, 3*time.Second)
	dest := s.s3DestinationAt(dst, "late/", slow.URL)
	op := s.backup(s.s3Source(src), dest)
	require.Eventually(t, func() bool { return strings.Contains(s.logText(op), "objects are in the archive") }, 2*time.Minute, 50*time.Millisecond)
	s.act(op, "cancel")
	done := s.waitStatus(op, 2*time.Minute, domain.OpCancelled)
	require.Empty(t, done.AllowedActions)
	slow.SetDelay(0)
	requireNothingLeft(t, s, dst, "late/")
}
