package s3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"backupd/executors/archive"
)

// maxInFlight parts upload at once while one more fills: memory is at most
// maxInFlight + 1 buffers of 1.25 part sizes (the slack lets a part end at
// the next mark), by construction: 30 MiB with 8 MiB parts.
const maxInFlight = 2

// upload is one multipart upload fed by Write. Parts are cut at marks (so a
// durable part always ends where the archive can resume), uploaded in the
// background with a CRC32C the server checks, and reported durable in
// order. Write, Mark, Suspend and Complete are called from one goroutine;
// Abort may come from another to stop a Write blocked on a full pipeline.
type upload struct {
	client    *s3.Client
	log       *slog.Logger
	bucket    string
	key       string
	uploadID  string
	base      int64 // base part size
	growAfter int32
	onDurable archive.DurableFunc
	quiet     bool // restore target objects: no per-part info lines

	ctx    context.Context // lives until Complete/Abort; parts use it
	cancel context.CancelFunc

	// Owned by the writing goroutine.
	buf       []byte
	markCut   bool // a Mark asked for a cut at the end of buf
	markValue any
	nextPart  int32
	cutBytes  int64 // bytes in parts cut so far
	closed    atomic.Bool
	slots     chan struct{}
	inFlight  sync.WaitGroup
	freeBufs  chan []byte

	mu        sync.Mutex
	parts     map[int32]types.CompletedPart
	ends      map[int32]partEnd // cut info of parts not yet contiguous-confirmed
	contig    int32             // parts 1..contig are confirmed
	contigEnd int64             // bytes through part contig
	failure   error
	uploaded  atomic.Int64

	deliveries *deliveryQueue
	// stashes are the temporary objects this process wrote (and the one it
	// resumed from), oldest first; only the newest few are kept.
	stashes []string
}

// partEnd is what the durable callback of a part needs.
type partEnd struct {
	bytes   int64 // total bytes through this part
	hasMark bool
	mark    any
}

func newUpload(ctx context.Context, client *s3.Client, log *slog.Logger, bucket, key, uploadID string, base int64, growAfter int32, onDurable archive.DurableFunc) *upload {
	uctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	u := &upload{
		client: client, log: log, bucket: bucket, key: key, uploadID: uploadID,
		base: base, growAfter: growAfter, onDurable: onDurable,
		ctx: uctx, cancel: cancel,
		nextPart: 1,
		slots:    make(chan struct{}, maxInFlight),
		freeBufs: make(chan []byte, maxInFlight+1),
		parts:    map[int32]types.CompletedPart{},
		ends:     map[int32]partEnd{},
	}
	u.deliveries = newDeliveryQueue(func(d delivery) { u.onDurable(d.mark, d.state) })
	return u
}

func (u *upload) partSize(n int32) int64 { return partSizeAt(u.base, u.growAfter, n) }

// hardLimit is how far the buffer may grow past a part size waiting for a
// mark before a part is cut without one (a huge entry that is not
// resumable mid-way).
func (u *upload) hardLimit(n int32) int64 {
	ps := u.partSize(n)
	return ps + ps/4
}

func (u *upload) err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failure != nil {
		return u.failure
	}
	if u.closed.Load() {
		return errors.New("the upload is already finished")
	}
	return nil
}

