package projections

import (
	"context"
	"errors"
	"fmt"
	"math"

	"backupd/commands/eventstore"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Checkpoints reads projector positions; it is the CheckpointStore of the
// projectors' catch-up subscriptions.
type Checkpoints struct{ pool *pgxpool.Pool }

var _ eventstore.CheckpointStore = Checkpoints{}

func NewCheckpoints(pool *pgxpool.Pool) Checkpoints { return Checkpoints{pool: pool} }

// Load returns the position of the last event the projector took into
// account, or nil when it has none yet.
func (c Checkpoints) Load(ctx context.Context, name string) (*esdb.Position, error) {
	var commit, prepare *int64
	err := c.pool.QueryRow(ctx, `SELECT commit_position, prepare_position FROM projection_checkpoints WHERE name = $1`, name).Scan(&commit, &prepare)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("projections: checkpoint of %s: %w", name, err)
	}
	return positionFrom(commit, prepare), nil
}

func positionFrom(commit, prepare *int64) *esdb.Position {
	if commit == nil || prepare == nil {
		return nil
	}
	return &esdb.Position{Commit: uint64(*commit), Prepare: uint64(*prepare)}
}

// pgPosition converts a position for bigint columns. EventStoreDB positions
// are byte offsets in its log, far below 2^63; a larger one is refused
// rather than wrapped.
func pgPosition(p esdb.Position) (commit, prepare int64, err error) {
	if p.Commit > math.MaxInt64 || p.Prepare > math.MaxInt64 {
		return 0, 0, fmt.Errorf("position %d/%d does not fit a bigint", p.Commit, p.Prepare)
	}
	return int64(p.Commit), int64(p.Prepare), nil
}

// lockCheckpoint locks the projector's checkpoint row for the transaction
// (so two processes running the same projector apply each event once) and
// returns the position stored.
func lockCheckpoint(ctx context.Context, tx pgx.Tx, name string) (*esdb.Position, error) {
	var commit, prepare *int64
	err := tx.QueryRow(ctx, `SELECT commit_position, prepare_position FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, name).Scan(&commit, &prepare)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := tx.Exec(ctx, `INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, name); err != nil {
			return nil, err
		}
		err = tx.QueryRow(ctx, `SELECT commit_position, prepare_position FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, name).Scan(&commit, &prepare)
	}
	if err != nil {
		return nil, err
	}
	return positionFrom(commit, prepare), nil
}

// storeCheckpoint moves the projector's checkpoint to pos; it never moves
// it back.
func storeCheckpoint(ctx context.Context, tx pgx.Tx, name string, pos esdb.Position) error {
	commit, prepare, err := pgPosition(pos)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO projection_checkpoints (name, commit_position, prepare_position) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET commit_position = EXCLUDED.commit_position, prepare_position = EXCLUDED.prepare_position
		WHERE projection_checkpoints.commit_position IS NULL
		   OR (projection_checkpoints.commit_position, projection_checkpoints.prepare_position) < (EXCLUDED.commit_position, EXCLUDED.prepare_position)`,
		name, commit, prepare)
	return err
}

// atOrBefore reports whether pos is at or before the checkpoint cp.
func atOrBefore(pos esdb.Position, cp *esdb.Position) bool {
	return cp != nil && !eventstore.PositionAfter(pos, *cp)
}
