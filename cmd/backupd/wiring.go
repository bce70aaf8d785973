package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/commands/secrets"
	"backupd/executors"
	"backupd/executors/gdrive"
	"backupd/executors/mongodb"
	"backupd/httpapi"
	"backupd/projections"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// app holds what every subcommand shares.
type app struct {
	cfg        Config
	logger     *slog.Logger
	pool       *pgxpool.Pool
	store      *eventstore.Store
	keyring    *secrets.Keyring
	connectors *executors.Connectors
	commands   *commands.Handlers
	queries    *projections.Queries
}

func (a *app) close() {
	if a.pool != nil {
		a.pool.Close()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
}

func (c Config) googleApp() gdrive.App {
	return gdrive.App{
		ClientID: c.GoogleClientID, ClientSecret: c.GoogleClientSecret,
		RedirectURL: c.PublicURL + "/oauth/google/callback",
		Endpoints:   gdrive.Endpoints{AuthURL: c.GoogleAuthURL, TokenURL: c.GoogleTokenURL, APIBase: c.GoogleAPI},
	}
}

// open connects to Postgres (creating the database when the server lacks
// it, so a fresh install needs no SQL), migrates, and connects to
// EventStoreDB.
func open(ctx context.Context, cfg Config, logger *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, logger: logger}
	pool, err := openPostgres(ctx, cfg.DatabaseURL, logger)
	if err != nil {
		return nil, err
	}
	a.pool = pool
	if err := projections.Migrate(ctx, pool); err != nil {
		a.close()
		return nil, fmt.Errorf("migrate read models: %w", err)
	}
	if err := httpapi.Migrate(ctx, pool); err != nil {
		a.close()
		return nil, fmt.Errorf("migrate http tables: %w", err)
	}
	store, err := eventstore.Connect(cfg.ESDBURL)
	if err != nil {
		a.close()
		return nil, err
	}
	a.store = store
	keyring, err := loadKeyring(cfg, logger)
	if err != nil {
		a.close()
		return nil, fmt.Errorf("encryption keys: %w", err)
	}
	a.keyring = keyring
	a.connectors = &executors.Connectors{
		Keyring: keyring, Drive: cfg.googleApp(),
		Tools:    mongodb.Tools{Mongodump: cfg.Mongodump, Mongorestore: cfg.Mongorestore},
		SpoolDir: cfg.SpoolDir,
	}
	a.commands = commands.New(commands.Deps{Store: store, Keyring: keyring, Checker: a.connectors, Logger: logger})
	// Every process that opens a Drive destination (workers, and the API
	// reading manifests) keeps the access tokens it refreshes.
	a.connectors.RecordTokens = executors.RecordTokensWith(a.commands, logger)
	a.queries = projections.NewQueries(pool)
	return a, nil
}

func openPostgres(ctx context.Context, dsn string, logger *slog.Logger) (*pgxpool.Pool, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		pool, err := pgxpool.New(ctx, dsn)
		if err == nil {
			err = pool.Ping(ctx)
			if err == nil {
				return pool, nil
			}
			pool.Close()
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name: no such database
			if cerr := createDatabase(ctx, dsn); cerr != nil {
				return nil, fmt.Errorf("postgres: %w (and creating it failed: %v)", err, cerr)
			}
			logger.Info("created the Postgres database")
			continue
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		logger.Info("waiting for Postgres", "error", err)
		time.Sleep(2 * time.Second)
	}
}

func createDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

func (a *app) newWorker() *executors.Worker {
	return executors.NewWorker(executors.WorkerConfig{
		ID: a.cfg.WorkerID, MaxJobs: a.cfg.WorkerJobs, HeartbeatTimeout: a.cfg.HeartbeatTimeout, LimitMemory: true,
	}, a.store, a.commands, a.connectors, a.queries, a.logger)
}
