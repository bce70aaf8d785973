package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/testsupport/peers"
	"backupd/projections"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// env is a private EventStoreDB ($all holds only this test's events), a
// fresh Postgres database and a running Runner.
type env struct {
	t       *testing.T
	ctx     context.Context
	store   *eventstore.Store
	pool    *pgxpool.Pool
	runner  *projections.Runner
	queries *projections.Queries
	runErr  chan error
	stopRun context.CancelFunc
	// runFails: the test makes every projector stop, so Run must end with
	// an error.
	runFails bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := newEnvNotRunning(t)
	e.start()
	return e
}

func newEnvNotRunning(t *testing.T) *env {
	t.Helper()
	url, _ := peers.PrivateESDB(t)
	store, err := eventstore.Connect(url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	ctx := peers.Context(t)
	pool, err := pgxpool.New(ctx, peers.Postgres(t)+"&pool_max_conns=12")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	runner := projections.NewRunner(store, pool, logger)
	runner.NackDelay = 50 * time.Millisecond
	runner.Retry.InitialInterval = 10 * time.Millisecond
	runner.Retry.MaxInterval = 50 * time.Millisecond
	runner.Retry.MaxRetries = 2
	return &env{t: t, ctx: ctx, store: store, pool: pool, runner: runner, queries: projections.NewQueries(pool)}
}

func (e *env) start() {
	ctx, cancel := context.WithCancel(e.ctx)
	e.stopRun = cancel
	e.runErr = make(chan error, 1)
	go func() { e.runErr <- e.runner.Run(ctx) }()
	e.t.Cleanup(e.stop)
}

// stop ends Run and checks it ended cleanly.
func (e *env) stop() {
	if e.stopRun == nil {
		return
	}
	e.stopRun()
	e.stopRun = nil
	select {
	case err := <-e.runErr:
		if e.runFails {
			require.Error(e.t, err)
		} else {
			require.NoError(e.t, err)
		}
	case <-time.After(60 * time.Second):
		e.t.Fatal("Run did not return after its context ended")
	}
}

// caughtUp waits until the read models hold every event written so far.
func (e *env) caughtUp() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	require.NoError(e.t, e.runner.WaitForEnd(ctx))
}

// history writes events through the domain aggregates, as the commands do,
// at times of its own clock (so rows can be checked exactly).
type history struct {
	e     *env
	clock time.Time
}

