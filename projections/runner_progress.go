package projections

// What read-your-writes needs from the Runner: how far each projector got,
// and a way to wait until every one has reached a position.

import (
	"context"
	"fmt"

	"backupd/commands/eventstore"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// advance records that projector name has taken pos into account.
func (r *Runner) advance(name string, pos *esdb.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, known := r.progress[name]
	if !known || pos != nil && (cur == nil || eventstore.PositionAfter(*pos, *cur)) {
		r.progress[name] = pos
		r.notifyLocked()
	}
}

func (r *Runner) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// WaitCaughtUp blocks until every projector has taken into account every
// event up to pos (read-your-writes after a command), and fails at once if
// a projector has stopped. Run must be running; give ctx a deadline.
func (r *Runner) WaitCaughtUp(ctx context.Context, pos esdb.Position) error {
	for {
		r.mu.Lock()
		if err := r.failureErrLocked(); err != nil {
			r.mu.Unlock()
			return err
		}
		caughtUp := r.started
		for _, p := range r.projectors {
			cur := r.progress[p.Name()]
			if cur == nil || eventstore.PositionAfter(pos, *cur) {
				caughtUp = false
			}
		}
		changed := r.changed
		r.mu.Unlock()
		if caughtUp {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("projections: waiting for the read models to reach %d/%d: %w", pos.Commit, pos.Prepare, ctx.Err())
		}
	}
}

// WaitForStream waits until the read models include the last event of
// stream (for example the aggregate a command just changed).
func (r *Runner) WaitForStream(ctx context.Context, stream string) error {
	last, ok, err := r.store.ReadLast(ctx, stream)
	if err != nil || !ok {
		return err
	}
	return r.WaitCaughtUp(ctx, last.Position)
}

// WaitForEnd waits until the read models include every event now in $all.
func (r *Runner) WaitForEnd(ctx context.Context) error {
	end, ok, err := r.store.LastEventPosition(ctx)
	if err != nil || !ok {
		return err
	}
	return r.WaitCaughtUp(ctx, end)
}
