package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// MarkPaused is the executor's report that it stopped at a safe point after
// a pause request; Position says where in words, CheckpointSeq is the last
// checkpoint it recorded.
type MarkPaused struct {
	ID            uuid.UUID
	WorkerID      string
	Position      string
	CheckpointSeq int64
}

type markPausedHandler struct{ *service }

func (h markPausedHandler) Handle(ctx context.Context, cmd MarkPaused) (*domain.Operation, error) {
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.MarkPaused(cmd.WorkerID, cmd.Position, cmd.CheckpointSeq, now)
	})
}
