package httpapi

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Rate-limit buckets.
const (
	bucketLoginFailure = "login-failure"
	bucketForgot       = "password-forgot"
)

// rateStore counts events per key in a sliding window, in Postgres, so every
// API instance sees the same counts.
type rateStore struct {
	pool *pgxpool.Pool
}

// exceeded reports whether key already has lim.Max events in the window
// ending at now.
func (r rateStore) exceeded(ctx context.Context, bucket, key string, lim RateLimit, now time.Time) (bool, error) {
	var n int
	err := r.pool.QueryRow(ctx, `SELECT count(*) FROM http_rate_events WHERE bucket = $1 AND key = $2 AND at > $3`,
		bucket, key, now.Add(-lim.Window)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	return n >= lim.Max, nil
}

func (r rateStore) record(ctx context.Context, bucket, key string, now time.Time) error {
	if _, err := r.pool.Exec(ctx, `INSERT INTO http_rate_events (bucket, key, at) VALUES ($1, $2, $3)`, bucket, key, now); err != nil {
		return fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	return nil
}

// prune forgets events older than any window in use.
func (r rateStore) prune(ctx context.Context, before time.Time) error {
	if _, err := r.pool.Exec(ctx, `DELETE FROM http_rate_events WHERE at < $1`, before); err != nil {
		return fmt.Errorf("rate limit prune: %w", err)
	}
	return nil
}
