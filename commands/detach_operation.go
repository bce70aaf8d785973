package commands

import (
	"context"

	"github.com/google/uuid"
)

// DetachOperation releases the connections an operation reserved (its
// source or archive connection, and its destination or target connection)
// once it has ended. The process manager runs it on every terminal event;
// running it again changes nothing. An operation still active is refused
// with ErrOperationActive: its connections must stay undeletable.
type DetachOperation struct {
	OperationID uuid.UUID
}

type detachOperationHandler struct{ *service }

func (h detachOperationHandler) Handle(ctx context.Context, cmd DetachOperation) (Nothing, error) {
	o, err := h.loadOperation(ctx, cmd.OperationID)
	if err != nil {
		return Nothing{}, err
	}
	if !o.Exists() {
		return Nothing{}, errOperationMissing
	}
	if o.Status.Active() {
		return Nothing{}, ErrOperationActive
	}
	now := h.now()
	for _, id := range []uuid.UUID{o.Source.ID, o.Destination.ID} {
		if id == uuid.Nil { // a restore to typed-in details has no target connection
			continue
		}
		if err := h.detach(ctx, id, o.ID, now); err != nil {
			return Nothing{}, err
		}
	}
	return Nothing{}, nil
}
