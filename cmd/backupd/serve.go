package main

import (
	"context"
	"errors"
	"flag"
	"io/fs"
	"log/slog"
	"net"
	"time"

	"backupd/executors"
	"backupd/httpapi"
	"backupd/projections"
	"backupd/web"

	"golang.org/x/sync/errgroup"
)

func serve(ctx context.Context, cfg Config, logger *slog.Logger, args []string) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	noWorker := fl.Bool("no-worker", false, "do not run a worker in this process (run `backupd worker` elsewhere)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	a, err := open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()
	if err := ensureAdminFromEnv(ctx, a); err != nil {
		return err
	}
	runner := projections.NewRunner(a.store, a.pool, logger)
	ui, err := fs.Sub(web.Dist, "dist")
	if err != nil {
		return err
	}
	var mailer httpapi.Mailer
	if cfg.SMTPHost != "" {
		mailer = &httpapi.SMTPMailer{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUser, Password: cfg.SMTPPassword, From: cfg.SMTPFrom}
	}
	server, err := httpapi.New(httpapi.Config{
		PublicURL: cfg.PublicURL, IdleTimeout: cfg.IdleTimeout, PollIntervalSeconds: int(cfg.PollInterval / time.Second),
		SecureCookies: cfg.SecureCookies, LoginThrottle: cfg.LoginIPLimit, ForgotThrottle: cfg.ForgotIPLimit,
		ProxyHeader: cfg.ProxyHeader, TrustedProxies: cfg.TrustedProxies,
		Google: cfg.googleApp(),
	}, httpapi.Deps{
		Pool: a.pool, Commands: a.commands, Queries: a.queries, Projections: runner,
		Restores: executors.NewRestorePlanner(a.store, a.connectors, a.queries),
		Mailer:   mailer, UI: ui, Logger: logger,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	logger.Info("backupd listening", "address", ln.Addr().String(), "public_url", cfg.PublicURL, "worker", !*noWorker)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return runner.Run(gctx) })
	g.Go(func() error { return server.Serve(ln) })
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return server.Shutdown(sctx)
	})
	if !*noWorker {
		w := a.newWorker()
		g.Go(func() error { return w.Run(gctx) })
	}
	if cfg.RecheckInterval > 0 {
		g.Go(func() error {
			executors.RecheckPeriodically(gctx, a.pool, a.queries, a.commands, cfg.RecheckInterval, logger)
			return nil
		})
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func worker(ctx context.Context, cfg Config, logger *slog.Logger) error {
	a, err := open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()
	return a.newWorker().Run(ctx)
}

func replay(ctx context.Context, cfg Config, logger *slog.Logger) error {
	a, err := open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()
	start := time.Now()
	if err := projections.NewRunner(a.store, a.pool, logger).Rebuild(ctx); err != nil {
		return err
	}
	logger.Info("read models rebuilt from the events", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func migrate(ctx context.Context, cfg Config, logger *slog.Logger) error {
	pool, err := openPostgres(ctx, cfg.DatabaseURL, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := projections.Migrate(ctx, pool); err != nil {
		return err
	}
	if err := httpapi.Migrate(ctx, pool); err != nil {
		return err
	}
	logger.Info("database is up to date")
	return nil
}
