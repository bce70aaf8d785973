// Package httpapi is the Fiber v2 HTTP layer: the JSON API of httpapi/API.md,
// server-side sessions, CSRF protection, login throttling, the Google Drive
// OAuth connect flow and the embedded web UI. Handlers are a few lines each:
// they decode, call a command or a query, and answer; errors are mapped to
// statuses in one place (errors.go).
package httpapi

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"sync"
	"time"

	"backupd/commands"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Deps are the server's collaborators.
type Deps struct {
	// Pool is the Postgres pool of the HTTP layer's own tables (sessions,
	// rate limits, OAuth states; see Migrate).
	Pool *pgxpool.Pool
	// Commands are the command handlers (commands.New).
	Commands *commands.Handlers
	// Queries read the read models (projections).
	Queries Queries
	// Projections lets an answer wait until the read models show a write.
	Projections ProjectionWaiter
	// Restores reads manifests and plans restores (executors); nil answers
	// 501 on those two endpoints.
	Restores RestorePlanner
	// Mailer sends reset links; nil logs them (LogMailer).
	Mailer Mailer
	// UI is the built web app (the "dist" folder of web.Dist); nil serves a
	// placeholder page.
	UI fs.FS
	// Logger defaults to slog.Default(); Clock to time.Now.
	Logger *slog.Logger
	Clock  func() time.Time
}

// Server is the HTTP server.
type Server struct {
	cfg      Config
	deps     Deps
	app      *fiber.App
	log      *slog.Logger
	sessions sessionStore
	limits   rateStore
	oauth    oauthStore
	ui       *uiFiles
	bg       sync.WaitGroup
}

// New builds the server and its route table. Run Migrate first.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Pool == nil:
		return nil, errors.New("httpapi: Deps.Pool is required")
	case deps.Commands == nil:
		return nil, errors.New("httpapi: Deps.Commands is required")
	case deps.Queries == nil:
		return nil, errors.New("httpapi: Deps.Queries is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if deps.Mailer == nil {
		deps.Mailer = LogMailer{Logger: deps.Logger}
	}
	s := &Server{
		cfg: cfg, deps: deps, log: deps.Logger,
		sessions: sessionStore{pool: deps.Pool}, limits: rateStore{pool: deps.Pool}, oauth: oauthStore{pool: deps.Pool},
	}
	ui, err := newUIFiles(deps.UI)
	if err != nil {
		return nil, err
	}
	s.ui = ui
	fcfg := fiber.Config{
		AppName:               "backupd",
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		// Handlers may hand values to background work (the reset mail):
		// Fiber must not reuse the buffers behind them.
		Immutable:    true,
		BodyLimit:    defaultBodyLimitBytes,
		ReadTimeout:  2 * time.Minute,
		WriteTimeout: 2 * time.Minute,
		IdleTimeout:  2 * time.Minute,
	}
	if cfg.ProxyHeader != "" {
		fcfg.ProxyHeader = cfg.ProxyHeader
		fcfg.EnableTrustedProxyCheck = true
		fcfg.TrustedProxies = cfg.TrustedProxies
	}
	s.app = fiber.New(fcfg)
	s.routes()
	return s, nil
}

// App is the Fiber application (tests call App().Test).
func (s *Server) App() *fiber.App { return s.app }

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error { return s.app.Listen(addr) }

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting requests, waits for those in flight and for
// background work (reset e-mails being sent).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.app.ShutdownWithContext(ctx)
	return errors.Join(err, s.WaitBackground(ctx))
}

// WaitBackground waits until the work requests started in the background
// (reset e-mails) has finished, or ctx ends.
func (s *Server) WaitBackground(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) now() time.Time { return s.deps.Clock().UTC() }

// background runs fn after the answer is sent, with a bounded context that
// keeps the request's command metadata but not its cancellation.
func (s *Server) background(parent context.Context, fn func(ctx context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), backgroundWorkDeadline)
		defer cancel()
		fn(ctx)
	}()
}
