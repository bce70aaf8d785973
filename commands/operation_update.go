package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

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
