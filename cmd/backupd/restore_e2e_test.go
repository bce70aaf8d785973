package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"backupd/domain"
	"backupd/executors/testsupport/countingproxy"

	"github.com/stretchr/testify/require"
)

// Restores of issue 5, each through the API (preflight, then restore) and
// a real worker, each result checked by the test itself with the peers'
// own clients, independently of the product's verification.

func TestRestoreS3ToS3OtherBucketAndPrefix(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{S3PartSize: 5 << 20})
	src, dst, tgt := s.S3.Bucket(t), s.S3.Bucket(t), s.S3.Bucket(t)
	objects := seedBucket(t, s.S3, src, trickyObjects())
	backup := s.completedBackup(s.s3Source(src), s.s3Destination(dst, "nightly/"))
	target := s.s3Source(tgt)
	const prefix = "restored/2026/"
	var total int64
	for _, o := range objects {
		total += int64(len(o.Body))
	}

	body := restoreBody{"target": connectionTarget(target), "prefix": prefix, "conflict": "overwrite"}
	pf := s.preflight(backup.ID, body)
	require.True(t, pf.Writable, "writable: %s", pf.WritableReason)
	require.Zero(t, pf.Existing)
	require.Equal(t, int64(len(objects)), pf.Entries)
	require.Equal(t, total, pf.Bytes)
	require.Positive(t, pf.EstimatedSeconds)
	require.NotEmpty(t, pf.EstimateBasis)
	require.False(t, pf.SameAsOriginal)
	require.Equal(t, "s3://"+tgt+"/"+prefix, pf.Target)
	require.Empty(t, listObjects(t, s.S3, tgt, ""), "a preflight leaves nothing behind")

	id := s.restore(backup.ID, body)
	op := s.requireVerifiedRestore(id, int64(len(objects)), 0)
	require.Equal(t, int64(len(objects)), op.Report.Checked)
	requireBucketHolds(t, s.S3, tgt, prefix, objects)
	log := s.logText(id)
	for _, step := range []string{"reading the manifest", "restoring into s3://" + tgt + "/" + prefix, "downloading and unpacking",
		"restoring big/large.bin", "archive read and checked", "verifying", "restore completed and verified"} {
		require.Contains(t, log, step)
	}
	require.NotNil(t, op.Progress)
	require.Equal(t, int64(len(objects)), op.Progress.ObjectsDone)

	t.Run("again with skip: every object exists and is skipped", func(t *testing.T) {
		body := restoreBody{"target": connectionTarget(target), "prefix": prefix, "conflict": "skip"}
		pf := s.preflight(backup.ID, body)
		require.Equal(t, int64(len(objects)), pf.Existing)
		require.NotEmpty(t, pf.ExistingSample)
		id := s.restore(backup.ID, body)
		s.requireVerifiedRestore(id, 0, int64(len(objects)))
		requireBucketHolds(t, s.S3, tgt, prefix, objects)
	})

	t.Run("typed-in details are checked by connecting; the error names the field", func(t *testing.T) {
		typed := s.typedS3Target(tgt)
		typed["secrets"] = map[string]string{"secret_access_key": "not-the-secret-0123"}
		r := s.api.Do(http.MethodPost, "/api/operations/"+backup.ID.String()+"/restore/preflight", restoreBody{"target": typed, "prefix": "x/"})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		var e errorAnswer
		r.JSON(t, &e)
		require.Equal(t, "connection-check-failed", e.Error.Code, e.String())
		require.Equal(t, "secret_access_key", e.Error.Field, e.String())
		require.NotContains(t, string(r.Body), "not-the-secret-0123")

		missing := s.typedS3Target("no-such-bucket-" + strings.ToLower(tgt[len(tgt)-6:]))
		r = s.api.Do(http.MethodPost, "/api/operations/"+backup.ID.String()+"/restore/preflight", restoreBody{"target": missing})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		r.JSON(t, &e)
		require.Equal(t, "bucket", e.Error.Field, e.String())
	})
}

func TestRestoreS3FromDriveToOriginalBucket(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{DriveChunk: 1 << 20})
	src := s.S3.Bucket(t)
	objects := seedBucket(t, s.S3, src, trickyObjects())
	dst, _ := s.driveDestination("restore-" + src)
	source := s.s3Source(src)
	backup := s.completedBackup(source, dst)

	// Damage the original: objects deleted, one rewritten, one added.
	deleteObject(t, s.S3, src, "small/0007.json")
	deleteObject(t, s.S3, src, "big/large.bin")
	putObject(t, s.S3, src, "with space/a b.txt", []byte("overwritten by mistake"), "text/plain", nil)
	putObject(t, s.S3, src, "new-since-backup.txt", []byte("kept: a restore deletes nothing"), "text/plain", nil)

	body := restoreBody{"target": connectionTarget(source), "conflict": "overwrite"}
	pf := s.preflight(backup.ID, body)
	require.True(t, pf.SameAsOriginal)
	require.True(t, pf.Writable, pf.WritableReason)
	require.Equal(t, int64(len(objects)-2), pf.Existing)

	r := s.api.Do(http.MethodPost, "/api/operations/"+backup.ID.String()+"/restore", body)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	var e errorAnswer
	r.JSON(t, &e)
	require.Equal(t, "confirm-overwrite-original", e.Error.Code, e.String())
	require.Equal(t, "overwrite_original", e.Error.Field)
	require.Contains(t, e.Error.Message, "confirm")

	body["overwrite_original"] = true
	id := s.restore(backup.ID, body)
	op := s.requireVerifiedRestore(id, int64(len(objects)), 0)
	require.Equal(t, []string{"new-since-backup.txt"}, op.Report.Extra, "extras are listed, not deleted")
	want := map[string]object{}
	for k, o := range objects {
		want[k] = o
	}
	want["new-since-backup.txt"] = object{Key: "new-since-backup.txt", Body: []byte("kept: a restore deletes nothing"), ContentType: "text/plain"}
	requireBucketHolds(t, s.S3, src, "", want)
	require.Contains(t, s.logText(id), "downloading and unpacking the archive as it arrives: gdrive://")
}

