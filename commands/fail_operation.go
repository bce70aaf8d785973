package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// FailOperation records the error (and stack trace) a running operation
// ended with.
type FailOperation struct {
	ID       uuid.UUID
	WorkerID string
	Message  string
	Code     string // e.g. "mongodump-missing"
	Stack    string
}

type failOperationHandler struct{ *service }

func (h failOperationHandler) Handle(ctx context.Context, cmd FailOperation) (*domain.Operation, error) {
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.Fail(cmd.WorkerID, cmd.Message, cmd.Code, cmd.Stack, now)
	})
}
