package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// ResumeOperation hands a paused or interrupted operation back to the queue.
type ResumeOperation struct {
	ID uuid.UUID
}

type resumeOperationHandler struct{ *service }

func (h resumeOperationHandler) Handle(ctx context.Context, cmd ResumeOperation) (*domain.Operation, error) {
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.RequestResume(now)
	})
}
