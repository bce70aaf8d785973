package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"backupd/domain"

	"github.com/stretchr/testify/require"
)

// TestRestoreCancelRunning cancels a restore while it writes (the target
// is reached through a proxy that holds each upload, so the restore is
// still running when the cancel arrives): it stops between two objects,
// is recorded cancelled (not failed), the log says where it stopped, and
// the objects it wrote are complete and exactly as many as it says.
func TestRestoreCancelRunning(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	src, dst, tgt := s.S3.Bucket(t), s.S3.Bucket(t), s.S3.Bucket(t)
	const count = 30
	var objs []object
	for i := 0; i < count; i++ {
		// Above the size restored several at a time: one object in flight.
		objs = append(objs, object{Key: fmt.Sprintf("blob/%02d.bin", i), Body: randomBytes(3 << 19), ContentType: "application/octet-stream"})
	}
	originals := seedBucket(t, s.S3, src, objs)
	backup := s.completedBackup(s.s3Source(src), s.s3Destination(dst, ""))

	slow := newSlowProxy(t, s.S3.Endpoint, 250*time.Millisecond)
	target := s.typedS3Target(tgt)
	target["settings"].(map[string]string)["endpoint"] = slow.URL
	id := s.restore(backup.ID, restoreBody{"target": target, "prefix": "partial/"})

	deadline := time.Now().Add(2 * time.Minute)
	for {
		op := s.operation(id)
		if op.Status == domain.OpRunning && op.Progress != nil && op.Progress.ObjectsDone >= 2 {
			break
		}
		require.False(t, op.Status.Terminal(), "the restore ended before the cancel: %s\n%s", op.Status, s.logText(id))
		require.True(t, time.Now().Before(deadline), "the restore did not get going:\n%s", s.logText(id))
		time.Sleep(50 * time.Millisecond)
	}
	r := s.api.Do(http.MethodPost, "/api/operations/"+id.String()+"/cancel", nil)
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)

	op := s.waitStatus(id, 2*time.Minute, domain.OpCancelled)
	require.Nil(t, op.Report, "a cancelled restore reports no verification")
	log := s.logText(id)
	m := regexp.MustCompile(`restore cancelled: stopped before entry (\d+) of 30 \("blob/\d+\.bin"\): (\d+) of 30 objects restored`).FindStringSubmatch(log)
	require.NotNil(t, m, "the log says where it stopped:\n%s", log)
	next, _ := strconv.Atoi(m[1])
	restored, _ := strconv.Atoi(m[2])
	require.Less(t, restored, count, "it stopped early")
	require.Equal(t, restored+1, next, "it stopped right after the last object it restored")
	require.Contains(t, log, "remain in s3://"+tgt+"/partial/")

	written := listObjects(t, s.S3, tgt, "partial/")
	require.Len(t, written, restored, "the bucket holds what the log says")
	for k, o := range written {
		require.Equal(t, sha(originals[k].Body), sha(o.Body), "restored %q is complete", k)
	}
	uploads, err := listUploads(s, tgt)
	require.NoError(t, err)
	require.Empty(t, uploads, "no multipart upload left behind")
}
