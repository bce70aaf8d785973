package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// MarkCancelled records the end of a cancel, after the clean-up steps
// (listed in words for the log and the audit).
type MarkCancelled struct {
	ID        uuid.UUID
	CleanedUp []string
}

type markCancelledHandler struct{ *service }

func (h markCancelledHandler) Handle(ctx context.Context, cmd MarkCancelled) (*domain.Operation, error) {
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.MarkCancelled(cmd.CleanedUp, now)
	})
}
