package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// CreateConnection adds a data source or destination, proven by connecting
// to it before anything is stored.
type CreateConnection struct {
	ID       uuid.UUID // optional: uuid.Nil gets a new id (the OAuth flow picks one up front)
	Kind     domain.ConnectionKind
	Name     string
	Settings map[string]string
	Secrets  map[string]string // plaintext; sealed before they reach an event
}

type createConnectionHandler struct{ *service }

// Handle validates the input (fast, clear errors), checks it by connecting
// with the plaintext secrets, seals the secrets and records the connection.
// A failed check stores nothing and returns a domain error with the
// service's reason on the right field.
func (h createConnectionHandler) Handle(ctx context.Context, cmd CreateConnection) (*domain.Connection, error) {
	id := cmd.ID
	if id == uuid.Nil {
		id = uuid.New()
	}
	plain := nonEmpty(cmd.Secrets)
	if err := validateSecretNames(cmd.Kind, plain); err != nil {
		return nil, err
	}
	if err := domain.ValidateConnectionInput(cmd.Kind, cmd.Name, cmd.Settings, presence(plain)); err != nil {
		return nil, err
	}
	res := h.check(ctx, cmd.Kind, cmd.Settings, plain)
	settings := learned(cmd.Settings, res)
	if res.OK {
		plain = overlay(plain, res.Secrets)
	}
	sealed, err := h.keyring.SealMap(plain)
	if err != nil {
		return nil, err
	}
	now := h.now()
	return h.updateConnection(ctx, id, func(c *domain.Connection) error {
		return c.Create(cmd.Kind, cmd.Name, settings, sealed, res.Check, now)
	})
}