func (e *env) history() *history {
	return &history{e: e, clock: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
}

// tick moves the clock and returns the new time.
func (h *history) tick(d time.Duration) time.Time {
	h.clock = h.clock.Add(d)
	return h.clock
}

func (h *history) as(actorName string) context.Context {
	return commands.WithMeta(h.e.ctx, commands.Meta{ActorID: "id-" + actorName, ActorName: actorName, IP: "192.0.2.1"})
}

func update[A domain.Aggregate](h *history, actor, stream string, fresh func() A, decide func(A) error) {
	h.e.t.Helper()
	_, err := commands.Update(h.as(actor), h.e.store, stream, fresh, decide)
	require.NoError(h.e.t, err)
}

func (h *history) user(id uuid.UUID) func() *domain.User {
	return func() *domain.User { return domain.NewUser(id) }
}

func (h *history) registerUser(email, name, passwordHash string) uuid.UUID {
	id := uuid.New()
	at := h.tick(time.Minute)
	update(h, "system", commands.UserStream(id), h.user(id), func(u *domain.User) error { return u.Register(email, name, passwordHash, at) })
	_, err := h.e.store.Append(h.as("system"), commands.UserEmailStream(email), eventstore.Revision(-1),
		domain.UserEmailReserved{UserID: id, Email: domain.NormalizeEmail(email), At: at})
	require.NoError(h.e.t, err)
	return id
}

func (h *history) login(id uuid.UUID, ok bool, ip string) {
	h.e.t.Helper()
	at := h.tick(time.Minute)
	// A refused login is recorded too (the Login command saves before
	// answering), so this saves whatever the decision.
	u, err := commands.Load(h.e.ctx, h.e.store, commands.UserStream(id), h.user(id))
	require.NoError(h.e.t, err)
	err = u.Login(ok, ip, "test-agent", at)
	if ok {
		require.NoError(h.e.t, err)
	} else {
		require.ErrorIs(h.e.t, err, domain.ErrInvalidCredentials)
	}
	require.NoError(h.e.t, h.e.store.Save(h.as("anonymous"), commands.UserStream(id), u))
}

// sealed makes a recognisable sealed secret (the tests look for these bytes).
func sealed(marker string) domain.SealedSecret {
	return domain.SealedSecret{KeyID: "k1", Nonce: []byte("nonce-" + marker), Ciphertext: []byte("CIPHERTEXT-" + marker)}
}

func (h *history) conn(id uuid.UUID) func() *domain.Connection {
	return func() *domain.Connection { return domain.NewConnection(id) }
}

func (h *history) createConnection(kind domain.ConnectionKind, name string, settings map[string]string, secrets map[string]domain.SealedSecret) uuid.UUID {
	id := uuid.New()
	at := h.tick(time.Minute)
	update(h, "alice@example.test", commands.ConnectionStream(id), h.conn(id), func(c *domain.Connection) error {
		return c.Create(kind, name, settings, secrets, domain.Check{OK: true, Details: map[string]string{"objects": "3"}}, at)
	})
	return id
}

func s3Settings(bucket string) map[string]string {
	return map[string]string{"access_key_id": "AKIATEST", "region": "us-east-1", "bucket": bucket, "endpoint": "http://127.0.0.1:7070", "path_style": "true"}
}

func (h *history) s3Source(name, secretMarker string) uuid.UUID {
	return h.createConnection(domain.KindS3Source, name, s3Settings("source-bucket"), map[string]domain.SealedSecret{"secret_access_key": sealed(secretMarker)})
}

func (h *history) s3Destination(name, secretMarker string) uuid.UUID {
	return h.createConnection(domain.KindS3Destination, name, s3Settings("backups"), map[string]domain.SealedSecret{"secret_access_key": sealed(secretMarker)})
}

func (h *history) ref(id uuid.UUID) domain.ConnectionRef {
	c, err := commands.Load(h.e.ctx, h.e.store, commands.ConnectionStream(id), h.conn(id))
	require.NoError(h.e.t, err)
	return domain.ConnectionRef{ID: id, Name: c.Name, Kind: c.Kind}
}

func (h *history) op(id uuid.UUID) func() *domain.Operation {
	return func() *domain.Operation { return domain.NewOperation(id) }
}

func (h *history) opUpdate(actor string, id uuid.UUID, decide func(o *domain.Operation, at time.Time) error) {
	h.e.t.Helper()
	at := h.tick(time.Minute)
	update(h, actor, commands.OperationStream(id), h.op(id), func(o *domain.Operation) error { return decide(o, at) })
}

// requestBackup appends the request and reserves both connections, as the
// RequestBackup command does.
func (h *history) requestBackup(actor string, source, destination uuid.UUID) uuid.UUID {
	id := uuid.New()
	src, dst := h.ref(source), h.ref(destination)
	h.opUpdate(actor, id, func(o *domain.Operation, at time.Time) error { return o.RequestBackup(src, dst, at) })
	for _, c := range []uuid.UUID{source, destination} {
		at := h.clock
		update(h, actor, commands.ConnectionStream(c), h.conn(c), func(cn *domain.Connection) error { return cn.AttachOperation(id, "", at) })
	}
	return id
}

func (h *history) detach(opID uuid.UUID, conns ...uuid.UUID) {
	for _, c := range conns {
		at := h.clock
		update(h, "system:manager", commands.ConnectionStream(c), h.conn(c), func(cn *domain.Connection) error { cn.DetachOperation(opID, at); return nil })
	}
}

func (h *history) start(id uuid.UUID, worker string) {
	h.opUpdate("system:"+worker, id, func(o *domain.Operation, at time.Time) error { return o.Start(worker, at) })
}

func (h *history) progress(id uuid.UUID, worker string, attempt int, p domain.Progress) time.Time {
	at := h.tick(time.Second)
	_, err := h.e.store.Append(h.as("system:"+worker), commands.OperationLogStream(id), eventstore.Any(),
		domain.OperationProgressed{OperationID: id, WorkerID: worker, Attempt: attempt, Progress: p, At: at})
	require.NoError(h.e.t, err)
	return at
}

// logLines appends one batch of executor lines numbered from first.
func (h *history) logLines(id uuid.UUID, first int64, msgs ...string) {
	lines := make([]domain.LogLine, len(msgs))
	for i, m := range msgs {
		level := "info"
		if strings.HasPrefix(m, "WARN ") {
			level = "warn"
		}
		lines[i] = domain.LogLine{Seq: first + int64(i), At: h.tick(time.Second), Level: level, Message: m}
	}
	_, err := h.e.store.Append(h.as("system:worker"), commands.OperationLogStream(id), eventstore.Any(), domain.OperationLogged{OperationID: id, Lines: lines})
	require.NoError(h.e.t, err)
}

func backupResult(objects, total, size int64, location string) domain.BackupResult {
	return domain.BackupResult{Format: "s3-bucket-tar-gz/1", ArchiveName: "backup.tar.gz", ArchiveLocation: location,
		ManifestLocation: location + ".manifest.json", ArchiveSize: size, ArchiveSHA256: strings.Repeat("ab", 32),
		ManifestSHA256: strings.Repeat("cd", 32), ObjectCount: objects, TotalBytes: total, SourceBucket: "source-bucket",
		StartedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)}
}

