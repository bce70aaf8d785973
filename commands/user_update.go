package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// loadUser loads the user's latest state (a missing one does not exist:
// check Exists).
func (s *service) loadUser(ctx context.Context, id uuid.UUID) (*domain.User, error) {
	return Load(ctx, s.store, UserStream(id), func() *domain.User { return domain.NewUser(id) })
}

// updateUser applies decide to the user's latest state.
func (s *service) updateUser(ctx context.Context, id uuid.UUID, decide func(*domain.User) error) (*domain.User, error) {
	return Update(ctx, s.store, UserStream(id), func() *domain.User { return domain.NewUser(id) }, decide)
}
