package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// CompleteBackup records a finished backup's archive metadata.
type CompleteBackup struct {
	ID       uuid.UUID
	WorkerID string
	Result   domain.BackupResult
}

type completeBackupHandler struct{ *service }

func (h completeBackupHandler) Handle(ctx context.Context, cmd CompleteBackup) (*domain.Operation, error) {
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.CompleteBackup(cmd.WorkerID, cmd.Result, now)
	})
}
