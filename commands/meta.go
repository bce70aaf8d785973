package commands

import (
	"context"

	"github.com/google/uuid"
)

// Meta travels with a command and is stored as every resulting event's
// metadata: who acted, and which request caused it.
type Meta struct {
	CommandID     uuid.UUID `json:"command_id"`
	CorrelationID uuid.UUID `json:"correlation_id"`
	CausationID   uuid.UUID `json:"causation_id"`
	ActorID       string    `json:"actor_id,omitempty"`   // user id, or "system:<component>"
	ActorName     string    `json:"actor_name,omitempty"` // e-mail or component name
	IP            string    `json:"ip,omitempty"`
}

type metaKey struct{}

// WithMeta attaches command metadata to ctx.
func WithMeta(ctx context.Context, m Meta) context.Context {
	if m.CommandID == uuid.Nil {
		m.CommandID = uuid.New()
	}
	if m.CorrelationID == uuid.Nil {
		m.CorrelationID = m.CommandID
	}
	if m.CausationID == uuid.Nil {
		m.CausationID = m.CommandID
	}
	return context.WithValue(ctx, metaKey{}, m)
}

// MetaFrom returns the metadata of ctx; a context without any gets a fresh
// command id and the "system" actor, so nothing is ever written anonymously.
func MetaFrom(ctx context.Context) Meta {
	if m, ok := ctx.Value(metaKey{}).(Meta); ok {
		return m
	}
	id := uuid.New()
	return Meta{CommandID: id, CorrelationID: id, CausationID: id, ActorID: "system", ActorName: "system"}
}

// SystemActor returns ctx acting as a named system component (reaper,
// worker, periodic checker) and caused by causation (an event id, or Nil).
func SystemActor(ctx context.Context, component string, correlation, causation uuid.UUID) context.Context {
	return WithMeta(ctx, Meta{CommandID: uuid.New(), CorrelationID: correlation, CausationID: causation,
		ActorID: "system:" + component, ActorName: component})
}
