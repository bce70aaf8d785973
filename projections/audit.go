package projections

import (
	"context"
	"encoding/json"
	"time"

	"backupd/commands/eventstore"
	"backupd/domain"

	"github.com/jackc/pgx/v5"
)

// auditProjector keeps audit_events: one row per event, with who and a
// summary in plain words.
//
// Not audited: OperationLogged, OperationProgressed, OperationCheckpointed
// and ArchiveEntriesRecorded. They come by the thousand while an operation
// runs, say nothing about who did what, and are in the operation's log.
type auditProjector struct{}

var auditSkipped = map[string]bool{
	domain.OperationLogged{}.EventType():        true,
	domain.OperationProgressed{}.EventType():    true,
	domain.OperationCheckpointed{}.EventType():  true,
	domain.ArchiveEntriesRecorded{}.EventType(): true,
}

func (auditProjector) Name() string     { return "audit" }
func (auditProjector) Tables() []string { return []string{"audit_events"} }
func (auditProjector) EventTypes() []string {
	var types []string
	for _, t := range domain.EventTypes() {
		if !auditSkipped[t] {
			types = append(types, t)
		}
	}
	return types
}

func (p auditProjector) Apply(ctx context.Context, tx pgx.Tx, rec eventstore.Recorded) error {
	if auditSkipped[rec.Type] {
		return unexpectedEvent(p, rec)
	}
	commit, prepare, err := pgPosition(rec.Position)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_events (commit_position, prepare_position, event_id, stream, type,
			actor_id, actor_name, correlation_id, causation_id, at, summary)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		commit, prepare, rec.ID, rec.Stream, rec.Type, rec.Meta.ActorID, rec.Meta.ActorName,
		nullUUID(rec.Meta.CorrelationID), nullUUID(rec.Meta.CausationID), eventTime(rec), Summary(rec))
	return err
}

// eventTime is when the event happened: its own "at", else when the command
// ran, else when the store recorded it. All three are in the event, so a
// replay finds the same time.
func eventTime(rec eventstore.Recorded) time.Time {
	var at struct {
		At time.Time `json:"at"`
	}
	if json.Unmarshal(rec.Data, &at) == nil && !at.At.IsZero() {
		return at.At
	}
	if !rec.Meta.OccurredAt.IsZero() {
		return rec.Meta.OccurredAt
	}
	return rec.Created
}
