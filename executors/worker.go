package executors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/projections"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
)

// Consumer groups (stored state in EventStoreDB: never rename them).
const (
	dispatchGroup = "backupd-executors"
	releaseGroup  = "backupd-connection-release"
)

// WorkerConfig tunes a worker process.
type WorkerConfig struct {
	ID               string
	MaxJobs          int           // operations run at once (default 2)
	HeartbeatTimeout time.Duration // a running operation silent this long is interrupted (default 60 s)
	ReapEvery        time.Duration // how often the reaper looks (default HeartbeatTimeout/4)
	// ShutdownGrace is how long a stopping worker lets running jobs reach
	// a safe point before it gives up on them (default 20 s).
	ShutdownGrace time.Duration
	// LimitMemory sets the process's soft memory limit from the number of
	// running jobs (see memory.go). For the backupd process, not for tests
	// that run several workers in one process.
	LimitMemory bool
}

func (c *WorkerConfig) defaults() {
	if c.MaxJobs <= 0 {
		c.MaxJobs = 2
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = time.Minute
	}
	if c.ReapEvery <= 0 {
		c.ReapEvery = c.HeartbeatTimeout / 4
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 20 * time.Second
	}
}

// StaleFinder is the read model the reaper asks.
type StaleFinder interface {
	StaleRunningOperations(ctx context.Context, heartbeatOlderThan time.Time) ([]projections.StaleOperation, error)
}

// Worker takes operations from the queue (an EventStoreDB persistent
// subscription shared by every worker process: each request goes to one of
// them), claims each by appending OperationStarted at the revision it read,
// and runs it under its supervision. It also reaps operations whose worker
// died and releases connections held by finished operations.
type Worker struct {
	cfg    WorkerConfig
	store  *eventstore.Store
	cmds   *commands.Handlers
	conns  *Connectors
	stale  StaleFinder
	logger *slog.Logger

	slots  chan struct{}
	jobs   sync.WaitGroup
	mu     sync.Mutex
	live   map[uuid.UUID]*job
	memory *memoryBudget
	// jobsCtx outlives the router: jobs stop through shutdown, at a safe point.
	jobsCtx context.Context
}

// NewWorker wires a worker.
func NewWorker(cfg WorkerConfig, store *eventstore.Store, cmds *commands.Handlers, conns *Connectors, stale StaleFinder, logger *slog.Logger) *Worker {
	cfg.defaults()
	if conns.RecordTokens == nil {
		conns.RecordTokens = RecordTokensWith(cmds, logger)
	}
	return &Worker{cfg: cfg, store: store, cmds: cmds, conns: conns, stale: stale, logger: logger.With("worker", cfg.ID),
		slots: make(chan struct{}, cfg.MaxJobs), live: map[uuid.UUID]*job{}, memory: newMemoryBudget(cfg.LimitMemory)}
}

// Run consumes the queue until ctx ends, then stops running jobs at a safe
// point (they are marked interrupted, resumable) and returns.
func (w *Worker) Run(ctx context.Context) error {
	wmLogger := watermill.NewSlogLogger(w.logger)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: w.cfg.ShutdownGrace}, wmLogger)
	if err != nil {
		return err
	}
	router.AddMiddleware(
		middleware.CorrelationID,
		middleware.Retry{MaxRetries: 3, InitialInterval: 200 * time.Millisecond, Multiplier: 2, Logger: wmLogger}.Middleware,
		middleware.Recoverer,
	)
	dispatch := eventstore.NewPersistentSubscriber(w.store, eventstore.PersistentConfig{
		Group: dispatchGroup,
		EventTypes: []string{
			domain.BackupRequested{}.EventType(), domain.RestoreRequested{}.EventType(),
			domain.OperationResumeRequested{}.EventType(), domain.OperationCancelRequested{}.EventType(),
		},
		// A message waits here while all job slots are busy; past the
		// timeout the server offers it to another worker.
		MessageTimeout: time.Minute,
		BufferSize:     w.cfg.MaxJobs,
	}, wmLogger)
	release := eventstore.NewPersistentSubscriber(w.store, eventstore.PersistentConfig{
		Group: releaseGroup,
		EventTypes: []string{
			domain.OperationCompleted{}.EventType(), domain.OperationFailed{}.EventType(), domain.OperationCancelled{}.EventType(),
		},
	}, wmLogger)
	router.AddConsumerHandler("executor-dispatch", dispatchGroup, dispatch, w.dispatch)
	router.AddConsumerHandler("connection-release", releaseGroup, release, w.release)

	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	w.mu.Lock()
	w.jobsCtx = jobsCtx
	w.mu.Unlock()

	prepareSpool(w.conns.SpoolDir, w.logger)
	go w.reap(ctx)
	w.logger.Info("worker started", "max_jobs", w.cfg.MaxJobs)
	err = router.Run(ctx)
	w.shutdown(stopJobs)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// dispatch handles one queue message: start, resume or clean up after the
