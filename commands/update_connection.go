package commands

import (
	"context"
	"maps"

	"backupd/domain"

	"github.com/google/uuid"
)

// UpdateConnection edits a connection and proves the result by connecting
// before it is stored.
type UpdateConnection struct {
	ID   uuid.UUID
	Name string
	// Settings replace the stored ones, except managed fields (set by the
	// OAuth flow and the checks) that are left out: those keep their value.
	Settings map[string]string
	// Secrets in plaintext; a secret given as "" (or left out) keeps the
	// stored one.
	Secrets map[string]string
}

type updateConnectionHandler struct{ *service }

func (h updateConnectionHandler) Handle(ctx context.Context, cmd UpdateConnection) (*domain.Connection, error) {
	conn, err := h.loadLiveConnection(ctx, cmd.ID)
	if err != nil {
		return nil, err
	}
	changed := nonEmpty(cmd.Secrets)
	if err := validateSecretNames(conn.Kind, changed); err != nil {
		return nil, err
	}
	settings := withManagedSettings(conn, cmd.Settings)
	stored, err := OpenSecrets(h.keyring, conn)
	if err != nil {
		return nil, err
	}
	plain := overlay(stored, changed)
	if err := domain.ValidateConnectionInput(conn.Kind, cmd.Name, settings, presence(plain)); err != nil {
		return nil, err
	}
	res := h.check(ctx, conn.Kind, settings, plain)
	settings = learned(settings, res)
	if res.OK {
		changed = overlay(changed, res.Secrets)
	}
	// Seal only what changed, plus what an older key sealed (an edit is a
	// natural moment to finish a key rotation).
	for name, s := range conn.Secrets {
		if _, ok := changed[name]; !ok && h.keyring.NeedsReseal(s) {
			changed[name] = stored[name]
		}
	}
	sealedChanges, err := h.keyring.SealMap(changed)
	if err != nil {
		return nil, err
	}
	now := h.now()
	return h.updateCheckedConnection(ctx, cmd.ID, conn, func(c *domain.Connection) error {
		return c.Update(cmd.Name, settings, c.MergeSecrets(sealedChanges), res.Check, now)
	})
}

// withManagedSettings keeps the stored value of each managed field the input
// leaves out (the form does not send what the system sets).
func withManagedSettings(c *domain.Connection, input map[string]string) map[string]string {
	out := maps.Clone(input)
	if out == nil {
		out = map[string]string{}
	}
	spec, err := domain.SpecOf(c.Kind)
	if err != nil {
		return out
	}
	for _, f := range spec.Fields {
		if !f.Managed || f.Secret() {
			continue
		}
		if _, given := out[f.Name]; !given {
			if v, ok := c.Settings[f.Name]; ok {
				out[f.Name] = v
			}
		}
	}
	return out
}

// loadLiveConnection loads a connection that exists and is not deleted.
func (s *service) loadLiveConnection(ctx context.Context, id uuid.UUID) (*domain.Connection, error) {
	c, err := s.loadConnection(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Deleted {
		return nil, domain.ErrConnectionDeleted
	}
	if !c.Exists() {
		return nil, errConnectionMissing
	}
	return c, nil
}
