package executors

import (
	"context"
	"log/slog"
	"time"

	"backupd/commands"
	"backupd/projections"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// recheckLock is the Postgres advisory lock that makes one process (of all
// serve processes) run the periodic re-check.
const recheckLock = 0x6261636b7570 // "backup"

// RecheckPeriodically re-checks every connection each interval (the first
// pass one minute after start), recording valid or invalid with the reason,
// so the dashboard's status indicators stay true.
func RecheckPeriodically(ctx context.Context, pool *pgxpool.Pool, queries *projections.Queries, cmds *commands.Handlers, every time.Duration, logger *slog.Logger) {
	wait := time.Minute
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = every
		RecheckAll(ctx, pool, queries, cmds, logger)
	}
}

// RecheckAll re-checks every connection once, unless another process holds
// the re-check lock (it is doing the same).
func RecheckAll(ctx context.Context, pool *pgxpool.Pool, queries *projections.Queries, cmds *commands.Handlers, logger *slog.Logger) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		logger.Warn("re-check: no database connection", "error", err)
		return
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", recheckLock).Scan(&locked); err != nil || !locked {
		return // another process does it
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", recheckLock) //nolint:errcheck
	all, err := queries.AllConnections(ctx)
	if err != nil {
		logger.Warn("re-check: cannot list connections", "error", err)
		return
	}
	for _, c := range all {
		cctx := commands.SystemActor(ctx, "periodic-check", c.ID, uuid.Nil)
		checked, err := cmds.CheckConnection.Handle(cctx, commands.CheckConnection{ID: c.ID})
		if err != nil {
			logger.Warn("re-check failed", "connection", c.ID, "error", err)
			continue
		}
		if checked.Status != c.Status {
			logger.Info("connection status changed", "connection", c.ID, "name", c.Name, "status", checked.Status, "reason", checked.Reason)
		}
	}
}
