package main

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"backupd/domain"

	"github.com/stretchr/testify/require"
)

// TestRestoreWorkerShutdownThenResume stops the worker process running a
// restore (SIGTERM, as a deploy does): the restore stops between two
// objects and is marked interrupted, not failed; resumed, another worker
// reads the archive again from the beginning and the restore completes,
// verified, with every object as the backup holds it.
func TestRestoreWorkerShutdownThenResume(t *testing.T) {
	t.Parallel()
	p := startProcStack(t, "worker-a", "worker-b")
	s := p.asStack()
	src, dst, tgt := p.S3.Bucket(t), p.S3.Bucket(t), p.S3.Bucket(t)
	var objs []object
	for i := 0; i < 24; i++ {
		objs = append(objs, object{Key: fmt.Sprintf("part/%02d.bin", i), Body: randomBytes(3 << 19), ContentType: "application/octet-stream", Metadata: map[string]string{"n": fmt.Sprint(i)}})
	}
	objects := seedBucket(t, p.S3, src, objs)
	backup := s.completedBackup(s.s3Source(src), s.s3Destination(dst, ""))

	slow := newSlowProxy(t, p.S3.Endpoint, 300*time.Millisecond)
	target := s.typedS3Target(tgt)
	target["settings"].(map[string]string)["endpoint"] = slow.URL
	id := s.restore(backup.ID, restoreBody{"target": target, "prefix": "again/"})
	deadline := time.Now().Add(2 * time.Minute)
	var running string
	for running == "" {
		op := s.operation(id)
		if op.Status == domain.OpRunning && op.Progress != nil && op.Progress.ObjectsDone >= 2 {
			running = op.WorkerID
		}
		require.False(t, op.Status.Terminal(), "the restore ended early: %s\n%s", op.Status, s.logText(id))
		require.True(t, time.Now().Before(deadline), "the restore did not get going:\n%s", s.logText(id))
		time.Sleep(50 * time.Millisecond)
	}
	p.mu.Lock()
	victim := p.workers[running]
	p.mu.Unlock()
	require.NotNil(t, victim, "worker %q", running)
	require.NoError(t, victim.Process.Signal(syscall.SIGTERM))

	interrupted := s.waitStatus(id, 2*time.Minute, domain.OpInterrupted)
	require.Contains(t, interrupted.AllowedActions, "resume")
	log := s.logText(id)
	require.Contains(t, log, "a resumed restore reads the archive again from the beginning")
	require.Regexp(t, `stopped before entry \d+ of 24`, log)

	slow.SetDelay(0)
	r := s.api.Do("POST", "/api/operations/"+id.String()+"/resume", nil)
	require.Equal(t, 202, r.Status, "%s", r.Body)
	done := s.requireVerifiedRestore(id, int64(len(objects)), 0)
	require.Equal(t, 2, done.Attempt)
	require.NotEqual(t, running, done.WorkerID)
	require.Contains(t, s.logText(id), "restarts the restore (attempt 2)")
	requireBucketHolds(t, p.S3, tgt, "again/", objects)
}
