package httpapi

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The HTTP layer's own tables (the read models have their own migration in
// projections). They hold no secret in a usable form: sessions and OAuth
// states are keyed by the SHA-256 of the token the browser holds.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS http_sessions (
		id           bytea PRIMARY KEY,          -- SHA-256 of the cookie's token
		user_id      uuid NOT NULL,
		user_email   text NOT NULL,
		created_at   timestamptz NOT NULL,
		last_seen_at timestamptz NOT NULL,
		ip           text NOT NULL DEFAULT '',
		user_agent   text NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX IF NOT EXISTS http_sessions_user ON http_sessions (user_id)`,
	`CREATE INDEX IF NOT EXISTS http_sessions_last_seen ON http_sessions (last_seen_at)`,
	// Sliding-window counters shared by every API instance: failed logins
	// and password-reset requests per client IP.
	`CREATE TABLE IF NOT EXISTS http_rate_events (
		bucket text NOT NULL,
		key    text NOT NULL,
		at     timestamptz NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS http_rate_events_key ON http_rate_events (bucket, key, at)`,
	// Pending Google OAuth authorizations, bound to the session that started
	// them; the PKCE verifier is derived from the state and the session
	// token, so it is not stored.
	`CREATE TABLE IF NOT EXISTS http_oauth_states (
		state_hash    bytea PRIMARY KEY,
		session_id    bytea NOT NULL REFERENCES http_sessions (id) ON DELETE CASCADE,
		name          text NOT NULL,
		folder_name   text NOT NULL,
		connection_id uuid,
		created_at    timestamptz NOT NULL,
		expires_at    timestamptz NOT NULL
	)`,
}

// migrationLock serialises concurrent Migrate calls of several instances.
const migrationLock = 0x6874747061706931 // "httpapi1"

// Migrate creates the HTTP layer's tables; it is idempotent and safe to run
// from several instances at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("httpapi migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("httpapi migrate: lock: %w", err)
	}
	for _, stmt := range migrations {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("httpapi migrate: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("httpapi migrate: %w", err)
	}
	return nil
}
