package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"backupd/commands/eventstore"

	"github.com/jackc/pgx/v5"
)

// Projector turns events into the rows of one read model.
type Projector interface {
	// Name is stored with the projector's checkpoint: renaming it makes it
	// start again from the beginning of $all. Choose once.
	Name() string
	// EventTypes are the event types Apply changes rows for; the projector
	// only moves its checkpoint past the others.
	EventTypes() []string
	// Tables are the tables the projector owns (dropped by Rebuild).
	Tables() []string
	// Apply changes the rows for one event, inside tx. The caller checks
	// the event was not applied before and stores the checkpoint in tx.
	// Every time written comes from the event, never from the clock, so a
	// rebuild gives identical rows.
	Apply(ctx context.Context, tx pgx.Tx, rec eventstore.Recorded) error
}

// Projectors returns every read model's projector, in a fixed order.
func Projectors() []Projector {
	return []Projector{usersProjector{}, connectionsProjector{}, operationsProjector{}, operationLogsProjector{}, auditProjector{}}
}

// reportViews are created by a migration over the projectors' tables;
// Rebuild drops them first.
var reportViews = []string{"report_backups_per_source_day", "report_failure_rate", "report_bytes_per_destination"}

// checkpointTable is the table of projector positions.
const checkpointTable = "projection_checkpoints"

// unexpectedEvent is what Apply returns for a type it was not written for:
// EventTypes and Apply disagree, which is a bug to fix, not to skip.
func unexpectedEvent(p Projector, rec eventstore.Recorded) error {
	return fmt.Errorf("projector %s cannot apply %s (%T)", p.Name(), rec.Type, rec.Event)
}

// exec1 runs a statement that must change exactly one row: an event about a
// row the read model does not have means the history and the projector
// disagree, which must stop the projector rather than be ignored.
func exec1(ctx context.Context, tx pgx.Tx, what string, sql string, args ...any) error {
	tag, err := tx.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("%s: %d rows changed, expected 1", what, tag.RowsAffected())
	}
	return nil
}

// jsonb encodes v for a jsonb column; a nil map becomes {}.
func jsonb[M ~map[K]V, K comparable, V any](m M) []byte {
	if m == nil {
		return []byte("{}")
	}
	b, err := json.Marshal(m)
	if err != nil { // maps of strings and bools always encode
		panic(err)
	}
	return b
}

// jsonValue encodes v for a nullable jsonb column.
func jsonValue(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return b, nil
}
