package projections_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/testsupport/peers"
	"backupd/projections"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// benchHistory writes ops operations, each requested, started, with
// batches log batches of lines lines and a progress tick per batch, then
// completed. It returns the number of events and log lines written.
func benchHistory(b *testing.B, ctx context.Context, store *eventstore.Store, ops, batches, lines int) (events, logLines int) {
	b.Helper()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	src := domain.ConnectionRef{ID: uuid.New(), Name: "src", Kind: domain.KindS3Source}
	dst := domain.ConnectionRef{ID: uuid.New(), Name: "dst", Kind: domain.KindS3Destination}
	meta := func() context.Context { return commands.WithMeta(ctx, commands.Meta{ActorName: "bench"}) }
	for i := 0; i < ops; i++ {
		id := uuid.New()
		o := domain.NewOperation(id)
		must(b, o.RequestBackup(src, dst, at))
		must(b, o.Start("w1", at))
		must(b, store.Save(meta(), commands.OperationStream(id), o))
		events += 2
		seq := int64(0)
		for j := 0; j < batches; j++ {
			batch := make([]domain.LogLine, lines)
			for k := range batch {
				seq++
				batch[k] = domain.LogLine{Seq: seq, At: at, Level: "info", Message: fmt.Sprintf("uploaded object %d of the bucket", seq)}
			}
			_, err := store.Append(meta(), commands.OperationLogStream(id), eventstore.Any(),
				domain.OperationLogged{OperationID: id, Lines: batch},
				domain.OperationProgressed{OperationID: id, WorkerID: "w1", Attempt: 1, Progress: domain.Progress{Phase: "uploading", ObjectsDone: seq}, At: at})
			must(b, err)
			events += 2
			logLines += lines
		}
		must(b, o.CompleteBackup("w1", domain.BackupResult{ArchiveSize: 1 << 20, ObjectCount: seq}, at))
		must(b, store.Save(meta(), commands.OperationStream(id), o))
		events++
	}
	return events, logLines
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkProjections prints how fast the read models catch up with a
// history (live path: one transaction per event and projector) and how fast
// Rebuild replays it (one transaction for everything).
//
//	go test -run '^$' -bench Projections -benchtime 1x ./projections/
func BenchmarkProjections(b *testing.B) {
	url, _ := peers.PrivateESDB(b)
	store, err := eventstore.Connect(url)
	must(b, err)
	b.Cleanup(func() { _ = store.Close() })
	ctx := peers.Context(b)
	events, logLines := benchHistory(b, ctx, store, 40, 20, 50)
	logger := slog.New(slog.NewTextHandler(nopWriter{}, nil))

	b.Run("live-catch-up", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			pool, err := pgxpool.New(ctx, peers.Postgres(b)+"&pool_max_conns=12")
			must(b, err)
			runner := projections.NewRunner(store, pool, logger)
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- runner.Run(rctx) }()
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Minute)
			must(b, runner.WaitForEnd(wctx))
			took := time.Since(start)
			wcancel()
			cancel()
			must(b, <-done)
			pool.Close()
			b.ReportMetric(float64(events)/took.Seconds(), "events/s")
			b.ReportMetric(float64(logLines)/took.Seconds(), "lines/s")
		}
	})
	b.Run("rebuild", func(b *testing.B) {
		pool, err := pgxpool.New(ctx, peers.Postgres(b)+"&pool_max_conns=12")
		must(b, err)
		defer pool.Close()
		runner := projections.NewRunner(store, pool, logger)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			must(b, runner.Rebuild(ctx))
			took := time.Since(start)
			b.ReportMetric(float64(events)/took.Seconds(), "events/s")
			b.ReportMetric(float64(logLines)/took.Seconds(), "lines/s")
		}
	})
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
