package commands

import (
	"context"
	"maps"
	"time"

	"backupd/domain"

	"github.com/google/uuid"
)

// CheckConnection re-checks a stored connection (from the UI, or the
// periodic job). A failure is recorded on the connection (status invalid,
// with the service's reason), not returned as an error.
type CheckConnection struct {
	ID uuid.UUID
}

type checkConnectionHandler struct{ *service }

// OAuth token fields a check may refresh; they are recorded with
// Connection.RefreshTokens, everything else learned with Connection.Update.
const (
	accessTokenField  = "access_token"
	refreshTokenField = "refresh_token"
	tokenExpiryField  = "token_expiry"
)

func (h checkConnectionHandler) Handle(ctx context.Context, cmd CheckConnection) (*domain.Connection, error) {
	conn, err := h.loadLiveConnection(ctx, cmd.ID)
	if err != nil {
		return nil, err
	}
	plain, err := OpenSecrets(h.keyring, conn)
	if err != nil {
		return nil, err
	}
	res := h.check(ctx, conn.Kind, conn.Settings, plain)

	// What the check learned besides tokens (a recreated Drive folder's id,
	// the account's e-mail) is stored with an update; tokens with
	// RefreshTokens.
	var learnedSettings map[string]string
	var tokens *refreshedTokens
	learnedSecrets := nonEmpty(res.Secrets)
	if access, ok := learnedSecrets[accessTokenField]; ok {
		// A refreshed token is good even when the rest of the check failed
		// (say, the folder is gone): keep it rather than refresh again.
		tokens = &refreshedTokens{access: access, refresh: learnedSecrets[refreshTokenField], expiry: parseExpiry(res.Settings[tokenExpiryField])}
		delete(learnedSecrets, accessTokenField)
		delete(learnedSecrets, refreshTokenField)
	}
	if res.OK {
		learnedSettings = changedSettings(conn.Settings, res.Settings)
	} else {
		learnedSecrets = nil
	}
	sealedLearned, err := h.keyring.SealMap(learnedSecrets)
	if err != nil {
		return nil, err
	}
	var sealedTokens *sealedTokenPair
	if tokens != nil {
		if sealedTokens, err = tokens.seal(h.service); err != nil {
			return nil, err
		}
	}
	now := h.now()
	return h.updateCheckedConnection(ctx, cmd.ID, conn, func(c *domain.Connection) error {
		if len(learnedSettings) > 0 || len(sealedLearned) > 0 {
			settings := maps.Clone(c.Settings)
			maps.Copy(settings, learnedSettings)
			if err := c.Update(c.Name, settings, c.MergeSecrets(sealedLearned), res.Check, now); err != nil {
				return err
			}
		} else if err := c.RecordCheck(res.Check, now); err != nil {
			return err
		}
		if sealedTokens != nil {
			return c.RefreshTokens(sealedTokens.access, sealedTokens.refresh, tokens.expiry, now)
		}
		return nil
	})
}

// changedSettings returns the learned settings that differ from stored,
// leaving out the token expiry (recorded with the tokens).
func changedSettings(stored, learned map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range learned {
		if k == tokenExpiryField {
			continue
		}
		if old, ok := stored[k]; !ok || old != v {
			out[k] = v
		}
	}
	return out
}

type refreshedTokens struct {
	access, refresh string
	expiry          time.Time
}

type sealedTokenPair struct{ access, refresh domain.SealedSecret }

func (t refreshedTokens) seal(s *service) (*sealedTokenPair, error) {
	var p sealedTokenPair
	var err error
	if p.access, err = s.keyring.SealString(t.access); err != nil {
		return nil, err
	}
	if t.refresh != "" {
		if p.refresh, err = s.keyring.SealString(t.refresh); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// parseExpiry reads an RFC 3339 expiry; an absent or malformed one is the
// zero time (unknown).
func parseExpiry(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
