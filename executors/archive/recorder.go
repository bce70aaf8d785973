package archive

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"backupd/domain"
)

// recorder is the only writer of the Journal while the pipeline runs: it
// batches completed entries (about once a second or every batchMax
// entries) and records crash checkpoints, always after the entries they
// count. Only one batch is held in memory.
type recorder struct {
	journal     Journal
	archiveName string
	now         func() time.Time
	log         *slog.Logger
	batchMax    int
	batchEvery  time.Duration

	entries chan domain.ArchiveEntry // closed by the tar writer after the last entry
	flushed chan struct{}            // closed once every entry is recorded
	stopped chan struct{}            // closed by the owner when no more checkpoints will come

	mu      sync.Mutex
	offered *Checkpoint // newest checkpoint waiting to be recorded
	wake    chan struct{}

	nextIndex      int64 // index of the next entry expected
	seq            int64 // seq of the last checkpoint recorded
	lastCompressed int64 // position of the last checkpoint recorded
	lastOffer      atomic.Int64
	recorded       atomic.Int64 // checkpoints recorded
}

func newRecorder(j Journal, archiveName string, firstIndex, seq, compressed int64, now func() time.Time, log *slog.Logger) *recorder {
	r := &recorder{
		journal: j, archiveName: archiveName, now: now, log: log,
		batchMax: 1000, batchEvery: time.Second,
		entries: make(chan domain.ArchiveEntry, 256),
		flushed: make(chan struct{}),
		stopped: make(chan struct{}),
		wake:    make(chan struct{}, 1),

		nextIndex: firstIndex, seq: seq, lastCompressed: compressed,
	}
	r.lastOffer.Store(time.Now().UnixNano())
	return r
}

// sinceLastOffer is how long ago a checkpoint was last offered (or the
// pipeline started). Intervals use the real clock; now only stamps records.
func (r *recorder) sinceLastOffer() time.Duration {
	return time.Since(time.Unix(0, r.lastOffer.Load()))
}

// offer hands a checkpoint over without waiting; a newer one replaces one
// not yet recorded. Safe from any goroutine.
func (r *recorder) offer(cp Checkpoint) {
	r.lastOffer.Store(time.Now().UnixNano())
	r.mu.Lock()
	if r.offered == nil || cp.Position.CompressedBytes > r.offered.Position.CompressedBytes {
		r.offered = &cp
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) take() *Checkpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := r.offered
	r.offered = nil
	return cp
}

// run records until stopped is closed, then records what is left.
func (r *recorder) run(ctx context.Context) error {
	batch := make([]domain.ArchiveEntry, 0, r.batchMax)
	entries := r.entries
	tick := time.NewTicker(r.batchEvery)
	defer tick.Stop()

	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := r.journal.RecordEntries(ctx, batch); err != nil {
			return fmt.Errorf("recording archive entries in the journal: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	// receive takes one entry off the channel (ok false: it was closed).
	receive := func(e domain.ArchiveEntry, ok bool) error {
		if !ok {
			entries = nil
			if err := flush(); err != nil {
				return err
			}
			close(r.flushed)
			return nil
		}
		batch = append(batch, e)
		r.nextIndex = e.Index + 1
		if len(batch) >= r.batchMax {
			return flush()
		}
		return nil
	}
	// receiveWhile takes entries while more says so and the channel is
	// open, then records them.
	receiveWhile := func(more func() bool) error {
		for entries != nil && more() {
			select {
			case e, ok := <-entries:
				if err := receive(e, ok); err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return flush()
	}
	checkpoint := func() error {
		cp := r.take()
		if cp == nil {
			return nil
		}
		// The entries a checkpoint counts are recorded before it; they
		// were sent before the block that ends them was even compressed.
		if err := receiveWhile(func() bool { return r.nextIndex < cp.Position.EntriesDone }); err != nil {
			return err
		}
		return r.record(ctx, *cp)
	}

	for {
		select {
		case e, ok := <-entries:
			if err := receive(e, ok); err != nil {
				return err
			}
		case <-tick.C:
			if err := flush(); err != nil {
				return err
			}
		case <-r.wake:
			if err := checkpoint(); err != nil {
				return err
			}
		case <-r.stopped:
			if err := receiveWhile(func() bool { return true }); err != nil {
				return err
			}
			return checkpoint()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// record appends a checkpoint unless it is older than the last one.
// Called by run, or by the owner when run is not running.
func (r *recorder) record(ctx context.Context, cp Checkpoint) error {
	if cp.Position.CompressedBytes < r.lastCompressed ||
		(cp.Position.CompressedBytes == r.lastCompressed && !cp.Resumed && cp.Reason != "pause") {
		return nil
	}
	r.seq++
	cp.Seq = r.seq
	cp.ArchiveName = r.archiveName
	if cp.At.IsZero() {
		cp.At = r.now()
	}
	if err := r.journal.Checkpoint(ctx, cp); err != nil {
		return fmt.Errorf("recording a checkpoint in the journal: %w", err)
	}
	r.lastCompressed = cp.Position.CompressedBytes
	r.recorded.Add(1)
	r.log.Debug(fmt.Sprintf("checkpoint %d (%s): %d entries, %s of archive durable", cp.Seq, cp.Reason, cp.Position.EntriesDone, HumanBytes(cp.Position.CompressedBytes)))
	return nil
}
