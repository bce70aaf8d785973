// Package apitest wires a complete in-process backupd API for tests: the
// EventStoreDB peer, a fresh Postgres database, the real command handlers,
// the projections runner and the HTTP server on a real loopback listener.
// Tests of other packages (executors, browser tests) use it to drive the
// product through its API as the UI does.
package apitest

import (
	"context"
	"io/fs"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/commands/secrets"
	"backupd/executors"
	"backupd/executors/gdrive"
	"backupd/executors/mongodb"
	"backupd/executors/testsupport/peers"
	"backupd/httpapi"
	"backupd/projections"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options adjust the server; the zero value is a working server.
type Options struct {
	// Config of the HTTP layer; PublicURL defaults to the listener's URL.
	Config httpapi.Config
	// Clock drives the HTTP layer and the commands (idle timeout, throttles,
	// reset token expiry); default the real time.
	Clock func() time.Time
	// ESDB is an esdb:// URL. Default: a private esdb-emulator for this
	// server, because the read models follow all of $all and must see only
	// this test's events.
	ESDB string
	// Drive, when set, configures the Google OAuth client and endpoints for
	// this drive-emulator (unless Config.Google.ClientID is set).
	Drive *peers.DrivePeer
	// Checker replaces the connection checker (default: Server.Connectors,
	// the product's real S3, MongoDB and Drive checks).
	Checker commands.ConnectionChecker
	// Restores, when set, builds what serves the manifest and preflight
	// endpoints from the server's parts (called before the HTTP server
	// starts; Server.API and Server.URL are not set yet). Default: the
	// product's executors.RestorePlanner.
	Restores func(s *Server) httpapi.RestorePlanner
	// UI is the built web app (fs.Sub(web.Dist, "dist")); nil: placeholder.
	UI     fs.FS
	Logger *slog.Logger
	// Admin account created at start (defaults below).
	AdminEmail, AdminName, AdminPassword string
}

// Server is a running API with its parts exposed.
type Server struct {
	URL      string // http://127.0.0.1:PORT
	Config   httpapi.Config
	API      *httpapi.Server
	Commands *commands.Handlers
	Queries  *projections.Queries
	Runner   *projections.Runner
	Store    *eventstore.Store
	Pool     *pgxpool.Pool
	Keyring  *secrets.Keyring
	Mail     *Mailbox
	Google   gdrive.App
	// Connectors build sources and destinations from connections (for
	// tests that run executors against this server).
	Connectors *executors.Connectors

	AdminID       uuid.UUID
	AdminEmail    string
	AdminPassword string
}

// Start runs a server for the test; everything stops at the test's end.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(newTestWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	store, pool := openStores(t, ctx, opts.ESDB)
	keyring, err := secrets.ParseKeyring(secrets.GenerateKeySpec("test1"))
	must(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	url := "http://" + ln.Addr().String()
	cfg := opts.Config
	if cfg.PublicURL == "" {
		cfg.PublicURL = url
	}
	if opts.Drive != nil && cfg.Google.ClientID == "" {
		cfg.Google = gdrive.App{ClientID: opts.Drive.ClientID, ClientSecret: opts.Drive.ClientSecret,
			Endpoints: gdrive.EndpointsFromBase(opts.Drive.URL)}
	}
	if cfg.Google.RedirectURL == "" {
		cfg.Google.RedirectURL = cfg.PublicURL + httpapi.GoogleCallbackPath
	}
	connectors := &executors.Connectors{Keyring: keyring, Drive: cfg.Google, Tools: mongodb.DefaultTools(), SpoolDir: t.TempDir()}
	var checker commands.ConnectionChecker = connectors
	if opts.Checker != nil {
		checker = opts.Checker
	}
	handlers := commands.New(commands.Deps{Store: store, Keyring: keyring, Checker: checker, Clock: clock, Logger: logger})

	runner := projections.NewRunner(store, pool, logger)
	runDone := make(chan error, 1)
	go func() { runDone <- runner.Run(ctx) }()

	s := &Server{Config: cfg, Commands: handlers, Queries: projections.NewQueries(pool), Runner: runner, Store: store,
		Pool: pool, Keyring: keyring, Mail: NewMailbox(), Google: cfg.Google, Connectors: connectors}
	var restores httpapi.RestorePlanner = executors.NewRestorePlanner(store, connectors, s.Queries)
	if opts.Restores != nil {
		restores = opts.Restores(s)
	}
	api, err := httpapi.New(cfg, httpapi.Deps{
		Pool: pool, Commands: handlers, Queries: s.Queries, Projections: runner,
		Restores: restores, Mailer: s.Mail, UI: opts.UI, Logger: logger, Clock: clock,
	})
	must(t, err)
	s.API, s.URL = api, url
	served := make(chan error, 1)
	go func() { served <- api.Serve(ln) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = api.Shutdown(sctx)
		<-served
		cancel()
		select {
		case <-runDone:
		case <-time.After(30 * time.Second):
			t.Errorf("apitest: the projections runner did not stop")
		}
	})

	s.createAdmin(t, opts)
	return s
}

