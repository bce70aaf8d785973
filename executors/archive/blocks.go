package archive

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/klauspost/compress/gzip"
)

// A block is about 1 MiB of the tar stream, compressed on its own into one
// complete gzip member. Concatenated members are a valid gzip file, and the
// end of every member is a point another process can continue from.
type block struct {
	raw []byte       // tar bytes
	out bytes.Buffer // the gzip member
	// pos is where the stream stands at the block's end (compressed fields
	// are filled in by the uploader); checkpointable says a new process can
	// continue from there.
	pos            Position
	checkpointable bool
	trailer        bool // the manifest or the end blocks
	// suspend asks the uploader for a checkpoint (Upload.Suspend) at the
	// block's end: it ends right before an entry that cannot be continued.
	suspend bool
	done    chan struct{} // closed when out is ready
	err     error
}

// blockPool holds a fixed number of blocks: memory is bounded by
// construction, and the tar writer waits when all are in flight.
type blockPool struct {
	free chan *block
	size int
}

func newBlockPool(count, size int) *blockPool {
	p := &blockPool{free: make(chan *block, count), size: size}
	for range count {
		p.free <- &block{}
	}
	return p
}

// get waits for a free block, calling poll about every 50 ms; poll's error
// (a stop request) ends the wait.
func (p *blockPool) get(ctx context.Context, poll func() error) (*block, error) {
	select {
	case b := <-p.free:
		return p.reset(b), nil
	default:
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case b := <-p.free:
			return p.reset(b), nil
		case <-tick.C:
			if err := poll(); err != nil {
				return nil, err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (p *blockPool) reset(b *block) *block {
	if cap(b.raw) < p.size {
		b.raw = make([]byte, 0, p.size)
	}
	b.raw = b.raw[:0]
	b.out.Reset()
	// Room for a member of incompressible data, so the buffer never grows
	// by doubling (and leaves no garbage behind).
	b.out.Grow(p.size + p.size/64 + 1024)
	b.pos = Position{}
	b.checkpointable = false
	b.trailer = false
	b.suspend = false
	b.err = nil
	b.done = make(chan struct{})
	return b
}

func (p *blockPool) put(b *block) { p.free <- b }

// compressBlocks is one compression worker: each block becomes one gzip
// member. Workers share the jobs channel; the uploader restores the order.
func compressBlocks(ctx context.Context, jobs <-chan *block, level int) error {
	zw, err := gzip.NewWriterLevel(nil, level)
	if err != nil {
		return fmt.Errorf("gzip level %d: %w", level, err)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b, ok := <-jobs:
			if !ok {
				return nil
			}
			if len(b.raw) == 0 { // a checkpoint request only: no member
				close(b.done)
				continue
			}
			zw.Reset(&b.out)
			if _, err := zw.Write(b.raw); err != nil {
				b.err = fmt.Errorf("compressing: %w", err)
			} else if err := zw.Close(); err != nil {
				b.err = fmt.Errorf("compressing: %w", err)
			}
			close(b.done)
		}
	}
}
