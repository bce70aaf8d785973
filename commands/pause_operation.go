package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// PauseOperation asks a running backup to stop at its next safe point (a
// pending one pauses at once). Invalid transitions are domain conflicts.
type PauseOperation struct {
	ID uuid.UUID
}

type pauseOperationHandler struct{ *service }

func (h pauseOperationHandler) Handle(ctx context.Context, cmd PauseOperation) (*domain.Operation, error) {
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.RequestPause(now)
	})
}
