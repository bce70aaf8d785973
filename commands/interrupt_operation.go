package commands

import (
	"context"
	"time"

	"backupd/domain"

	"github.com/google/uuid"
)

// InterruptOperation is the reaper's verdict on a running operation whose
// worker stopped sending heartbeats; it applies only to the attempt the
// reaper saw (WorkerID, Attempt), so a fresh claim is never interrupted.
type InterruptOperation struct {
	ID            uuid.UUID
	WorkerID      string
	Attempt       int
	LastHeartbeat time.Time
}

type interruptOperationHandler struct{ *service }

func (h interruptOperationHandler) Handle(ctx context.Context, cmd InterruptOperation) (*domain.Operation, error) {
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.Interrupt(cmd.WorkerID, cmd.Attempt, cmd.LastHeartbeat, now)
	})
}
