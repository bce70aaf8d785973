package executors

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"backupd/commands"
	"backupd/domain"

	"github.com/google/uuid"
)

// job is one operation running on this worker, with its own cancel
// function and the reason it was stopped, so a deliberate cancel is never
// confused with a shutdown.
type job struct {
	op       *domain.Operation
	cancel   context.CancelFunc
	control  *Control
	stopping atomic.Bool // the worker is shutting down
	done     chan struct{}
}

func (w *Worker) start(op *domain.Operation, correlation uuid.UUID) {
	w.mu.Lock()
	parent := w.jobsCtx
	w.mu.Unlock()
	ctx, cancel := context.WithCancel(parent)
	ctx = commands.SystemActor(ctx, "worker "+w.cfg.ID, correlation, uuid.Nil)
	j := &job{op: op, cancel: cancel, done: make(chan struct{})}
	j.control = WatchOperation(ctx, w.store, op, w.logger)
	w.mu.Lock()
	w.live[op.ID] = j
	w.mu.Unlock()
	w.jobs.Add(1)
	w.memory.add(1)
	go func() {
		defer w.jobs.Done()
		defer w.memory.add(-1)
		defer func() { <-w.slots }()
		defer close(j.done)
		defer cancel()
		defer func() {
			w.mu.Lock()
			delete(w.live, op.ID)
			w.mu.Unlock()
		}()
		go func() {
			select {
			case <-j.control.Fenced():
				w.logger.Warn("operation taken from this worker; stopping", "operation", op.ID)
				cancel()
			case <-ctx.Done():
			}
		}()
		w.runJob(ctx, j)
	}()
}

func (w *Worker) runJob(ctx context.Context, j *job) {
	op := j.op
	oplog, err := NewOpLog(ctx, w.store, op.ID, w.cfg.ID, op.Attempt, w.logger)
	if err != nil {
		w.fail(ctx, op, nil, fmt.Errorf("cannot open the operation log: %w", err))
		return
	}
	defer oplog.Close()
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("internal error: %v", r)
			oplog.Logger().Error(err.Error())
			w.failWithStack(ctx, op, oplog, err, string(debug.Stack()))
		}
	}()
	switch op.Kind {
	case domain.OpBackup:
		w.runBackup(ctx, j, oplog)
	case domain.OpRestore:
		w.runRestore(ctx, j, oplog)
	}
}

// fail records a failed operation with the error and its trace, unless the
// worker is shutting down (then the operation is interrupted, resumable)
// or the operation was taken from it (then it writes nothing).
func (w *Worker) fail(ctx context.Context, op *domain.Operation, oplog *OpLog, err error) {
	w.failWithStack(ctx, op, oplog, err, errorTrace(err))
}

func (w *Worker) failWithStack(ctx context.Context, op *domain.Operation, oplog *OpLog, err error, stack string) {
	cctx := commands.SystemActor(context.WithoutCancel(ctx), "worker "+w.cfg.ID, op.ID, uuid.Nil)
	if oplog != nil {
		oplog.Logger().Error("failed: " + err.Error())
		oplog.Logger().Error("stack trace:\n" + stack)
		oplog.Flush()
	}
	_, cerr := w.cmds.FailOperation.Handle(cctx, commands.FailOperation{ID: op.ID, WorkerID: w.cfg.ID, Message: err.Error(), Code: failureCode(err), Stack: stack})
	if cerr != nil {
		w.logger.Error("cannot record the failure", "operation", op.ID, "error", cerr, "failure", err)
	}
}

// interrupt marks an operation this worker is abandoning (shutdown) as
// interrupted, so it can be resumed at once instead of after the reaper's
// window.
func (w *Worker) interrupt(ctx context.Context, op *domain.Operation, oplog *OpLog) {
	if oplog != nil {
		oplog.Logger().Warn("worker " + w.cfg.ID + " is shutting down: the operation stops here and can be resumed")
		oplog.Flush()
	}
	cctx := commands.SystemActor(context.WithoutCancel(ctx), "worker "+w.cfg.ID, op.ID, uuid.Nil)
	_, err := w.cmds.InterruptOperation.Handle(cctx, commands.InterruptOperation{ID: op.ID, WorkerID: w.cfg.ID, Attempt: op.Attempt, LastHeartbeat: time.Now()})
	if err != nil {
		w.logger.Warn("cannot mark the operation interrupted", "operation", op.ID, "error", err)
	}
}

// shutdown asks every running job to stop at a safe point, waits up to the
// grace period, then cancels what is left.
func (w *Worker) shutdown(stopJobs context.CancelFunc) {
	w.mu.Lock()
	for _, j := range w.live {
		j.stopping.Store(true)
		j.control.Request(StopPause)
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.jobs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.cfg.ShutdownGrace):
		w.logger.Warn("jobs did not stop within the grace period; cancelling them")
		stopJobs()
		<-done
	}
	w.logger.Info("worker stopped")
}
