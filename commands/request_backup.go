package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// RequestBackup asks for a backup of a data source to a destination ("Back
// up now"). It returns at once with the id of the pending operation.
type RequestBackup struct {
	SourceID      uuid.UUID
	DestinationID uuid.UUID
}

type requestBackupHandler struct{ *service }

// Handle reserves both connections (so neither can be deleted while the
// backup is active), then creates the operation. A connection whose last
// check failed is allowed (the backup will report the error); a deleted one
// is refused.
func (h requestBackupHandler) Handle(ctx context.Context, cmd RequestBackup) (uuid.UUID, error) {
	// Refuse bad input before writing anything.
	if _, err := h.loadForSlot(ctx, cmd.SourceID, slotSource); err != nil {
		return uuid.Nil, err
	}
	if _, err := h.loadForSlot(ctx, cmd.DestinationID, slotDestination); err != nil {
		return uuid.Nil, err
	}
	opID := uuid.New()
	now := h.now()
	src, err := h.attach(ctx, cmd.SourceID, opID, slotSource, now)
	if err != nil {
		return uuid.Nil, err
	}
	dst, err := h.attach(ctx, cmd.DestinationID, opID, slotDestination, now)
	if err != nil {
		h.releaseAfterFailure(ctx, opID, cmd.SourceID)
		return uuid.Nil, err
	}
	err = h.createOperation(ctx, opID, func(o *domain.Operation) error {
		return o.RequestBackup(refOf(src), refOf(dst), now)
	})
	if err != nil {
		h.releaseAfterFailure(ctx, opID, cmd.SourceID, cmd.DestinationID)
		return uuid.Nil, err
	}
	return opID, nil
}

func refOf(c *domain.Connection) domain.ConnectionRef {
	return domain.ConnectionRef{ID: c.ID, Name: c.Name, Kind: c.Kind}
}
