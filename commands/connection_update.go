package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// loadConnection loads the connection's latest state (a missing one does
// not exist: check Exists).
func (s *service) loadConnection(ctx context.Context, id uuid.UUID) (*domain.Connection, error) {
	return Load(ctx, s.store, ConnectionStream(id), func() *domain.Connection { return domain.NewConnection(id) })
}

// updateConnection applies decide to the connection's latest state.
func (s *service) updateConnection(ctx context.Context, id uuid.UUID, decide func(*domain.Connection) error) (*domain.Connection, error) {
	return Update(ctx, s.store, ConnectionStream(id), func() *domain.Connection { return domain.NewConnection(id) }, decide)
}

// updateCheckedConnection applies decide, the outcome of a check of checked
// (the connection as loaded before the check ran), unless its credentials
// changed meanwhile: the outcome would be about credentials no longer
// stored, so that is a concurrent update.
func (s *service) updateCheckedConnection(ctx context.Context, id uuid.UUID, checked *domain.Connection, decide func(*domain.Connection) error) (*domain.Connection, error) {
	checkedSettings, checkedSecrets := checked.Settings, checked.Secrets
	return s.updateConnection(ctx, id, func(c *domain.Connection) error {
		if c.Exists() && !sameCredentials(c, checkedSettings, checkedSecrets) {
			return domain.ErrConcurrentUpdate
		}
		return decide(c)
	})
}
