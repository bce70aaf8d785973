package projections

import (
	"context"
	"fmt"
	"time"

	"backupd/commands/eventstore"

	"github.com/jackc/pgx/v5"
)

// Rebuild is the replay command: it drops every read model table and
// report view (nothing else: schema_migrations and other packages' tables
// stay), recreates them through the migrations, and applies every event of
// $all, from the start to the current end, with the projectors' own Apply.
//
// All of it is one transaction: readers see the old rows until the new ones
// are complete, and a failure leaves the old ones in place. Live projector
// transactions (of this process or another) wait on an advisory lock
// meanwhile, then find their checkpoints at the end of the rebuild and go
// on from there.
func (r *Runner) Rebuild(ctx context.Context) error {
	started := time.Now()
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("projections: rebuild: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, rebuildLock); err != nil {
		return fmt.Errorf("projections: rebuild: lock: %w", err)
	}
	if err := r.recreateTables(ctx, tx); err != nil {
		return fmt.Errorf("projections: rebuild: %w", err)
	}

	end, ok, err := r.store.LastEventPosition(ctx)
	if err != nil {
		return fmt.Errorf("projections: rebuild: %w", err)
	}
	events := 0
	if ok {
		handles := make([]map[string]bool, len(r.projectors))
		for i, p := range r.projectors {
			handles[i] = typeSet(p)
		}
		err = r.store.ReadAllEvents(ctx, nil, end, func(rec eventstore.Recorded) error {
			events++
			for i, p := range r.projectors {
				if !handles[i][rec.Type] {
					continue
				}
				if err := p.Apply(ctx, tx, rec); err != nil {
					return fmt.Errorf("projector %s, event %s: %w", p.Name(), eventLabel(rec), err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("projections: rebuild: %w", err)
		}
	}
	for _, p := range r.projectors {
		if ok {
			err = storeCheckpoint(ctx, tx, p.Name(), end)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, p.Name())
		}
		if err != nil {
			return fmt.Errorf("projections: rebuild: checkpoint of %s: %w", p.Name(), err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("projections: rebuild: commit: %w", err)
	}
	if ok {
		for _, p := range r.projectors {
			r.advance(p.Name(), &end)
		}
	}
	r.logger.Info("read models rebuilt", "events", events, "end_commit_position", end.Commit, "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// recreateTables drops the read models and runs the migrations again on
// the empty schema.
func (r *Runner) recreateTables(ctx context.Context, tx pgx.Tx) error {
	if err := migrateTx(ctx, tx); err != nil { // schema_migrations exists and is current
		return err
	}
	for _, v := range reportViews {
		if _, err := tx.Exec(ctx, `DROP VIEW IF EXISTS `+pgx.Identifier{v}.Sanitize()); err != nil {
			return fmt.Errorf("drop view %s: %w", v, err)
		}
	}
	tables := []string{checkpointTable}
	for _, p := range r.projectors {
		tables = append(tables, p.Tables()...)
	}
	for _, t := range tables {
		// No CASCADE: a table of another package referring to a read model
		// would lose its constraint silently; better to fail and say so.
		if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("drop table %s: %w", t, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM schema_migrations WHERE name LIKE $1`, migrationPrefix+"%"); err != nil {
		return err
	}
	return migrateTx(ctx, tx)
}
