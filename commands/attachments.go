package commands

import (
	"context"
	"time"

	"backupd/domain"

	"github.com/google/uuid"
)

// An operation reserves its connections before it exists: the attach event
// is appended to each connection's stream at the revision its decision was
// made on, so a concurrent DeleteConnection either lands first (and the
// attach is refused) or sees the reservation (and the delete is refused).

// slot names a connection's place in an operation, for clear refusals.
type slot struct {
	role  domain.Role
	field string // the input field it came from
	what  string // in words
}

var (
	slotSource      = slot{role: domain.RoleSource, field: "source_id", what: "data source"}
	slotDestination = slot{role: domain.RoleDestination, field: "destination_id", what: "backup destination"}
	slotArchive     = slot{role: domain.RoleDestination, field: "backup_id", what: "connection holding the backup's archive"}
	slotTarget      = slot{role: domain.RoleSource, field: "target", what: "restore target"}
)

// usable refuses a connection that cannot take a new operation in slot.
func (sl slot) usable(c *domain.Connection) error {
	switch {
	case c.Deleted:
		return &domain.Error{Kind: domain.KindConflict, Slug: domain.ErrConnectionDeleted.Slug, Field: sl.field, Message: "the " + sl.what + " has been deleted"}
	case !c.Exists():
		return &domain.Error{Kind: domain.KindNotFound, Slug: "connection-not-found", Field: sl.field, Message: "the " + sl.what + " was not found"}
	case c.Kind.Role() != sl.role:
		return domain.Invalid("wrong-role", sl.field, "the connection "+c.Name+" is not a "+string(sl.role))
	}
	return nil
}

func (s *service) loadForSlot(ctx context.Context, id uuid.UUID, sl slot) (*domain.Connection, error) {
	if id == uuid.Nil {
		return nil, domain.Invalid("field-required", sl.field, "choose the "+sl.what)
	}
	c, err := s.loadConnection(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, sl.usable(c)
}

// attach reserves connection id for operation opID.
func (s *service) attach(ctx context.Context, id, opID uuid.UUID, sl slot, now time.Time) (*domain.Connection, error) {
	return s.updateConnection(ctx, id, func(c *domain.Connection) error {
		if err := sl.usable(c); err != nil {
			return err
		}
		return c.AttachOperation(opID, sl.role, now)
	})
}

// detach releases connection id from operation opID (a no-op when it is not
// attached).
func (s *service) detach(ctx context.Context, id, opID uuid.UUID, now time.Time) error {
	_, err := s.updateConnection(ctx, id, func(c *domain.Connection) error {
		c.DetachOperation(opID, now)
		return nil
	})
	return err
}

// releaseAfterFailure undoes the reservations of an operation whose creation
// failed. It runs even when the request was cancelled, as its own command
// (caused by the failed one) so its events get their own ids.
func (s *service) releaseAfterFailure(ctx context.Context, opID uuid.UUID, connIDs ...uuid.UUID) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	ctx = followUp(ctx)
	for _, id := range connIDs {
		if err := s.detach(ctx, id, opID, s.now()); err != nil {
			// The reservation stays and blocks deleting the connection; the
			// ids are what an operator needs to release it.
			s.logger.ErrorContext(ctx, "could not release a connection reserved for an operation that was not created",
				"connection_id", id.String(), "operation_id", opID.String(), "cause", err.Error())
		}
	}
}

// followUp returns ctx as a new command caused by the current one (same
// actor and correlation, fresh command id).
func followUp(ctx context.Context) context.Context {
	m := MetaFrom(ctx)
	m.CausationID, m.CommandID = m.CommandID, uuid.New()
	return WithMeta(ctx, m)
}
