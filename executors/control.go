package executors

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// Stop is what the running executor has been asked to do.
type Stop int32

const (
	StopNone   Stop = iota
	StopPause       // finish the part in flight, checkpoint, free the worker
	StopCancel      // stop, clean up, record cancelled
	StopFenced      // the operation was taken from this worker (interrupted, re-claimed): stop writing at once
)

func (s Stop) String() string {
	return [...]string{"none", "pause", "cancel", "fenced"}[s]
}

// Control follows the operation's stream while it runs, so a pause or
// cancel request reaches the executor within moments, without polling.
type Control struct {
	stop        atomic.Int32
	changed     chan struct{} // closed at the first request
	fired       atomic.Bool
	fenced      chan struct{} // closed when the operation is taken from this worker
	fencedFired atomic.Bool
}

// Fenced is closed when the operation has been taken from this worker.
func (c *Control) Fenced() <-chan struct{} { return c.fenced }

// Requested is polled by the pipeline at every safe point; it is cheap.
func (c *Control) Requested() Stop { return Stop(c.stop.Load()) }

// Changed is closed when a first stop request arrives.
func (c *Control) Changed() <-chan struct{} { return c.changed }

// Request raises the stop level (cancel beats pause; fenced beats both).
func (c *Control) Request(s Stop) {
	for {
		cur := c.stop.Load()
		if int32(s) <= cur {
			return
		}
		if c.stop.CompareAndSwap(cur, int32(s)) {
			if c.fired.CompareAndSwap(false, true) {
				close(c.changed)
			}
			if s == StopFenced && c.fencedFired.CompareAndSwap(false, true) {
				close(c.fenced)
			}
			return
		}
	}
}

// WatchOperation subscribes to the operation's stream after fromRevision
// (the revision of this worker's claim) until ctx ends. requests already
// recorded (a pause requested before the claim) are applied from op.
func WatchOperation(ctx context.Context, store *eventstore.Store, op *domain.Operation, logger *slog.Logger) *Control {
	c := &Control{changed: make(chan struct{}), fenced: make(chan struct{})}
	if op.CancelRequested {
		c.Request(StopCancel)
	} else if op.PauseRequested {
		c.Request(StopPause)
	}
	go c.follow(ctx, store, op.ID, uint64(op.Version()), op.Attempt, logger)
	return c
}

func (c *Control) follow(ctx context.Context, store *eventstore.Store, opID uuid.UUID, from uint64, attempt int, logger *slog.Logger) {
	stream := commands.OperationStream(opID)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		sub, err := store.Client().SubscribeToStream(ctx, stream, esdb.SubscribeToStreamOptions{From: esdb.Revision(from)})
		if err != nil {
			logger.Warn("cannot follow operation stream; retrying", "operation", opID, "error", err)
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		for {
			ev := sub.Recv()
			if ev.SubscriptionDropped != nil {
				if ctx.Err() == nil {
					logger.Warn("operation stream subscription dropped; resubscribing", "operation", opID, "error", ev.SubscriptionDropped.Error)
				}
				break
			}
			if ev.EventAppeared == nil {
				continue
			}
			rec, err := eventstore.Decode(ev.EventAppeared)
			if err != nil {
				logger.Error("undecodable event on operation stream", "operation", opID, "error", err)
				continue
			}
			from = rec.Revision
			switch e := rec.Event.(type) {
			case domain.OperationPauseRequested:
				c.Request(StopPause)
			case domain.OperationCancelRequested:
				c.Request(StopCancel)
			case domain.OperationInterrupted:
				if e.Attempt == attempt {
					c.Request(StopFenced)
				}
			case domain.OperationStarted:
				if e.Attempt != attempt {
					c.Request(StopFenced)
				}
			case domain.OperationCancelled, domain.OperationFailed, domain.OperationCompleted:
				// The job itself ended it: nothing more to follow.
				_ = sub.Close()
				return
			}
		}
		_ = sub.Close()
		if !sleepCtx(ctx, backoff) {
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
