package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// CancelOperation stops a pending, running, paused or interrupted operation
// (one that never started is cancelled at once; otherwise a worker stops it
// or cleans up after it and reports MarkCancelled).
type CancelOperation struct {
	ID uuid.UUID
}

type cancelOperationHandler struct{ *service }

func (h cancelOperationHandler) Handle(ctx context.Context, cmd CancelOperation) (*domain.Operation, error) {
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.RequestCancel(now)
	})
}
