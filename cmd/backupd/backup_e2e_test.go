package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/stretchr/testify/require"
)

// The four pairs of issue 3, each through the API and a real worker, each
// archive checked by the test with GNU tar and the peers' own clients.

func TestBackupS3ToS3(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{S3PartSize: 5 << 20})
	src, dst := s.S3.Bucket(t), s.S3.Bucket(t)
	objects := seedBucket(t, s.S3, src, trickyObjects())

	op := s.backup(s.s3Source(src), s.s3Destination(dst, "nightly/"))
	done := s.waitStatus(op, 5*time.Minute, domain.OpCompleted)
	require.NotNil(t, done.Result)
	require.True(t, strings.HasPrefix(done.Result.ArchiveLocation, "s3://"+dst+"/nightly/"), done.Result.ArchiveLocation)
	require.NotNil(t, done.ArchiveSize)
	require.Equal(t, done.Result.ArchiveSize, *done.ArchiveSize, "the history shows the archive size")

	archive := downloadS3(t, s.S3, done.Result.ArchiveLocation)
	sidecar := downloadS3(t, s.S3, done.Result.ManifestLocation)
	verifyBucketArchive(t, archive, sidecar, done.Result, objects)
	require.Greater(t, len(archive), 10<<20, "several 5 MiB parts were uploaded")

	log := s.logText(op)
	for _, step := range []string{"connecting", "listed page", "compressing", "part 1 uploaded", "part 3 uploaded", "backup completed"} {
		require.Contains(t, log, step)
	}
	// The restore wizard reads the manifest's first entries only.
	r := s.api.Do(http.MethodGet, "/api/operations/"+op.String()+"/manifest?entries=10", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var preview struct {
		Totals           struct{ Entries int64 } `json:"totals"`
		Archive          struct{ SHA256 string } `json:"archive"`
		Entries          []json.RawMessage       `json:"entries"`
		EntriesTruncated bool                    `json:"entries_truncated"`
	}
	r.JSON(t, &preview)
	require.Len(t, preview.Entries, 10)
	require.True(t, preview.EntriesTruncated)
	require.Equal(t, int64(len(objects)), preview.Totals.Entries)
	require.Equal(t, done.Result.ArchiveSHA256, preview.Archive.SHA256)

	// No multipart upload is left behind.
	uploads, err := listUploads(s, dst)
	require.NoError(t, err)
	require.Empty(t, uploads)
}

func TestBackupS3ToDrive(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{DriveChunk: 1 << 20})
	src := s.S3.Bucket(t)
	objects := seedBucket(t, s.S3, src, trickyObjects())
	dst, token := s.driveDestination("backups-" + src)

	op := s.backup(s.s3Source(src), dst)
	done := s.waitStatus(op, 5*time.Minute, domain.OpCompleted)
	require.True(t, strings.HasPrefix(done.Result.ArchiveLocation, "gdrive://"), done.Result.ArchiveLocation)
	archive := downloadDrive(t, s.Drive, token, done.Result.ArchiveLocation)
	sidecar := downloadDrive(t, s.Drive, token, done.Result.ManifestLocation)
	verifyBucketArchive(t, archive, sidecar, done.Result, objects)
	require.Contains(t, s.logText(op), "Google Drive")
}

func TestBackupMongoToS3(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	db := s.Mongo.Database(t)
	want := seedShop(t, s.Mongo, db, 2000)
	dst := s.S3.Bucket(t)

	op := s.backup(s.mongoSource(db), s.s3Destination(dst, ""))
	done := s.waitStatus(op, 5*time.Minute, domain.OpCompleted)
	require.Equal(t, db, done.Result.Database)
	require.Equal(t, int64(3), done.Result.ObjectCount)
	require.NotEmpty(t, done.Result.MongodumpVersion)
	archive := downloadS3(t, s.S3, done.Result.ArchiveLocation)
	require.Equal(t, sha(archive), done.Result.ArchiveSHA256)
	verifyMongoArchive(t, s.Mongo, archive, db, want)

	log := s.logText(op)
	for _, step := range []string{"writing `" + db + ".orders`", "done dumping `" + db + ".orders` (2000 documents)", "backup completed"} {
		require.Contains(t, log, step)
	}
}

func TestBackupMongoToDrive(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	db := s.Mongo.Database(t)
	want := seedShop(t, s.Mongo, db, 500)
	dst, token := s.driveDestination("mongo-" + db)

	op := s.backup(s.mongoSource(db), dst)
	done := s.waitStatus(op, 5*time.Minute, domain.OpCompleted)
	archive := downloadDrive(t, s.Drive, token, done.Result.ArchiveLocation)
	require.Equal(t, sha(archive), done.Result.ArchiveSHA256)
	verifyMongoArchive(t, s.Mongo, archive, db, want)
}

// Drive misbehaves mid-upload (a 503, a cut connection, an expired token):
// the backup still completes with identical bytes.
func TestBackupToDriveSurvivesFaults(t *testing.T) {
	t.Parallel()
	drive, _ := peers.PrivateDrive(t)
	s := startStack(t, stackOptions{Drive: &drive, DriveChunk: 1 << 20})
	src := s.S3.Bucket(t)
	objects := seedBucket(t, s.S3, src, bigObjects(8, 2<<20))
	dst, _ := s.driveDestination("faults-" + src)

	// Faults fire on upload requests in order: a 503 on the 3rd chunk
	// request, a connection cut on the next one, then every access token
	// expires while the upload runs.
	drive.Fault(t, map[string]any{"method": "PUT", "path_prefix": "/upload/", "status": 503, "reason": "backendError", "delay_ms": 300})
	drive.Fault(t, map[string]any{"method": "PUT", "path_prefix": "/upload/", "drop": true, "after_bytes": 300000})
	op := s.backup(s.s3Source(src), dst)
	require.Eventually(t, func() bool {
		st := drive.State(t)
		faults, _ := st["faults_pending"].([]any)
		return len(faults) == 0
	}, 2*time.Minute, 20*time.Millisecond, "the faults fired")
	drive.Control(t, "expire-tokens", nil)

	done := s.waitStatus(op, 5*time.Minute, domain.OpCompleted)
	archive := downloadDrive(t, &drive, refreshToken(t, &drive), done.Result.ArchiveLocation)
	verifyBucketArchive(t, archive, downloadDrive(t, &drive, refreshToken(t, &drive), done.Result.ManifestLocation), done.Result, objects)
	reqs := drive.State(t)["requests"].(map[string]any)["PUT /upload/drive/v3/files?upload_id"].(map[string]any)
	require.NotNil(t, reqs["503"], "the 503 was answered: %v", reqs)
	require.NotNil(t, reqs["401"], "the expired token was refused once: %v", reqs)
	require.Contains(t, s.logText(op), "503")
}
