package commands_test

import (
	"testing"
	"time"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func (f *fixture) requestBackup(src, dst uuid.UUID) uuid.UUID {
	f.t.Helper()
	id, err := f.h.RequestBackup.Handle(f.ctx(), commands.RequestBackup{SourceID: src, DestinationID: dst})
	require.NoError(f.t, err)
	return id
}

func TestRequestBackup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	id := f.requestBackup(src.ID, dst.ID)

	op := f.operation(id)
	require.Equal(t, domain.OpBackup, op.Kind)
	require.Equal(t, domain.OpPending, op.Status)
	require.Equal(t, domain.ConnectionRef{ID: src.ID, Name: src.Name, Kind: domain.KindS3Source}, op.Source)
	require.Equal(t, domain.ConnectionRef{ID: dst.ID, Name: dst.Name, Kind: domain.KindS3Destination}, op.Destination)
	require.Equal(t, f.clock.Now(), op.RequestedAt)
	evs := f.events(commands.OperationStream(id))
	require.Len(t, evs, 1)
	require.Equal(t, f.actor, evs[0].Meta.ActorID, "who asked is in the metadata")

	require.Equal(t, 1, f.connection(src.ID).ActiveOperations())
	require.Equal(t, 1, f.connection(dst.ID).ActiveOperations())

	t.Run("an invalid connection may still be backed up", func(t *testing.T) {
		f.checker.script(src.Settings["bucket"], func(_, _ map[string]string) commands.CheckResult {
			return commands.CheckResult{Check: domain.Check{OK: false, Reason: "Access Denied"}}
		})
		c, err := f.h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: src.ID})
		require.NoError(t, err)
		require.Equal(t, domain.StatusInvalid, c.Status)
		f.requestBackup(src.ID, dst.ID)
		require.Equal(t, 2, f.connection(src.ID).ActiveOperations())
	})
}

func TestRequestBackupRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	deleted := f.create(s3Input(domain.KindS3Destination, peers.RandomName("deleted-")))
	_, err := f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: deleted.ID})
	require.NoError(t, err)
	srcEvents, dstEvents := len(f.events(commands.ConnectionStream(src.ID))), len(f.events(commands.ConnectionStream(dst.ID)))

	for _, tc := range []struct {
		name        string
		source, dst uuid.UUID
		slug, field string
	}{
		{"no source", uuid.Nil, dst.ID, "field-required", "source_id"},
		{"no destination", src.ID, uuid.Nil, "field-required", "destination_id"},
		{"unknown source", uuid.New(), dst.ID, "connection-not-found", "source_id"},
		{"unknown destination", src.ID, uuid.New(), "connection-not-found", "destination_id"},
		{"destination as source", dst.ID, dst.ID, "wrong-role", "source_id"},
		{"source as destination", src.ID, src.ID, "wrong-role", "destination_id"},
		{"deleted destination", src.ID, deleted.ID, "connection-deleted", "destination_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.h.RequestBackup.Handle(f.ctx(), commands.RequestBackup{SourceID: tc.source, DestinationID: tc.dst})
			requireSlug(t, err, tc.slug, tc.field)
		})
	}
	require.Len(t, f.events(commands.ConnectionStream(src.ID)), srcEvents, "refusals reserve nothing")
	require.Len(t, f.events(commands.ConnectionStream(dst.ID)), dstEvents)
}

// TestDeleteRefusedWhileBackupActive: the guard holds while the operation is
// active and is released by the process manager's DetachOperation once it
// has ended.
func TestDeleteRefusedWhileBackupActive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	id := f.requestBackup(src.ID, dst.ID)

	for _, c := range []uuid.UUID{src.ID, dst.ID} {
		_, err := f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: c})
		require.ErrorIs(t, err, domain.ErrConnectionInUse)
		de, _ := domain.AsError(err)
		require.Equal(t, domain.KindConflict, de.Kind)
	}
	_, err := f.h.DetachOperation.Handle(f.ctx(), commands.DetachOperation{OperationID: id})
	require.ErrorIs(t, err, commands.ErrOperationActive, "a pending operation keeps its connections")

	op, err := f.h.CancelOperation.Handle(f.ctx(), commands.CancelOperation{ID: id})
	require.NoError(t, err)
	require.Equal(t, domain.OpCancelled, op.Status, "never started: cancelled at once")
	_, err = f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: src.ID})
	require.ErrorIs(t, err, domain.ErrConnectionInUse, "still attached until the process manager detaches")

	_, err = f.h.DetachOperation.Handle(f.ctx(), commands.DetachOperation{OperationID: id})
	require.NoError(t, err)
	n := len(f.events(commands.ConnectionStream(src.ID)))
	_, err = f.h.DetachOperation.Handle(f.ctx(), commands.DetachOperation{OperationID: id})
	require.NoError(t, err, "idempotent")
	require.Len(t, f.events(commands.ConnectionStream(src.ID)), n, "a second detach writes nothing")

	for _, c := range []uuid.UUID{src.ID, dst.ID} {
		_, err = f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: c})
		require.NoError(t, err)
	}
	_, err = f.h.DetachOperation.Handle(f.ctx(), commands.DetachOperation{OperationID: uuid.New()})
	requireSlug(t, err, "operation-not-found", "")
}

func TestOperationLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	id := f.requestBackup(src.ID, dst.ID)
	do := func(h commands.Handler[commands.PauseOperation, *domain.Operation]) *domain.Operation {
		op, err := h.Handle(f.ctx(), commands.PauseOperation{ID: id})
		require.NoError(t, err)
		return op
	}

	op := do(f.h.PauseOperation)
	require.Equal(t, domain.OpPaused, op.Status, "a pending backup pauses at once")
	op, err := f.h.ResumeOperation.Handle(f.ctx(), commands.ResumeOperation{ID: id})
	require.NoError(t, err)
	require.Equal(t, domain.OpPending, op.Status)

	op, err = f.h.ClaimOperation.Handle(f.ctx(), commands.ClaimOperation{ID: id, WorkerID: "w1"})
	require.NoError(t, err)
	require.Equal(t, domain.OpRunning, op.Status)
	require.Equal(t, "w1", op.WorkerID)
	require.Equal(t, 1, op.Attempt)

	op = do(f.h.PauseOperation)
	require.Equal(t, domain.OpRunning, op.Status)
	require.True(t, op.PauseRequested)
	_, err = f.h.MarkPaused.Handle(f.ctx(), commands.MarkPaused{ID: id, WorkerID: "w2", Position: "x", CheckpointSeq: 1})
	require.ErrorIs(t, err, domain.ErrInvalidTransition, "only the worker holding it")
	op, err = f.h.MarkPaused.Handle(f.ctx(), commands.MarkPaused{ID: id, WorkerID: "w1", Position: "object 12 of 64", CheckpointSeq: 7})
	require.NoError(t, err)
	require.Equal(t, domain.OpPaused, op.Status)
	require.Equal(t, "object 12 of 64", op.Paused.Position)
	require.True(t, op.Checkpointed)

	_, err = f.h.ResumeOperation.Handle(f.ctx(), commands.ResumeOperation{ID: id})
	require.NoError(t, err)
	op, err = f.h.ClaimOperation.Handle(f.ctx(), commands.ClaimOperation{ID: id, WorkerID: "w2"})
	require.NoError(t, err)
	require.Equal(t, 2, op.Attempt)
	started := f.events(commands.OperationStream(id))
	require.True(t, started[len(started)-1].Event.(domain.OperationStarted).Resumed)

	result := domain.BackupResult{Format: "s3-bucket-tar-gz/1", ArchiveName: "a.tar.gz", ArchiveLocation: "s3://dst/a.tar.gz", ArchiveSize: 42, ObjectCount: 3, SourceBucket: "src"}
	_, err = f.h.CompleteBackup.Handle(f.ctx(), commands.CompleteBackup{ID: id, WorkerID: "w1", Result: result})
	require.ErrorIs(t, err, domain.ErrInvalidTransition, "w1 no longer holds it")
	op, err = f.h.CompleteBackup.Handle(f.ctx(), commands.CompleteBackup{ID: id, WorkerID: "w2", Result: result})
	require.NoError(t, err)
	require.Equal(t, domain.OpCompleted, op.Status)
	require.Equal(t, &result, f.operation(id).Result)

	for name, h := range map[string]func() error{
		"pause": func() error {
			_, err := f.h.PauseOperation.Handle(f.ctx(), commands.PauseOperation{ID: id})
			return err
		},
		"resume": func() error {
			_, err := f.h.ResumeOperation.Handle(f.ctx(), commands.ResumeOperation{ID: id})
			return err
		},
		"cancel": func() error {
			_, err := f.h.CancelOperation.Handle(f.ctx(), commands.CancelOperation{ID: id})
			return err
		},
	} {
		de := requireSlug(t, h(), "invalid-transition", "")
		require.Equal(t, domain.KindConflict, de.Kind, name)
		require.Contains(t, de.Message, "cannot "+name+": the backup is completed")
	}
	_, err = f.h.PauseOperation.Handle(f.ctx(), commands.PauseOperation{ID: uuid.New()})
	requireSlug(t, err, "operation-not-found", "")
}

func TestFailInterruptAndCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	claim := func(id uuid.UUID, worker string) *domain.Operation {
		op, err := f.h.ClaimOperation.Handle(f.ctx(), commands.ClaimOperation{ID: id, WorkerID: worker})
		require.NoError(t, err)
		return op
	}

	t.Run("fail", func(t *testing.T) {
		id := f.requestBackup(src.ID, dst.ID)
		_, err := f.h.FailOperation.Handle(f.ctx(), commands.FailOperation{ID: id, WorkerID: "w1", Message: "boom"})
		require.ErrorIs(t, err, domain.ErrInvalidTransition, "not running")
		claim(id, "w1")
		op, err := f.h.FailOperation.Handle(f.ctx(), commands.FailOperation{ID: id, WorkerID: "w1", Message: "mongodump not found", Code: "mongodump-missing", Stack: "goroutine 1"})
		require.NoError(t, err)
		require.Equal(t, domain.OpFailed, op.Status)
		require.Equal(t, "mongodump-missing", f.operation(id).ErrorCode)
		_, err = f.h.DetachOperation.Handle(f.ctx(), commands.DetachOperation{OperationID: id})
		require.NoError(t, err)
	})

	t.Run("interrupt, resume", func(t *testing.T) {
		id := f.requestBackup(src.ID, dst.ID)
		claim(id, "w1")
		beat := f.clock.Now().Add(-2 * time.Minute)
		_, err := f.h.InterruptOperation.Handle(f.ctx(), commands.InterruptOperation{ID: id, WorkerID: "w1", Attempt: 2, LastHeartbeat: beat})
		require.ErrorIs(t, err, domain.ErrInvalidTransition, "another attempt than the one the reaper saw")
		op, err := f.h.InterruptOperation.Handle(f.ctx(), commands.InterruptOperation{ID: id, WorkerID: "w1", Attempt: 1, LastHeartbeat: beat})
		require.NoError(t, err)
		require.Equal(t, domain.OpInterrupted, op.Status)
		require.Contains(t, op.Interrupted.Reason, "worker stopped")
		_, err = f.h.DetachOperation.Handle(f.ctx(), commands.DetachOperation{OperationID: id})
		require.ErrorIs(t, err, commands.ErrOperationActive, "an interrupted operation keeps its connections")
		_, err = f.h.ResumeOperation.Handle(f.ctx(), commands.ResumeOperation{ID: id})
		require.NoError(t, err)
		op = claim(id, "w2")
		require.Equal(t, 2, op.Attempt)
		require.True(t, op.Checkpointed)
	})

	t.Run("cancel running, then clean-up reported", func(t *testing.T) {
		id := f.requestBackup(src.ID, dst.ID)
		claim(id, "w1")
		_, err := f.h.MarkCancelled.Handle(f.ctx(), commands.MarkCancelled{ID: id, CleanedUp: []string{"x"}})
		require.ErrorIs(t, err, domain.ErrInvalidTransition, "no cancel was asked")
		op, err := f.h.CancelOperation.Handle(f.ctx(), commands.CancelOperation{ID: id})
		require.NoError(t, err)
		require.Equal(t, domain.OpRunning, op.Status)
		require.True(t, op.CancelRequested)
		_, err = f.h.PauseOperation.Handle(f.ctx(), commands.PauseOperation{ID: id})
		requireSlug(t, err, "cancelling", "")
		op, err = f.h.MarkCancelled.Handle(f.ctx(), commands.MarkCancelled{ID: id, CleanedUp: []string{"aborted multipart upload", "removed temp files"}})
		require.NoError(t, err)
		require.Equal(t, domain.OpCancelled, op.Status)
		evs := f.events(commands.OperationStream(id))
		require.Equal(t, []string{"aborted multipart upload", "removed temp files"}, evs[len(evs)-1].Event.(domain.OperationCancelled).CleanedUp)
	})
}
