package executors_test

import (
	"context"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors"
	"backupd/executors/archive"
	"backupd/executors/testsupport/peers"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"log/slog"
)

func connectStore(t *testing.T) *eventstore.Store {
	t.Helper()
	store, err := eventstore.Connect(peers.ESDB(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	return store
}

func TestOpLogBatchesLinesAndContinuesSequence(t *testing.T) {
	t.Parallel()
	store := connectStore(t)
	ctx := peers.Context(t)
	opID := uuid.New()

	l, err := executors.NewOpLog(ctx, store, opID, "w1", 1, slog.Default())
	require.NoError(t, err)
	logger := l.Logger()
	for i := 0; i < 2500; i++ {
		logger.Debug("archived object", "key", "photos/a b.jpg", "n", i)
	}
	logger.Info("done")
	l.SetProgress(domain.Progress{Phase: "uploading", ObjectsDone: 2500})
	l.Close()

	var lines []domain.LogLine
	events, progress := 0, 0
	require.NoError(t, store.Read(ctx, commands.OperationLogStream(opID), 0, func(r eventstore.Recorded) error {
		switch e := r.Event.(type) {
		case domain.OperationLogged:
			events++
			lines = append(lines, e.Lines...)
		case domain.OperationProgressed:
			progress++
			require.Equal(t, "w1", e.WorkerID)
		}
		return nil
	}))
	require.Len(t, lines, 2501)
	require.Less(t, events, 50, "lines are batched, not one event each")
	require.GreaterOrEqual(t, progress, 1)
	require.Equal(t, `archived object key="photos/a b.jpg" n=0`, lines[0].Message)
	require.Equal(t, "debug", lines[0].Level)
	require.Equal(t, "info", lines[2500].Level)
	for i, ln := range lines {
		require.Equal(t, int64(i+1), ln.Seq)
	}

	// A second attempt continues the numbering.
	l2, err := executors.NewOpLog(ctx, store, opID, "w2", 2, slog.Default())
	require.NoError(t, err)
	l2.Logger().Warn("resumed")
	l2.Close()
	last, ok, err := store.ReadLast(ctx, commands.OperationLogStream(opID))
	require.NoError(t, err)
	require.True(t, ok)
	_ = last
	var resumed domain.LogLine
	require.NoError(t, store.Read(ctx, commands.OperationLogStream(opID), 0, func(r eventstore.Recorded) error {
		if e, ok := r.Event.(domain.OperationLogged); ok {
			resumed = e.Lines[len(e.Lines)-1]
		}
		return nil
	}))
	require.Equal(t, int64(2502), resumed.Seq)
	require.Equal(t, "warn", resumed.Level)
	var lastProgress domain.Progress
	require.NoError(t, store.Read(ctx, commands.OperationLogStream(opID), 0, func(r eventstore.Recorded) error {
		if e, ok := r.Event.(domain.OperationProgressed); ok {
			lastProgress = e.Progress
		}
		return nil
	}))
	require.Equal(t, int64(2500), lastProgress.ObjectsDone, "the second attempt's heartbeat carries the last known progress, not zeros")
}

func TestJournalFencesAReplacedWorker(t *testing.T) {
	t.Parallel()
	store := connectStore(t)
	ctx := peers.Context(t)
	opID := uuid.New()

	old, err := executors.OpenJournal(ctx, store, opID, "w1", 1)
	require.NoError(t, err)
	require.NoError(t, old.RecordEntries(ctx, []domain.ArchiveEntry{{Index: 0, Key: "a"}, {Index: 1, Key: "b"}}))
	require.NoError(t, old.Checkpoint(ctx, archive.Checkpoint{Seq: 1, Position: archive.Position{EntriesDone: 2, LastKey: "b"}, At: time.Now()}))

	// A new worker opens the journal: the old one can no longer write.
	replacement, err := executors.OpenJournal(ctx, store, opID, "w2", 2)
	require.NoError(t, err)
	last, err := replacement.Last(ctx)
	require.NoError(t, err)
	require.NotNil(t, last)
	require.Equal(t, "b", last.Position.LastKey)
	require.NoError(t, replacement.Checkpoint(ctx, archive.Checkpoint{Seq: 2, Resumed: true, Position: last.Position, At: time.Now()}))
	err = old.RecordEntries(ctx, []domain.ArchiveEntry{{Index: 2, Key: "c"}})
	require.ErrorIs(t, err, executors.ErrFenced)

	// Large batches are split under the append limit.
	big := make([]domain.ArchiveEntry, 20000)
	for i := range big {
		big[i] = domain.ArchiveEntry{Index: int64(2 + i), Key: uuid.NewString(), SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	}
	require.NoError(t, replacement.RecordEntries(ctx, big))
	n, cps := 0, 0
	require.NoError(t, replacement.Replay(ctx, func(e []domain.ArchiveEntry) error { n += len(e); return nil },
		func(archive.Checkpoint) error { cps++; return nil }))
	require.Equal(t, 2+20000, n)
	require.Equal(t, 2, cps)
}

func TestControlFollowsPauseAndCancel(t *testing.T) {
	t.Parallel()
	store := connectStore(t)
	ctx := commands.WithMeta(peers.Context(t), commands.Meta{ActorID: "u", ActorName: "tester"})
	opID := uuid.New()
	stream := commands.OperationStream(opID)

	op := domain.NewOperation(opID)
	require.NoError(t, op.RequestBackup(domain.ConnectionRef{ID: uuid.New(), Kind: domain.KindS3Source}, domain.ConnectionRef{ID: uuid.New(), Kind: domain.KindS3Destination}, time.Now()))
	require.NoError(t, op.Start("w1", time.Now()))
	require.NoError(t, store.Save(ctx, stream, op))

	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := executors.WatchOperation(watchCtx, store, op, slog.Default())
	require.Equal(t, executors.StopNone, c.Requested())

	_, err := commands.Update(commands.WithMeta(ctx, commands.Meta{}), store, stream, func() *domain.Operation { return domain.NewOperation(opID) },
		func(o *domain.Operation) error { return o.RequestPause(time.Now()) })
	require.NoError(t, err)
	select {
	case <-c.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("pause request did not reach the executor")
	}
	require.Equal(t, executors.StopPause, c.Requested())

	_, err = commands.Update(commands.WithMeta(ctx, commands.Meta{}), store, stream, func() *domain.Operation { return domain.NewOperation(opID) },
		func(o *domain.Operation) error { return o.RequestCancel(time.Now()) })
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.Requested() == executors.StopCancel }, 10*time.Second, 10*time.Millisecond)
}
