package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/testsupport/peers"
	"backupd/projections"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

func TestAProjectorThatCannotApplyAnEventStopsLoudly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runFails = true // Run reports the stopped projector when it ends
	h := e.history()
	alice := h.registerUser("alice@example.test", "Alice", "$2a$10$PWHASH")
	e.caughtUp()

	// A login of a user the read model never saw registered: the users
	// projector cannot apply it.
	ghost := uuid.New()
	_, err := e.store.Append(h.as("anonymous"), commands.UserStream(ghost), eventstore.Any(),
		domain.UserLoggedIn{UserID: ghost, IP: "192.0.2.9", At: h.tick(time.Minute)})
	require.NoError(t, err)
	bad, ok, err := e.store.LastEventPosition(e.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	// Later events are not skipped past it.
	bob := h.registerUser("bob@example.test", "Bob", "$2a$10$PWHASH")

	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	err = e.runner.WaitForEnd(ctx)
	var pe *projections.ProjectorError
	require.ErrorAs(t, err, &pe, "%v", err)
	require.Equal(t, "users", pe.Projector)
	require.Equal(t, "UserLoggedIn.v1", pe.EventType)
	require.Contains(t, err.Error(), "0 rows changed")
	require.Equal(t, []string{"users"}, keys(e.runner.Failures()))

	// The others went on: the audit trail has both events.
	require.Eventually(t, func() bool {
		var n int
		_ = e.pool.QueryRow(e.ctx, `SELECT count(*) FROM audit_events WHERE stream IN ($1, $2)`, commands.UserStream(ghost), commands.UserStream(bob)).Scan(&n)
		return n == 2
	}, 30*time.Second, 50*time.Millisecond)
	// The users read model stopped before the event: alice, not bob.
	_, err = e.queries.GetUser(e.ctx, alice)
	require.NoError(t, err)
	_, err = e.queries.GetUser(e.ctx, bob)
	require.True(t, isNotFound(err))
	cp, err := projections.NewCheckpoints(e.pool).Load(e.ctx, "users")
	require.NoError(t, err)
	require.True(t, eventstore.PositionAfter(bad, *cp), "the checkpoint stays before the bad event")
}

func TestAnUnknownEventTypeStopsEveryProjector(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runFails = true
	_, err := e.store.Client().AppendToStream(e.ctx, "future-"+uuid.NewString(), esdb.AppendToStreamOptions{},
		esdb.EventData{EventID: uuid.New(), EventType: "FromTheFuture.v1", ContentType: esdb.ContentTypeJson, Data: []byte(`{"at":"2026-11-20T09:00:00Z"}`)})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	err = e.runner.WaitForEnd(ctx)
	require.ErrorAs(t, err, new(domain.ErrUnknownEventType))
	require.Eventually(t, func() bool { return len(e.runner.Failures()) == len(projections.Projectors()) }, 30*time.Second, 50*time.Millisecond)
	// The rebuild refuses it as well rather than leave it out.
	require.ErrorAs(t, e.runner.Rebuild(e.ctx), new(domain.ErrUnknownEventType))
}

func keys(m map[string]error) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRunReturnsAnErrorWhenEveryProjectorStopped(t *testing.T) {
	t.Parallel()
	e := newEnvNotRunning(t)
	_, err := e.store.Client().AppendToStream(e.ctx, "future-"+uuid.NewString(), esdb.AppendToStreamOptions{},
		esdb.EventData{EventID: uuid.New(), EventType: "FromTheFuture.v1", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	err = e.runner.Run(ctx)
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "Run returned by itself")
	require.ErrorAs(t, err, new(domain.ErrUnknownEventType))
}

func TestMigrateIsIdempotentAndSafeConcurrently(t *testing.T) {
	t.Parallel()
	ctx := peers.Context(t)
	pool, err := pgxpool.New(ctx, peers.Postgres(t)+"&pool_max_conns=8")
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	var g errgroup.Group
	for i := 0; i < 4; i++ {
		g.Go(func() error { return projections.Migrate(ctx, pool) })
	}
	require.NoError(t, g.Wait())
	require.NoError(t, projections.Migrate(ctx, pool))
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n))
	require.Equal(t, 7, n)
	for _, table := range []string{"users", "connections", "operations", "operation_logs", "audit_events", "projection_checkpoints",
		"report_backups_per_source_day", "report_failure_rate", "report_bytes_per_destination"} {
		var exists bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists))
		require.True(t, exists, table)
	}
}

func TestTwoRunnersOnOneDatabaseApplyEachEventOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A second process: its own client and runner, same database and $all.
	second := projections.NewRunner(e.store, e.pool, nil)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	h := e.history()
	src, dst := h.s3Source("Photos", "s"), h.s3Destination("Backups", "d")
	var ops []uuid.UUID
	for i := 0; i < 5; i++ {
		id := h.requestBackup("alice@example.test", src, dst)
		h.start(id, "w1")
		h.logLines(id, 1, "one", "two", "three")
		ops = append(ops, id)
	}
	e.caughtUp()
	wctx, wcancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer wcancel()
	require.NoError(t, second.WaitForEnd(wctx))

	for _, id := range ops {
		lines, err := e.queries.LogLines(e.ctx, id, 0, 100)
		require.NoError(t, err)
		require.Len(t, lines, 5, "requested, started and three lines, once each")
	}
	c, err := e.queries.GetConnection(e.ctx, src)
	require.NoError(t, err)
	require.Equal(t, 5, c.ActiveOperations, "each attach counted once")
}

func TestWaitCaughtUpHonoursItsContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(e.ctx, 200*time.Millisecond)
	defer cancel()
	// A position no event has reached.
	err := e.runner.WaitCaughtUp(ctx, esdb.Position{Commit: 1 << 40, Prepare: 1 << 40})
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

func TestWaitForStreamGivesReadYourWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	src := h.s3Source("Photos", "s")
	for i := 0; i < 10; i++ {
		name := "Photos " + string(rune('A'+i))
		at := h.tick(time.Minute)
		update(h, "alice@example.test", commands.ConnectionStream(src), h.conn(src), func(c *domain.Connection) error {
			return c.Update(name, s3Settings("source-bucket"), c.Secrets, domain.Check{OK: true}, at)
		})
		ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
		require.NoError(t, e.runner.WaitForStream(ctx, commands.ConnectionStream(src)))
		cancel()
		c, err := e.queries.GetConnection(e.ctx, src)
		require.NoError(t, err)
		require.Equal(t, name, c.Name, "the read model shows the write at once")
	}
}
