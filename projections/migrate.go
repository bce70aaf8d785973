// Package projections keeps the Postgres read models: one projector per
// model turns the events of $all into rows, the Runner feeds them through
// Watermill, and Queries reads them for the API and the executors. Every
// row can be dropped and rebuilt from the events (Runner.Rebuild).
package projections

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationPrefix namespaces this package's rows in schema_migrations.
const migrationPrefix = "projections/"

// Advisory lock keys (pg_advisory_*). migrateLock serialises Migrate calls
// of processes starting at once; rebuildLock is held shared by every
// projector transaction and exclusively by Rebuild.
const (
	migrateLock int64 = 0x70726f6a6d696731 // "projmig1"
	rebuildLock int64 = 0x70726f6a72656231 // "projreb1"
)

// Migrate applies the SQL migrations not applied yet. It is idempotent, and
// safe when several processes start at once (they queue on an advisory lock
// and the later ones find nothing left to do).
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("projections: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := migrateTx(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("projections: migrate: commit: %w", err)
	}
	return nil
}

// migrateTx applies the pending migrations inside tx.
func migrateTx(ctx context.Context, tx pgx.Tx) error {
	// The lock comes first: two sessions racing on CREATE TABLE IF NOT
	// EXISTS can still collide in the catalog.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("projections: migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("projections: migrate: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT name FROM schema_migrations WHERE name LIKE $1`, migrationPrefix+"%")
	if err != nil {
		return fmt.Errorf("projections: migrate: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("projections: migrate: %w", err)
	}
	done := map[string]bool{}
	for _, n := range applied {
		done[n] = true
	}
	names, err := migrationNames()
	if err != nil {
		return err
	}
	for _, name := range names {
		if done[migrationPrefix+name] {
			continue
		}
		sql, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return fmt.Errorf("projections: migrate: %w", err)
		}
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("projections: migration %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, migrationPrefix+name); err != nil {
			return fmt.Errorf("projections: migration %s: %w", name, err)
		}
	}
	return nil
}

// migrationNames lists the embedded migrations in the order they apply.
func migrationNames() ([]string, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("projections: migrations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}
