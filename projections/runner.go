package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"backupd/commands/eventstore"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Runner keeps the read models up to date: one Watermill handler per
// projector, each fed by its own catch-up subscription to $all.
type Runner struct {
	store      *eventstore.Store
	pool       *pgxpool.Pool
	logger     *slog.Logger
	projectors []Projector

	// Retry is how a failing event is retried before the projector gives
	// up on it (a transient database error is retried for ever instead).
	Retry middleware.Retry
	// NackDelay is the pause before a failed event is delivered again.
	NackDelay time.Duration

	mu       sync.Mutex
	started  bool
	progress map[string]*esdb.Position // what each projector has taken into account
	failures map[string]*ProjectorError
	handlers map[string]*message.Handler
	changed  chan struct{} // closed and replaced on every change of the above
	passed   map[string]*passOver
}

// passOver counts events a projector moved past without a write; its
// checkpoint is stored now and then, so a restart does not re-read them all.
type passOver struct {
	since  int
	stored time.Time
}

const (
	passOverStoreEvery = 500
	passOverStoreAfter = 5 * time.Second
)

// NewRunner returns a runner for every read model. logger may be nil.
func NewRunner(store *eventstore.Store, pool *pgxpool.Pool, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{
		store: store, pool: pool, logger: logger.With("component", "projections"),
		projectors: Projectors(),
		Retry: middleware.Retry{
			MaxRetries: 5, InitialInterval: 200 * time.Millisecond, MaxInterval: 5 * time.Second,
			Multiplier: 2, RandomizationFactor: 0.2,
		},
		NackDelay: time.Second,
		progress:  map[string]*esdb.Position{},
		failures:  map[string]*ProjectorError{},
		changed:   make(chan struct{}),
		passed:    map[string]*passOver{},
	}
}

// ProjectorError is why a projector stopped: an event it cannot apply.
type ProjectorError struct {
	Projector string
	EventID   string
	EventType string
	Stream    string
	Position  string
	Err       error
}

func (e *ProjectorError) Error() string {
	return fmt.Sprintf("projector %s stopped at event %s (%s in %s at %s): %v", e.Projector, e.EventID, e.EventType, e.Stream, e.Position, e.Err)
}

func (e *ProjectorError) Unwrap() error { return e.Err }

// Run migrates the database and runs every projector until ctx ends. A
// projector that meets an event it cannot apply stops (the others go on):
// the error is logged, reported by Failures and WaitCaughtUp, and the event
// is never skipped. Run returns when ctx ends, with nil or the errors of the
// projectors that stopped; it returns before that only when every projector
// has stopped.
//
// The pool should allow a connection per projector plus what the caller
// needs (pool_max_conns=10 or more).
func (r *Runner) Run(ctx context.Context) error {
	err := r.run(ctx)
	if ctx.Err() != nil {
		// Shutting down: whatever was interrupted (even the start-up) is
		// not a failure, but stopped projectors still are.
		return r.failureErr()
	}
	return err
}

