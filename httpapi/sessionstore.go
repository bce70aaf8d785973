package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// session is a row of http_sessions.
type session struct {
	ID         []byte // SHA-256 of the token
	UserID     uuid.UUID
	UserEmail  string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// sessionStore keeps sessions server-side in Postgres. The browser holds a
// random token; the table holds only its hash, so a leaked table opens no
// session.
type sessionStore struct {
	pool *pgxpool.Pool
}

// newToken returns 32 random bytes, base64url-encoded.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func (st sessionStore) create(ctx context.Context, userID uuid.UUID, email, ip, userAgent string, now time.Time) (string, error) {
	token := newToken()
	if len(userAgent) > 512 {
		userAgent = userAgent[:512]
	}
	_, err := st.pool.Exec(ctx, `INSERT INTO http_sessions (id, user_id, user_email, created_at, last_seen_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $4, $5, $6)`, hashToken(token), userID, email, now, ip, userAgent)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// lookup finds the session of token; ok=false when there is none.
func (st sessionStore) lookup(ctx context.Context, token string) (session, bool, error) {
	var s session
	err := st.pool.QueryRow(ctx, `SELECT id, user_id, user_email, created_at, last_seen_at FROM http_sessions WHERE id = $1`,
		hashToken(token)).Scan(&s.ID, &s.UserID, &s.UserEmail, &s.CreatedAt, &s.LastSeenAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("look up session: %w", err)
	}
	return s, true, nil
}

func (st sessionStore) touch(ctx context.Context, id []byte, now time.Time) error {
	if _, err := st.pool.Exec(ctx, `UPDATE http_sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`, id, now); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

func (st sessionStore) delete(ctx context.Context, id []byte) error {
	if _, err := st.pool.Exec(ctx, `DELETE FROM http_sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// deleteUser ends every session of a user but keep (nil: all of them), as
// after a password change or reset.
func (st sessionStore) deleteUser(ctx context.Context, userID uuid.UUID, keep []byte) error {
	if keep == nil {
		keep = []byte{}
	}
	if _, err := st.pool.Exec(ctx, `DELETE FROM http_sessions WHERE user_id = $1 AND id <> $2`, userID, keep); err != nil {
		return fmt.Errorf("delete sessions of user: %w", err)
	}
	return nil
}

// deleteIdle removes sessions idle for longer than idle (housekeeping; a
// request on such a session ends it anyway).
func (st sessionStore) deleteIdle(ctx context.Context, idle time.Duration, now time.Time) (int64, error) {
	tag, err := st.pool.Exec(ctx, `DELETE FROM http_sessions WHERE last_seen_at < $1`, now.Add(-idle))
	if err != nil {
		return 0, fmt.Errorf("delete idle sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
