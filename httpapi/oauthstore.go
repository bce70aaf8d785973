package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pendingAuthorization is a Drive consent in progress: what the form said,
// bound to the session that started it.
type pendingAuthorization struct {
	Name         string
	FolderName   string
	ConnectionID *uuid.UUID // a reconnect of this connection
}

// oauthStore keeps pending authorizations keyed by the SHA-256 of their
// state, single use and short-lived.
type oauthStore struct {
	pool *pgxpool.Pool
}

func (o oauthStore) create(ctx context.Context, state string, sessionID []byte, p pendingAuthorization, now time.Time) error {
	_, err := o.pool.Exec(ctx, `INSERT INTO http_oauth_states (state_hash, session_id, name, folder_name, connection_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, hashToken(state), sessionID, p.Name, p.FolderName, p.ConnectionID, now, now.Add(oauthStateTTL))
	if err != nil {
		return fmt.Errorf("store OAuth state: %w", err)
	}
	// Old, abandoned consents go as new ones come.
	if _, err := o.pool.Exec(ctx, `DELETE FROM http_oauth_states WHERE expires_at < $1`, now); err != nil {
		return fmt.Errorf("prune OAuth states: %w", err)
	}
	return nil
}

// take consumes the pending authorization of state if it belongs to the
// session and has not expired; ok=false otherwise.
func (o oauthStore) take(ctx context.Context, state string, sessionID []byte, now time.Time) (pendingAuthorization, bool, error) {
	var p pendingAuthorization
	var expires time.Time
	err := o.pool.QueryRow(ctx, `DELETE FROM http_oauth_states WHERE state_hash = $1 AND session_id = $2
		RETURNING name, folder_name, connection_id, expires_at`, hashToken(state), sessionID).Scan(&p.Name, &p.FolderName, &p.ConnectionID, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("take OAuth state: %w", err)
	}
	return p, now.Before(expires), nil
}

// pkceVerifier derives the PKCE code verifier from the session token (held
// only by the browser's cookie) and the state (held only in the consent
// URL), so the server stores no verifier: 43 base64url characters, as RFC
// 7636 asks.
func pkceVerifier(sessionToken, state string) string {
	mac := hmac.New(sha256.New, []byte(sessionToken))
	mac.Write([]byte("backupd-pkce:" + state))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