func (u *upload) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if err := u.err(); err != nil {
			return written, err
		}
		if u.markCut {
			if err := u.cut(int64(len(u.buf)), true, u.markValue); err != nil {
				return written, err
			}
		}
		if u.buf == nil {
			u.buf = u.newBuffer()
		}
		limit := u.hardLimit(u.nextPart)
		k := min(int(limit)-len(u.buf), len(p))
		u.buf = append(u.buf, p[:k]...)
		p, written = p[k:], written+k
		if int64(len(u.buf)) >= limit {
			if err := u.cut(u.partSize(u.nextPart), false, nil); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// Mark asks for a part to end here once the buffer holds a part's worth.
// It never waits: the cut happens now if a slot is free, else at the next
// Write, Suspend or Complete (nothing is written in between, so the part
// still ends exactly at the mark).
func (u *upload) Mark(mark any) {
	if u.closed.Load() || int64(len(u.buf)) < u.partSize(u.nextPart) {
		return
	}
	select {
	case u.slots <- struct{}{}:
		if u.closed.Load() || u.nextPart > MaxParts {
			<-u.slots // the next Write reports it
			u.markCut, u.markValue = u.nextPart > MaxParts, mark
			return
		}
		u.startPart(int64(len(u.buf)), true, mark)
	default:
		u.markCut, u.markValue = true, mark
	}
}

// cut waits for an upload slot, then sends the first n bytes of the buffer
// as the next part.
func (u *upload) cut(n int64, hasMark bool, mark any) error {
	select {
	case u.slots <- struct{}{}:
	case <-u.ctx.Done():
		return u.stopped()
	}
	if u.closed.Load() { // aborted while waiting for the slot
		<-u.slots
		return u.stopped()
	}
	if u.nextPart > MaxParts {
		<-u.slots
		err := fmt.Errorf("s3://%s/%s: the archive outgrew S3's %d parts (%s so far)", u.bucket, u.key, MaxParts, archive.HumanBytes(u.cutBytes))
		u.fail(err)
		return err
	}
	u.startPart(n, hasMark, mark)
	return nil
}

func (u *upload) stopped() error {
	if err := u.err(); err != nil {
		return err
	}
	return fmt.Errorf("upload of %s stopped: %w", u.key, context.Cause(u.ctx))
}

// startPart hands the first n bytes of the buffer to a background upload;
// the caller holds a slot.
func (u *upload) startPart(n int64, hasMark bool, mark any) {
	u.markCut, u.markValue = false, nil
	data := u.buf[:n]
	rest := u.newBuffer()
	u.buf = append(rest, u.buf[n:]...)
	number := u.nextPart
	u.nextPart++
	u.cutBytes += n
	u.mu.Lock()
	u.ends[number] = partEnd{bytes: u.cutBytes, hasMark: hasMark, mark: mark}
	u.mu.Unlock()
	u.inFlight.Add(1)
	go func() {
		defer u.inFlight.Done()
		defer func() { <-u.slots }()
		part, err := uploadPart(u.ctx, u.client, u.log, u.bucket, u.key, u.uploadID, number, data)
		u.recycle(data)
		if err != nil {
			u.fail(err)
			return
		}
		u.confirm(number, part, int64(len(data)))
	}()
}

func (u *upload) newBuffer() []byte {
	need := u.hardLimit(u.nextPart)
	select {
	case b := <-u.freeBufs:
		if int64(cap(b)) >= need {
			return b[:0]
		}
		// Parts grew: let the small one go.
	default:
	}
	return make([]byte, 0, need)
}

func (u *upload) recycle(b []byte) {
	select {
	case u.freeBufs <- b:
	default:
	}
}

func (u *upload) fail(err error) {
	u.mu.Lock()
	if u.failure == nil {
		u.failure = err
	}
	u.mu.Unlock()
}

// confirm records a durable part and reports, in order, every mark whose
// bytes are now all durable.
// Lines are logged in part order too ("part 7 uploaded (8.0 MiB, 56.0 MiB
// total)"), so the log reads as a steady count.
func (u *upload) confirm(number int32, part types.CompletedPart, size int64) {
	u.uploaded.Add(size)
	var lines []string
	defer func() {
		for _, l := range lines {
			u.log.Info(l)
		}
	}()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.parts[number] = part
	for {
		next := u.contig + 1
		if _, ok := u.parts[next]; !ok {
			break
		}
		end, cut := u.ends[next]
		if !cut {
			break
		}
		delete(u.ends, next)
		if !u.quiet {
			lines = append(lines, fmt.Sprintf("part %d uploaded (%s, %s total)", next, archive.HumanBytes(end.bytes-u.contigEnd), archive.HumanBytes(end.bytes)))
		}
		u.contig, u.contigEnd = next, end.bytes
		if end.hasMark && u.onDurable != nil {
			state := u.stateLocked(next, end.bytes)
			u.deliveries.push(delivery{mark: end.mark, state: state})
		}
	}
}

// stateLocked is the resume state after part n with no stash.
func (u *upload) stateLocked(n int32, bytes int64) json.RawMessage {
	s := uploadState{Version: stateVersion, Bucket: u.bucket, Key: u.key, UploadID: u.uploadID,
		PartSize: u.base, GrowAfter: u.growAfter, Parts: n, Bytes: bytes}
	b, _ := json.Marshal(s)
	return b
}

// drain waits until every cut part is confirmed (or failed) and every
// durable callback has run.
func (u *upload) drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() { u.inFlight.Wait(); u.deliveries.wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		u.cancel()
		<-done
		return ctx.Err()
	}
	return u.err()
}

// flush cuts a pending mark's part and, if anything is left and allowed,
// the rest of the buffer as one more part.
func (u *upload) flush(rest bool) error {
	if u.markCut {
		if err := u.cut(int64(len(u.buf)), true, u.markValue); err != nil {
			return err
		}
	}
	if rest && (len(u.buf) > 0 || u.nextPart == 1) {
		return u.cut(int64(len(u.buf)), false, nil)
	}
	return nil
}

func (u *upload) Uploaded() int64 { return u.uploaded.Load() }

func (u *upload) completedParts() ([]types.CompletedPart, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	parts := make([]types.CompletedPart, 0, len(u.parts))
	for n := int32(1); n < u.nextPart; n++ {
		p, ok := u.parts[n]
		if !ok {
			return nil, fmt.Errorf("part %d of %s was never confirmed", n, u.key)
		}
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	return parts, nil
}

// finish marks the upload closed and stops its goroutines.
func (u *upload) finish() {
	u.closed.Store(true)
	u.deliveries.stop()
	u.cancel()
}

// location names an object as a destination reports it.
func location(bucket, key string) archive.Location {
	return archive.Location("s3://" + bucket + "/" + key)
}