// openStores connects to EventStoreDB (a private one unless esdbURL is set)
// and to a fresh, migrated Postgres database.
func openStores(t testing.TB, ctx context.Context, esdbURL string) (*eventstore.Store, *pgxpool.Pool) {
	t.Helper()
	if esdbURL == "" {
		esdbURL, _ = peers.PrivateESDB(t)
	}
	store, err := eventstore.Connect(esdbURL)
	must(t, err)
	t.Cleanup(func() { _ = store.Close() })

	pcfg, err := pgxpool.ParseConfig(peers.Postgres(t))
	must(t, err)
	pcfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	must(t, err)
	t.Cleanup(pool.Close)
	must(t, httpapi.Migrate(ctx, pool))
	must(t, projections.Migrate(ctx, pool))
	return store, pool
}

// createAdmin registers the administrator opts name (or a made-up one).
func (s *Server) createAdmin(t testing.TB, opts Options) {
	t.Helper()
	s.AdminEmail, s.AdminPassword = opts.AdminEmail, opts.AdminPassword
	if s.AdminEmail == "" {
		s.AdminEmail = peers.RandomName("admin-") + "@example.com"
	}
	if s.AdminPassword == "" {
		s.AdminPassword = "correct horse battery"
	}
	name := opts.AdminName
	if name == "" {
		name = "Ada Admin"
	}
	s.AdminID = s.CreateUser(t, s.AdminEmail, name, s.AdminPassword)
}

// CreateUser registers an administrator and waits until the read models
// show it.
func (s *Server) CreateUser(t testing.TB, email, name, password string) uuid.UUID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := s.Commands.RegisterUser.Handle(ctx, commands.RegisterUser{Email: email, Name: name, Password: password})
	must(t, err)
	must(t, s.Runner.WaitForStream(ctx, commands.UserStream(id)))
	return id
}

// Mailbox is a Mailer that keeps what it is asked to send.
type Mailbox struct {
	mu      sync.Mutex
	msgs    []httpapi.Message
	changed chan struct{}
}

func NewMailbox() *Mailbox { return &Mailbox{changed: make(chan struct{})} }

func (m *Mailbox) Send(_ context.Context, msg httpapi.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	close(m.changed)
	m.changed = make(chan struct{})
	return nil
}

// Messages returns every message sent so far.
func (m *Mailbox) Messages() []httpapi.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]httpapi.Message(nil), m.msgs...)
}

// WaitFor returns the n-th message (1-based) sent to to, waiting up to 30 s.
func (m *Mailbox) WaitFor(t testing.TB, to string, n int) httpapi.Message {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		m.mu.Lock()
		seen := 0
		for _, msg := range m.msgs {
			if msg.To == to {
				seen++
				if seen == n {
					m.mu.Unlock()
					return msg
				}
			}
		}
		changed := m.changed
		m.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("apitest: no message #%d to %s within 30s", n, to)
		}
	}
}

// testWriter sends the log to the test's output until the test ends (a
// late line from a stopping goroutine is dropped, not a panic).
type testWriter struct {
	t    testing.TB
	done *atomic.Bool
}

func newTestWriter(t testing.TB) testWriter {
	w := testWriter{t: t, done: &atomic.Bool{}}
	t.Cleanup(func() { w.done.Store(true) }) // registered first, runs last
	return w
}

func (w testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
