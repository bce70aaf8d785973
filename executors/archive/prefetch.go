package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// pending is a listed entry on its way into the tar: small ones are read
// whole ahead of time, large ones stream when the tar writer reaches them.
type pending struct {
	entry Entry
	ready chan struct{} // closed when data (or err) is set
	data  []byte        // the whole content when prefetched
	err   error

	prefetched    bool
	pooled        bool // data comes from getData
	reserved      int64
	sem           *semaphore.Weighted
	sourceOnce    sync.Once
	budgetRelease sync.Once
}

// releaseSource lets the source free what it holds for the entry.
func (pe *pending) releaseSource() {
	pe.sourceOnce.Do(func() {
		if pe.entry.Release != nil {
			pe.entry.Release()
		}
	})
}

// done is called once the entry is written or dropped.
func (pe *pending) done() {
	pe.releaseSource()
	pe.budgetRelease.Do(func() {
		if pe.pooled {
			putData(pe.data)
		}
		pe.data = nil
		if pe.reserved > 0 {
			pe.sem.Release(pe.reserved)
		}
	})
}

// prefetcher lists the source page by page and reads upcoming small entries
// concurrently, bounded by a count (the queue) and a byte budget, so
// thousands of small objects are fetched in parallel while entries still
// go into the tar strictly in listing order.
type prefetcher struct {
	src      Source
	queue    chan *pending
	sem      *semaphore.Weighted
	smallMax int64
	ctx      context.Context
	cancel   context.CancelFunc
	listDone chan struct{}
	listErr  error
	fetches  sync.WaitGroup
	held     *pending // taken from the queue by a wait that was interrupted
	log      *slog.Logger
}

func startPrefetch(parent context.Context, src Source, after string, entries int, budget int64, log *slog.Logger) *prefetcher {
	ctx, cancel := context.WithCancel(parent)
	p := &prefetcher{
		src:      src,
		queue:    make(chan *pending, entries),
		sem:      semaphore.NewWeighted(budget),
		smallMax: min(budget/4, 1<<maxClassShift),
		ctx:      ctx,
		cancel:   cancel,
		listDone: make(chan struct{}),
		log:      log,
	}
	go p.list(after)
	return p
}

func (p *prefetcher) list(after string) {
	defer close(p.listDone)
	defer close(p.queue)
	p.listErr = p.src.List(p.ctx, after, func(e Entry) error {
		pe := &pending{entry: e, ready: make(chan struct{}), sem: p.sem}
		switch {
		case e.Size == 0:
			pe.prefetched = true
			pe.data = []byte{}
			close(pe.ready)
		case e.Size <= p.smallMax:
			// The buffer's class size is what memory it takes.
			reserve := classSize(e.Size)
			if err := p.sem.Acquire(p.ctx, reserve); err != nil {
				pe.done()
				return err
			}
			pe.reserved = reserve
			pe.prefetched = true
			p.fetches.Add(1)
			go p.fetch(pe)
		default:
			close(pe.ready)
		}
		select {
		case p.queue <- pe:
			return nil
		case <-p.ctx.Done():
			<-pe.ready
			pe.done()
			return p.ctx.Err()
		}
	})
}

func (p *prefetcher) fetch(pe *pending) {
	defer p.fetches.Done()
	defer close(pe.ready)
	buf := getData(pe.entry.Size)
	pe.err = readWhole(p.ctx, pe.entry, buf, p.log)
	pe.data, pe.pooled = buf, true
	pe.releaseSource()
}

// next returns the next entry in listing order once it is ready, or nil at
// the end of the listing. poll is called about every 50 ms while waiting;
// its error (a stop request) ends the wait.
func (p *prefetcher) next(ctx context.Context, poll func() error) (*pending, error) {
	var pe *pending
	var ok bool
	select {
	case pe, ok = <-p.queue:
	default:
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
	wait:
		for {
			select {
			case pe, ok = <-p.queue:
				break wait
			case <-tick.C:
				if err := poll(); err != nil {
					return nil, err
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	if !ok {
		<-p.listDone
		if p.listErr != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("listing the source: %w", p.listErr)
		}
		return nil, nil
	}
	select {
	case <-pe.ready:
	default:
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
	ready:
		for {
			select {
			case <-pe.ready:
				break ready
			case <-tick.C:
				if err := poll(); err != nil {
					p.held = pe
					return nil, err
				}
			case <-ctx.Done():
				p.held = pe
				return nil, ctx.Err()
			}
		}
	}
	if pe.err != nil {
		pe.done()
		return nil, fmt.Errorf("reading %q: %w", pe.entry.Key, pe.err)
	}
	return pe, nil
}

// pollEvery is how often a waiting stage looks at the stop request.
const pollEvery = 50 * time.Millisecond

// stop cancels the listing (killing whatever a source runs for it, such as
// mongodump), waits for fetches and releases every entry not written.
func (p *prefetcher) stop() {
	p.cancel()
	<-p.listDone
	p.fetches.Wait()
	if p.held != nil {
		p.held.done()
		p.held = nil
	}
	for pe := range p.queue {
		pe.done()
	}
}

// readWhole reads a small entry into memory, checking it has exactly the
// size the listing gave. Resumable entries are retried a few times.
func readWhole(ctx context.Context, e Entry, buf []byte, log *slog.Logger) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = readWholeOnce(ctx, e, buf)
		if err == nil || ctx.Err() != nil || !e.Resumable || attempt == readAttempts || errors.Is(err, errSizeMismatch) {
			break
		}
		log.Warn(fmt.Sprintf("reading %s failed (%v); trying again", e.Key, err))
		if !sleepCtx(ctx, time.Duration(attempt)*200*time.Millisecond) {
			break
		}
	}
	return err
}

func readWholeOnce(ctx context.Context, e Entry, buf []byte) error {
	rc, err := e.Open(ctx, 0)
	if err != nil {
		return err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: got %d bytes, the listing said %d", errSizeMismatch, n, e.Size)
	}
	if err != nil {
		return err
	}
	return expectEOF(rc, e.Size)
}

// readAttempts is how often a resumable entry's read is tried.
const readAttempts = 3

var errSizeMismatch = errors.New("the content does not have the size the listing gave (did it change during the backup?)")

// expectEOF checks that a reader has nothing after the expected size.
func expectEOF(r io.Reader, size int64) error {
	var one [1]byte
	n, err := io.ReadFull(r, one[:])
	if n > 0 {
		return fmt.Errorf("%w: more than %d bytes", errSizeMismatch, size)
	}
	if err == io.EOF {
		return nil
	}
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
