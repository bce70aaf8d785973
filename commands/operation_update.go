package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// loadOperation loads the operation's latest state (a missing one does not
// exist: check Exists).
func (s *service) loadOperation(ctx context.Context, id uuid.UUID) (*domain.Operation, error) {
	return Load(ctx, s.store, OperationStream(id), func() *domain.Operation { return domain.NewOperation(id) })
}

// createOperation writes a new operation: create is the domain's request
// (which refuses an operation that already exists).
func (s *service) createOperation(ctx context.Context, id uuid.UUID, create func(*domain.Operation) error) error {
	_, err := Update(ctx, s.store, OperationStream(id), func() *domain.Operation { return domain.NewOperation(id) }, create)
	return err
}

// updateOperation applies decide to an existing operation (a missing one is
// "operation-not-found", not a confusing transition error).
func (s *service) updateOperation(ctx context.Context, id uuid.UUID, decide func(*domain.Operation) error) (*domain.Operation, error) {
	return Update(ctx, s.store, OperationStream(id), func() *domain.Operation { return domain.NewOperation(id) }, func(o *domain.Operation) error {
		if !o.Exists() {
			return errOperationMissing
		}
		return decide(o)
	})
}
