package commands_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/commands/secrets"
	"backupd/domain"
	"backupd/executors/testsupport/logbuf"
	"backupd/executors/testsupport/peers"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// fixture is the command side wired to the shared EventStoreDB peer, with a
// fake connection checker (the real checkers are tested with their services)
// and a clock the test moves.
type fixture struct {
	t       *testing.T
	store   *eventstore.Store
	keyring *secrets.Keyring
	keySpec string
	checker *fakeChecker
	clock   *fakeClock
	logs    *logbuf.Buffer
	h       *commands.Handlers
	actor   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := eventstore.Connect(peers.ESDB(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	spec := secrets.GenerateKeySpec("k1")
	kr, err := secrets.ParseKeyring(spec)
	require.NoError(t, err)
	f := &fixture{t: t, store: store, keyring: kr, keySpec: spec, checker: &fakeChecker{}, logs: &logbuf.Buffer{},
		clock: &fakeClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}, actor: uuid.NewString()}
	f.h = f.handlers(kr)
	return f
}

// handlers wires a second set of handlers on the same store (for a keyring
// rotation).
func (f *fixture) handlers(kr *secrets.Keyring) *commands.Handlers {
	return commands.New(commands.Deps{
		Store: f.store, Keyring: kr, Checker: f.checker, Clock: f.clock.Now,
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
}

// ctx is a fresh command context: one per command, as the HTTP layer does
// per request (the event ids derive from the command id).
func (f *fixture) ctx() context.Context {
	return commands.WithMeta(peers.Context(f.t), commands.Meta{ActorID: f.actor, ActorName: "admin@example.test", IP: "192.0.2.7"})
}

// events reads a stream's raw events.
func (f *fixture) events(stream string) []eventstore.Recorded {
	f.t.Helper()
	var out []eventstore.Recorded
	require.NoError(f.t, f.store.Read(peers.Context(f.t), stream, 0, func(r eventstore.Recorded) error {
		out = append(out, r)
		return nil
	}))
	return out
}

func (f *fixture) eventTypes(stream string) []string {
	var out []string
	for _, r := range f.events(stream) {
		out = append(out, r.Type)
	}
	return out
}

func (f *fixture) connection(id uuid.UUID) *domain.Connection {
	f.t.Helper()
	c, err := commands.Load(peers.Context(f.t), f.store, commands.ConnectionStream(id), func() *domain.Connection { return domain.NewConnection(id) })
	require.NoError(f.t, err)
	return c
}

func (f *fixture) operation(id uuid.UUID) *domain.Operation {
	f.t.Helper()
	o, err := commands.Load(peers.Context(f.t), f.store, commands.OperationStream(id), func() *domain.Operation { return domain.NewOperation(id) })
	require.NoError(f.t, err)
	return o
}

// requireSlug asserts a domain error with slug (and field, when given).
func requireSlug(t *testing.T, err error, slug, field string) *domain.Error {
	t.Helper()
	require.Error(t, err)
	de, ok := domain.AsError(err)
	require.Truef(t, ok, "not a domain error: %v", err)
	require.Equal(t, slug, de.Slug, "message: %s", de.Message)
	if field != "" {
		require.Equal(t, field, de.Field)
	}
	return de
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeChecker answers with what the test scripted for a connection,
// recognised by a setting value, and records what it was called with.
type fakeChecker struct {
	mu      sync.Mutex
	scripts map[string]func(settings, secrets map[string]string) commands.CheckResult
	calls   []checkCall
}

type checkCall struct {
	Kind     domain.ConnectionKind
	Settings map[string]string
	Secrets  map[string]string
}

// script sets the answer for connections whose settings hold the value key
// (a bucket, a database or a folder name unique to the test).
func (c *fakeChecker) script(key string, fn func(settings, secrets map[string]string) commands.CheckResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scripts == nil {
		c.scripts = map[string]func(settings, secrets map[string]string) commands.CheckResult{}
	}
	c.scripts[key] = fn
}

func (c *fakeChecker) Check(ctx context.Context, kind domain.ConnectionKind, settings, secrets map[string]string) commands.CheckResult {
	c.mu.Lock()
	c.calls = append(c.calls, checkCall{Kind: kind, Settings: maps.Clone(settings), Secrets: maps.Clone(secrets)})
	var fn func(settings, secrets map[string]string) commands.CheckResult
	for _, v := range settings {
		if s, ok := c.scripts[v]; ok {
			fn = s
		}
	}
	c.mu.Unlock()
	if fn != nil {
		return fn(settings, secrets)
	}
	return commands.CheckResult{Check: domain.Check{OK: true, Details: map[string]string{"checked": "yes"}}}
}

// callsWith returns the calls whose settings hold value.
func (c *fakeChecker) callsWith(value string) []checkCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []checkCall
	for _, call := range c.calls {
		for _, v := range call.Settings {
			if v == value {
				out = append(out, call)
				break
			}
		}
	}
	return out
}

// Connection inputs unique to a test (the bucket name identifies the
// connection to the fake checker).

func s3Input(kind domain.ConnectionKind, bucket string) commands.CreateConnection {
	return commands.CreateConnection{
		Kind: kind, Name: "S3 " + bucket,
		Settings: map[string]string{"access_key_id": "AKIA" + bucket, "region": "us-east-1", "bucket": bucket, "endpoint": "http://127.0.0.1:9", "path_style": "true"},
		Secrets:  map[string]string{"secret_access_key": "sk-" + bucket + "-plaintext"},
	}
}

func mongoInput(db string) commands.CreateConnection {
	return commands.CreateConnection{
		Kind: domain.KindMongoSource, Name: "Mongo " + db,
		Settings: map[string]string{"database": db, "username": "admin"},
		Secrets:  map[string]string{"uri": "mongodb://admin:pw-" + db + "@127.0.0.1:1/?authSource=admin", "password": "pw-" + db},
	}
}

func (f *fixture) create(in commands.CreateConnection) *domain.Connection {
	f.t.Helper()
	c, err := f.h.CreateConnection.Handle(f.ctx(), in)
	require.NoError(f.t, err)
	return c
}

// backupPair creates a fresh S3 source and S3 destination.
func (f *fixture) backupPair() (src, dst *domain.Connection) {
	return f.create(s3Input(domain.KindS3Source, peers.RandomName("src-"))), f.create(s3Input(domain.KindS3Destination, peers.RandomName("dst-")))
}

func clone(m map[string]string) map[string]string { return maps.Clone(m) }

// encodings are the forms a leaked secret could take in JSON: as is, and in
// the three base64 alignments of []byte fields.
func encodings(s string) []string {
	out := []string{s}
	for i := range 3 {
		if len(s) > i+6 {
			enc := base64.StdEncoding.EncodeToString([]byte(s[i:]))
			// The first 4*k characters only depend on the input's first 3*k bytes.
			out = append(out, enc[:len(enc)/4*4-4])
		}
	}
	return out
}

// keySpecOf rebuilds the fixture keyring's spec (tests only).
func keySpecOf(t *testing.T, f *fixture) string {
	t.Helper()
	return f.keySpec
}

// hookStore runs a function just before the next Save to a stream: it puts
// another command exactly between a decision and its append, against the
// real store.
type hookStore struct {
	commands.EventStore
	mu         sync.Mutex
	beforeSave map[string]func()
}

func (h *hookStore) before(stream string, fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.beforeSave == nil {
		h.beforeSave = map[string]func(){}
	}
	h.beforeSave[stream] = fn
}

func (h *hookStore) Save(ctx context.Context, stream string, agg domain.Aggregate) error {
	h.mu.Lock()
	fn := h.beforeSave[stream]
	delete(h.beforeSave, stream)
	h.mu.Unlock()
	if fn != nil {
		fn()
	}
	return h.EventStore.Save(ctx, stream, agg)
}

// hooked returns handlers whose saves go through a hookStore.
func (f *fixture) hooked() (*commands.Handlers, *hookStore) {
	hs := &hookStore{EventStore: f.store}
	return commands.New(commands.Deps{Store: hs, Keyring: f.keyring, Checker: f.checker, Clock: f.clock.Now,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))}), hs
}