func (r *Runner) run(ctx context.Context) error {
	if err := Migrate(ctx, r.pool); err != nil {
		return err
	}
	checkpoints := NewCheckpoints(r.pool)
	for _, p := range r.projectors {
		if _, err := r.pool.Exec(ctx, `INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, p.Name()); err != nil {
			return fmt.Errorf("projections: checkpoint of %s: %w", p.Name(), err)
		}
		pos, err := checkpoints.Load(ctx, p.Name())
		if err != nil {
			return err
		}
		r.advance(p.Name(), pos)
	}
	wlog := watermill.NewSlogLoggerWithLevelMapping(r.logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	sub := eventstore.NewCatchUpSubscriber(r.store, checkpoints, wlog)
	sub.NackDelay = r.NackDelay
	defer sub.Close()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, wlog)
	if err != nil {
		return fmt.Errorf("projections: router: %w", err)
	}
	// Outermost first: the correlation id follows the event; a failure
	// that survived every retry stops its projector; retries with backoff
	// ride out a database hiccup; a panic becomes an error to retry.
	router.AddMiddleware(middleware.CorrelationID, r.stopOnPermanentFailure, r.Retry.Middleware, middleware.Recoverer)
	handlers := map[string]*message.Handler{}
	for _, p := range r.projectors {
		// The topic is the subscription's name: the projector's checkpoint.
		handlers[p.Name()] = router.AddConsumerHandler(p.Name(), p.Name(), sub, r.handler(p))
	}
	r.mu.Lock()
	r.handlers, r.started = handlers, true
	r.notifyLocked()
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.started = false
		r.notifyLocked()
		r.mu.Unlock()
	}()

	if err := router.Run(ctx); err != nil {
		return fmt.Errorf("projections: %w", err)
	}
	return r.failureErr() // the router stops by itself only when every projector has
}

// handler applies one event for p, or just moves past it when p does not
// handle its type.
func (r *Runner) handler(p Projector) message.NoPublishHandlerFunc {
	handles := typeSet(p)
	name := p.Name()
	return func(msg *message.Message) error {
		ctx := msg.Context()
		rec, err := eventstore.RecordedFromMessage(msg)
		if err != nil {
			return err // an unknown type or a broken event: never skipped
		}
		if !handles[rec.Type] {
			r.passOver(ctx, name, rec.Position)
			return nil
		}
		if err := applyOnce(ctx, r.pool, p, rec); err != nil {
			return fmt.Errorf("apply %s from %s@%d: %w", rec.Type, rec.Stream, rec.Revision, err)
		}
		r.advance(name, &rec.Position)
		return nil
	}
}

func typeSet(p Projector) map[string]bool {
	set := map[string]bool{}
	for _, t := range p.EventTypes() {
		set[t] = true
	}
	return set
}

// applyOnce applies rec and stores the checkpoint in one transaction; an
// event at or before the stored checkpoint changes nothing.
func applyOnce(ctx context.Context, pool *pgxpool.Pool, p Projector, rec eventstore.Recorded) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// The rows and the checkpoint commit together, so a commit lost in a
	// crash only means the event is applied again: no need to wait for the
	// WAL flush.
	if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit TO OFF`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, rebuildLock); err != nil {
		return err
	}
	cp, err := lockCheckpoint(ctx, tx, p.Name())
	if err != nil {
		return err
	}
	if atOrBefore(rec.Position, cp) {
		return nil // applied before (here, by another process, or by a rebuild)
	}
	if err := p.Apply(ctx, tx, rec); err != nil {
		return err
	}
	if err := storeCheckpoint(ctx, tx, p.Name(), rec.Position); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// passOver records that the projector is past an event it does not handle.
func (r *Runner) passOver(ctx context.Context, name string, pos esdb.Position) {
	r.advance(name, &pos)
	r.mu.Lock()
	po := r.passed[name]
	if po == nil {
		po = &passOver{stored: time.Now()}
		r.passed[name] = po
	}
	po.since++
	due := po.since >= passOverStoreEvery || time.Since(po.stored) >= passOverStoreAfter
	if due {
		po.since, po.stored = 0, time.Now()
	}
	r.mu.Unlock()
	if !due {
		return
	}
	// Only an optimisation: a failure here costs a re-read after a restart.
	err := func() error {
		tx, err := r.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, rebuildLock); err != nil {
			return err
		}
		if err := storeCheckpoint(ctx, tx, name, pos); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}()
	if err != nil && ctx.Err() == nil {
		r.logger.Warn("cannot store a projector's checkpoint; it will re-read a few events after a restart", "projector", name, "error", err)
	}
}

// stopOnPermanentFailure stops the projector whose event still fails after
// the retries, unless the failure is the database being away (then the
// event is delivered again, for as long as it takes).
func (r *Runner) stopOnPermanentFailure(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err == nil || msg.Context().Err() != nil {
			return out, err
		}
		if transient(err) {
			r.logger.Error("read model update failed, will retry", "projector", message.HandlerNameFromCtx(msg.Context()), "event_id", msg.UUID, "error", err)
			return out, err
		}
		r.fail(message.HandlerNameFromCtx(msg.Context()), msg, err)
		return out, err
	}
}

func (r *Runner) fail(name string, msg *message.Message, err error) {
	pe := &ProjectorError{
		Projector: name, EventID: msg.UUID, EventType: msg.Metadata.Get(eventstore.MsgEventType),
		Stream:   msg.Metadata.Get(eventstore.MsgStream),
		Position: msg.Metadata.Get(eventstore.MsgCommitPosition) + "/" + msg.Metadata.Get(eventstore.MsgPreparePosition),
		Err:      err,
	}
	r.logger.Error("read model projector STOPPED: an event cannot be applied; the read model is behind until this is fixed (then restart, or run replay)",
		"projector", name, "event_id", pe.EventID, "event_type", pe.EventType, "stream", pe.Stream, "position", pe.Position, "error", err)
	r.mu.Lock()
	r.failures[name] = pe
	h := r.handlers[name]
	r.notifyLocked()
	r.mu.Unlock()
	if h != nil {
		h.Stop()
	}
}

// Failures returns the projectors that stopped, and why.
func (r *Runner) Failures() map[string]error {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]error{}
	for k, v := range r.failures {
		out[k] = v
	}
	return out
}

func (r *Runner) failureErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failureErrLocked()
}

func (r *Runner) failureErrLocked() error {
	names := make([]string, 0, len(r.failures))
	for n := range r.failures {
		names = append(names, n)
	}
	sort.Strings(names)
	errs := make([]error, 0, len(names))
	for _, n := range names {
		errs = append(errs, r.failures[n])
	}
	return errors.Join(errs...)
}

// eventLabel names an event in errors.
func eventLabel(rec eventstore.Recorded) string {
	if rec.ID == uuid.Nil {
		return fmt.Sprintf("%s@%d", rec.Stream, rec.Revision)
	}
	return fmt.Sprintf("%s %s@%d (%s)", rec.Type, rec.Stream, rec.Revision, rec.ID)
}