// completedBackup runs a backup from request to completion.
func (h *history) completedBackup(actor string, source, destination uuid.UUID, size int64) uuid.UUID {
	id := h.requestBackup(actor, source, destination)
	h.start(id, "w1")
	h.logLines(id, 1, "Connecting to the source", "Listing the bucket")
	h.opUpdate("system:w1", id, func(o *domain.Operation, at time.Time) error {
		return o.CompleteBackup("w1", backupResult(3, size*3, size, "s3://backups/"+id.String()+".tar.gz"), at)
	})
	h.detach(id, source, destination)
	return id
}

// snapshot returns every row of a table or view as JSON, in a fixed order.
func (e *env) snapshot(table, orderBy string) string {
	e.t.Helper()
	var out []byte
	err := e.pool.QueryRow(e.ctx, `SELECT coalesce(json_agg(t ORDER BY `+orderBy+`), '[]'::json) FROM `+table+` t`).Scan(&out)
	require.NoError(e.t, err, table)
	return string(out)
}

// readModelOrder lists every read-model table and view with a total order.
var readModelOrder = map[string]string{
	"users":                         "id",
	"connections":                   "id",
	"operations":                    "id",
	"operation_logs":                "operation_id, seq",
	"audit_events":                  "commit_position, prepare_position",
	"report_backups_per_source_day": "day, source_id",
	"report_failure_rate":           "source_id",
	"report_bytes_per_destination":  "destination_id",
}

func (e *env) snapshotAll() map[string]string {
	out := map[string]string{}
	for table, order := range readModelOrder {
		out[table] = e.snapshot(table, order)
	}
	return out
}

func rows[T any](t *testing.T, raw string) []T {
	t.Helper()
	var out []T
	require.NoError(t, json.Unmarshal([]byte(raw), &out))
	return out
}

func isNotFound(err error) bool {
	de, ok := domain.AsError(err)
	return ok && de.Kind == domain.KindNotFound && !errors.Is(err, context.Canceled)
}