// operation it names.
func (w *Worker) dispatch(msg *message.Message) error {
	rec, opID, err := operationMessage(msg)
	if err != nil || opID == uuid.Nil {
		return err
	}
	ctx := msg.Context()
	op, err := commands.Load(ctx, w.store, commands.OperationStream(opID), func() *domain.Operation { return domain.NewOperation(opID) })
	if err != nil {
		return err
	}
	switch {
	case op.Status == domain.OpPending && !op.CancelRequested:
		return w.claimAndRun(ctx, op, rec)
	case op.NeedsCleanupWorker():
		return w.cleanUpCancelled(ctx, op, rec)
	}
	return nil // someone else has it, or there is nothing to do
}

// operationMessage decodes a queue message and names the operation it is
// about (uuid.Nil for an event of another kind, which is acknowledged).
func operationMessage(msg *message.Message) (eventstore.Recorded, uuid.UUID, error) {
	rec, err := eventstore.RecordedFromMessage(msg)
	if err != nil {
		return rec, uuid.Nil, err
	}
	id, _ := operationIDOf(rec.Event)
	return rec, id, nil
}

func operationIDOf(e domain.Event) (uuid.UUID, bool) {
	switch e := e.(type) {
	case domain.BackupRequested:
		return e.OperationID, true
	case domain.RestoreRequested:
		return e.OperationID, true
	case domain.OperationResumeRequested:
		return e.OperationID, true
	case domain.OperationCancelRequested:
		return e.OperationID, true
	case domain.OperationCompleted:
		return e.OperationID, true
	case domain.OperationFailed:
		return e.OperationID, true
	case domain.OperationCancelled:
		return e.OperationID, true
	}
	return uuid.Nil, false
}

func (w *Worker) claimAndRun(ctx context.Context, op *domain.Operation, rec eventstore.Recorded) error {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	claimCtx := commands.SystemActor(ctx, "worker "+w.cfg.ID, rec.Meta.CorrelationID, rec.ID)
	claimed, err := w.cmds.ClaimOperation.Handle(claimCtx, commands.ClaimOperation{ID: op.ID, WorkerID: w.cfg.ID})
	if err != nil {
		<-w.slots
		if _, isDomain := domain.AsError(err); isDomain {
			w.logger.Info("operation taken by another worker", "operation", op.ID, "reason", err)
			return nil
		}
		return fmt.Errorf("claim %s: %w", op.ID, err)
	}
	w.start(claimed, rec.Meta.CorrelationID)
	return nil
}

// release detaches a finished operation from its connections, so they can
// be deleted again. Idempotent: a redelivery changes nothing.
func (w *Worker) release(msg *message.Message) error {
	rec, opID, err := operationMessage(msg)
	if err != nil || opID == uuid.Nil {
		return err
	}
	ctx := commands.SystemActor(msg.Context(), "connection-release", rec.Meta.CorrelationID, rec.ID)
	_, err = w.cmds.DetachOperation.Handle(ctx, commands.DetachOperation{OperationID: opID})
	return err
}

// reap interrupts running operations whose worker has stopped sending
// heartbeats, so none stays "running" for ever. The read model names the
// suspects; the log stream (the source of truth) confirms before acting,
// so a lagging projection never interrupts a live worker.
func (w *Worker) reap(ctx context.Context) {
	t := time.NewTicker(w.cfg.ReapEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cutoff := time.Now().Add(-w.cfg.HeartbeatTimeout)
		stale, err := w.stale.StaleRunningOperations(ctx, cutoff)
		if err != nil {
			w.logger.Warn("reaper: cannot list running operations", "error", err)
			continue
		}
		for _, s := range stale {
			last, err := lastHeartbeat(ctx, w.store, s.ID, s.Attempt)
			if err != nil {
				w.logger.Warn("reaper: cannot read heartbeat", "operation", s.ID, "error", err)
				continue
			}
			if last.After(cutoff) {
				continue
			}
			if last.IsZero() {
				last = s.HeartbeatAt
			}
			rctx := commands.SystemActor(ctx, "reaper", s.ID, uuid.Nil)
			_, err = w.cmds.InterruptOperation.Handle(rctx, commands.InterruptOperation{ID: s.ID, WorkerID: s.WorkerID, Attempt: s.Attempt, LastHeartbeat: last})
			if err == nil {
				w.logger.Warn("reaper: worker stopped; operation interrupted", "operation", s.ID, "stopped_worker", s.WorkerID, "last_heartbeat", last)
			}
		}
	}
}

// lastHeartbeat is the time of the last progress event of attempt.
func lastHeartbeat(ctx context.Context, store *eventstore.Store, opID uuid.UUID, attempt int) (time.Time, error) {
	var at time.Time
	err := store.ReadBackward(ctx, commands.OperationLogStream(opID), func(r eventstore.Recorded) (bool, error) {
		if p, ok := r.Event.(domain.OperationProgressed); ok {
			if p.Attempt == attempt {
				at = p.At
			}
			return false, nil
		}
		return true, nil
	})
	return at, err
}
