package commands

import (
	"context"
	"time"

	"backupd/domain"

	"github.com/google/uuid"
)

// RefreshConnectionTokens stores OAuth tokens refreshed mid-operation (by the
// Drive client's token source).
type RefreshConnectionTokens struct {
	ID           uuid.UUID
	AccessToken  string
	RefreshToken string // "" when the server did not rotate it
	Expiry       time.Time
}

type refreshConnectionTokensHandler struct{ *service }

func (h refreshConnectionTokensHandler) Handle(ctx context.Context, cmd RefreshConnectionTokens) (*domain.Connection, error) {
	if cmd.AccessToken == "" {
		return nil, domain.Invalid("field-required", accessTokenField, "the access token is missing")
	}
	pair, err := refreshedTokens{access: cmd.AccessToken, refresh: cmd.RefreshToken}.seal(h.service)
	if err != nil {
		return nil, err
	}
	now := h.now()
	return h.updateConnection(ctx, cmd.ID, func(c *domain.Connection) error {
		if c.Deleted {
			return domain.ErrConnectionDeleted
		}
		return c.RefreshTokens(pair.access, pair.refresh, cmd.Expiry.UTC(), now)
	})
}
