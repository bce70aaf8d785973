package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// DeleteConnection removes a connection; it is refused with
// domain.ErrConnectionInUse while active operations are attached to it.
type DeleteConnection struct {
	ID uuid.UUID
}

type deleteConnectionHandler struct{ *service }

func (h deleteConnectionHandler) Handle(ctx context.Context, cmd DeleteConnection) (Nothing, error) {
	now := h.now()
	_, err := h.updateConnection(ctx, cmd.ID, func(c *domain.Connection) error {
		return c.Delete(now)
	})
	return Nothing{}, err
}