// TestRestoreDamagedArchive: one byte flipped in the archive at the
// destination, then the archive cut short: each restore fails naming the
// problem and never reports success.
func TestRestoreDamagedArchive(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	src, dst, tgt := s.S3.Bucket(t), s.S3.Bucket(t), s.S3.Bucket(t)
	var objs []object
	for i := 0; i < 40; i++ {
		objs = append(objs, object{Key: fmt.Sprintf("data/%c/%03d.bin", 'a'+i%5, i), Body: randomBytes(64 << 10), ContentType: "application/octet-stream"})
	}
	originals := seedBucket(t, s.S3, src, objs)
	backup := s.completedBackup(s.s3Source(src), s.s3Destination(dst, ""))
	archive := downloadS3(t, s.S3, backup.Result.ArchiveLocation)
	bucket, key := splitLocation(t, backup.Result.ArchiveLocation)
	target := s.s3Source(tgt)

	sidecar := downloadS3(t, s.S3, backup.Result.ManifestLocation)
	_, sidecarKey := splitLocation(t, backup.Result.ManifestLocation)

	cases := []struct {
		name      string
		archive   func([]byte) []byte // nil: as written
		manifest  func([]byte) []byte // nil: as written
		preflight string              // the preflight's refusal, "" when it cannot see the damage
		problems  []string
	}{
		{name: "one byte flipped", archive: func(b []byte) []byte {
			c := append([]byte(nil), b...)
			c[len(c)/2] ^= 0x5a
			return c
		}, problems: []string{"(gzip)", "(sha256)", "(tar)", "(entry-sha256)"}},
		{name: "cut short", archive: func(b []byte) []byte { return append([]byte(nil), b[:len(b)*2/3]...) },
			preflight: "archive-damaged", problems: []string{"(truncated)", "(gzip)", "(size)"}},
		{name: "manifest beside the archive altered", manifest: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"size":65536`), []byte(`"size":65535`), 1)
		}, preflight: "manifest-unreadable", problems: []string{"(manifest)"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, m := archive, sidecar
			if c.archive != nil {
				a = c.archive(archive)
			}
			if c.manifest != nil {
				m = c.manifest(sidecar)
				require.NotEqual(t, sha(sidecar), sha(m))
			}
			putObject(t, s.S3, bucket, key, a, "application/gzip", nil)
			putObject(t, s.S3, bucket, sidecarKey, m, "application/json", nil)
			prefix := fmt.Sprintf("attempt-%d/", i+1)
			body := restoreBody{"target": connectionTarget(target), "prefix": prefix}
			if c.preflight != "" {
				r := s.api.Do(http.MethodPost, "/api/operations/"+backup.ID.String()+"/restore/preflight", body)
				require.Equal(t, http.StatusConflict, r.Status, "the preflight sees the damage: %s", r.Body)
				var e errorAnswer
				r.JSON(t, &e)
				require.Equal(t, c.preflight, e.Error.Code, e.String())
			}
			id := s.restore(backup.ID, body)
			op := s.waitStatus(id, 5*time.Minute, domain.OpFailed)
			require.Equal(t, "archive-damaged", op.ErrorCode, op.Error)
			t.Logf("%s: %s", c.name, op.Error)
			require.Nil(t, op.Report, "no verification report on a damaged archive")
			named := false
			for _, p := range c.problems {
				named = named || strings.Contains(op.Error, p)
			}
			require.True(t, named, "the error names the problem: %s", op.Error)
			log := s.logText(id)
			require.Contains(t, log, "the archive is damaged")
			require.NotContains(t, log, "restore completed")
			// What was written before the damage was found is intact: no
			// object is ever completed with bytes that differ.
			written := listObjects(t, s.S3, tgt, prefix)
			require.Less(t, len(written), len(objs), "the restore stopped at the damage")
			for k, o := range written {
				require.Equal(t, sha(originals[k].Body), sha(o.Body), "restored %q", k)
			}
		})
	}
}

// TestRestoreResumesCutDownload: the archive's download is cut mid-way
// (a proxy in front of the destination drops the connection once); the
// restore continues it with a ranged GET and completes, verified.
func TestRestoreResumesCutDownload(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	src, dst, tgt := s.S3.Bucket(t), s.S3.Bucket(t), s.S3.Bucket(t)
	objects := seedBucket(t, s.S3, src, trickyObjects())
	proxy := countingproxy.New(t, s.S3.Endpoint)
	backup := s.completedBackup(s.s3Source(src), s.s3DestinationAt(dst, "", proxy.URL))
	_, key := splitLocation(t, backup.Result.ArchiveLocation)
	proxy.Reset()
	proxy.CutResponseOnce(http.MethodGet, func(path string) bool { return strings.HasSuffix(path, "/"+key) }, 4<<20)

	id := s.restore(backup.ID, restoreBody{"target": connectionTarget(s.s3Source(tgt)), "prefix": "after-cut/"})
	s.requireVerifiedRestore(id, int64(len(objects)), 0)
	requireBucketHolds(t, s.S3, tgt, "after-cut/", objects)
	var gets, cut int
	for _, c := range proxy.Calls() {
		if c.Method == http.MethodGet && strings.HasSuffix(c.Path, "/"+key) {
			gets++
			if c.Cut {
				cut++
			}
		}
	}
	require.Equal(t, 1, cut, "the download was cut once")
	require.GreaterOrEqual(t, gets, 2, "and continued with another GET")
}
