package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// RecordVerification ends a restore with its verification report: completed
// when it verifies, failed otherwise.
type RecordVerification struct {
	ID       uuid.UUID
	WorkerID string
	Report   domain.RestoreReport
}

type recordVerificationHandler struct{ *service }

func (h recordVerificationHandler) Handle(ctx context.Context, cmd RecordVerification) (*domain.Operation, error) {
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.RecordVerification(cmd.WorkerID, cmd.Report, now)
	})
}
