package main

import (
	"context"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Two worker processes share the queue; each operation is run by exactly
// one of them (one claim event per operation, never two).
func TestTwoWorkerProcessesNeverRunTheSameOperation(t *testing.T) {
	t.Parallel()
	p := startProcStack(t, "worker-a", "worker-b")
	s := p.asStack()
	src, dst := p.S3.Bucket(t), p.S3.Bucket(t)
	objects := seedBucket(t, p.S3, src, bigObjects(4, 64<<10))
	source, dest := s.s3Source(src), s.s3Destination(dst, "")

	var ops []uuid.UUID
	for i := 0; i < 8; i++ {
		ops = append(ops, s.backup(source, dest))
	}
	store, err := eventstore.Connect(p.ESDB)
	require.NoError(t, err)
	defer store.Close()
	ranOn := map[string]int{}
	for _, id := range ops {
		done := s.waitStatus(id, 3*time.Minute, domain.OpCompleted)
		require.Equal(t, int64(len(objects)), done.Result.ObjectCount)
		starts := 0
		require.NoError(t, store.Read(context.Background(), commands.OperationStream(id), 0, func(r eventstore.Recorded) error {
			if e, ok := r.Event.(domain.OperationStarted); ok {
				starts++
				ranOn[e.WorkerID]++
			}
			return nil
		}))
		require.Equal(t, 1, starts, "operation %s was claimed once", id)
	}
	t.Logf("operations per worker: %v", ranOn)
	require.Equal(t, len(ops), ranOn["worker-a"]+ranOn["worker-b"])
}

// A worker killed with SIGKILL mid-upload: the reaper of the other worker
// marks the operation interrupted, a resume finishes it, and the archive is
// what an uninterrupted backup of the same bucket gives.
func TestKilledWorkerIsReapedAndTheBackupResumes(t *testing.T) {
	t.Parallel()
	p := startProcStack(t, "worker-a", "worker-b")
	s := p.asStack()
	src, dst, refDst := p.S3.Bucket(t), p.S3.Bucket(t), p.S3.Bucket(t)
	objects := seedBucket(t, p.S3, src, bigObjects(12, 8<<20))
	slow := newSlowProxy(t, p.S3.Endpoint, 300*time.Millisecond)
	source := s.s3Source(src)
	dest := s.s3DestinationAt(dst, "killed/", slow.URL)

	midUpload := slow.afterUploads(4)
	op := s.backup(source, dest)
	s.waitUploads(midUpload, op)
	running := s.operation(op)
	require.Equal(t, domain.OpRunning, running.Status)
	victim := running.WorkerID
	p.kill(victim)
	t.Logf("killed %s mid-upload", victim)

	interrupted := s.waitStatus(op, 2*time.Minute, domain.OpInterrupted)
	require.Equal(t, []string{"resume", "cancel"}, interrupted.AllowedActions)
	require.Contains(t, s.logText(op), "Worker "+victim+" stopped")

	slow.SetDelay(0)
	s.act(op, "resume")
	done := s.waitStatus(op, 3*time.Minute, domain.OpCompleted)
	require.Equal(t, 2, done.Attempt)
	require.NotEqual(t, victim, done.WorkerID)
	archiveBytes := downloadS3(t, p.S3, done.Result.ArchiveLocation)
	verifyBucketArchive(t, archiveBytes, downloadS3(t, p.S3, done.Result.ManifestLocation), done.Result, objects)

	ref := s.waitStatus(s.backup(source, s.s3Destination(refDst, "")), 3*time.Minute, domain.OpCompleted)
	require.Equal(t, manifestEntries(t, downloadS3(t, p.S3, ref.Result.ArchiveLocation)), manifestEntries(t, archiveBytes))
	uploads, err := listUploads(s, dst)
	require.NoError(t, err)
	require.Empty(t, uploads, "no multipart upload of the killed worker is left")
}
