package gdrive

import (
	"context"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"sync"
	"sync/atomic"

	"backupd/executors/archive"
)

var (
	errUploadClosed = errors.New("this Google Drive upload is already completed or aborted")
	errAborted      = errors.New("the Google Drive upload was aborted")
)

// chunk is bytes [off, off+len(data)) of the file, handed to the uploader.
type chunk struct {
	off  int64
	data []byte
}

// pendingMark is a resumable point not yet known to be durable.
type pendingMark struct {
	mark any
	pos  int64  // bytes written before it
	hash []byte // marshaled SHA-256 state at pos
}

// upload writes one file through a resumable session. Write fills a chunk
// buffer; a full chunk goes to the uploader goroutine, which sends it while
// Write fills the next one, so at most two chunks are held. Every request to
// the session goes through one pacer, used by one goroutine at a time (the
// uploader, then Suspend, Complete or Abort once the uploader has stopped).
type upload struct {
	d         *Destination
	sess      *session
	name      string
	onDurable archive.DurableFunc
	log       *slog.Logger
	chunkSize int
	pacer     *pacer
	ctx       context.Context // the uploader's, from StartUpload/ResumeUpload
	cancel    context.CancelFunc
	confirmed atomic.Int64 // bytes the session is known to hold

	mu          sync.Mutex
	cond        *sync.Cond
	cur         []byte // bytes [curOff, curOff+len(cur)) not handed off yet
	curOff      int64
	spare       []byte // a chunk buffer to reuse
	inflight    *chunk
	written     int64     // bytes written by the caller
	skip        int64     // bytes the session already holds past written (after a resume)
	hash        hash.Hash // SHA-256 of everything written
	marks       []pendingMark
	lastDurable int64         // confirmed offset of the last durable callback
	err         error         // first failure: every later call returns it
	closed      bool          // Complete or Abort began
	parked      bool          // Suspend drives the session: the uploader stays out
	running     bool          // an uploader goroutine is alive
	done        chan struct{} // closed when the last uploader goroutine exits
	completed   *fileInfo
}

func (d *Destination) newUpload(ctx context.Context, sess *session, name string, onDurable archive.DurableFunc) *upload {
	u := &upload{
		d: d, sess: sess, name: name, onDurable: onDurable, chunkSize: d.opts.ChunkSize,
		log:   d.log.With("file", name, "session", sess.tag()),
		pacer: newPacer(d.opts.Retry, d.log.With("file", name, "session", sess.tag())),
		done:  closedChan(), hash: sha256.New(),
	}
	u.cond = sync.NewCond(&u.mu)
	u.cur = make([]byte, 0, u.chunkSize)
	return u
}

// start gives the upload its context: when ctx ends before Complete or
// Abort, the upload fails (an idle uploader would otherwise wait for ever).
// The uploader goroutine itself starts with the first full chunk, and
// again after a Suspend parked it.
func (u *upload) start(ctx context.Context) {
	u.ctx, u.cancel = context.WithCancel(ctx)
	context.AfterFunc(u.ctx, func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		if !u.closed {
			u.failLocked(fmt.Errorf("the Google Drive upload of %s was stopped: %w", u.name, u.ctx.Err()))
		}
	})
}

// spawnLocked starts the uploader goroutine unless it runs.
func (u *upload) spawnLocked() {
	if u.running {
		return
	}
	u.running, u.done = true, make(chan struct{})
	go u.run(u.ctx, u.done)
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// StartUpload opens a resumable session for name in the folder.
func (d *Destination) StartUpload(ctx context.Context, name string, sizeHint int64, onDurable archive.DurableFunc) (archive.Upload, error) {
	folder, err := d.FolderID(ctx)
	if err != nil {
		return nil, err
	}
	var sess *session
	p := newPacer(d.opts.Retry, d.log)
	err = p.do(ctx, "opening a Google Drive upload session for "+name, func() error {
		sess, err = d.initiate(ctx, name, folder)
		return err
	})
	if err != nil {
		return nil, err
	}
	u := d.newUpload(ctx, sess, name, onDurable)
	if sizeHint > 0 && sizeHint < int64(u.chunkSize) {
		// A small archive needs no full-size buffers.
		u.chunkSize = int(alignDown(max(sizeHint, 1<<20) + chunkAlign - 1))
		u.cur = make([]byte, 0, u.chunkSize)
	}
	u.log.Info("opened a Google Drive upload session for " + name)
	u.start(ctx)
	return u, nil
}

// Uploaded is the number of bytes written so far that the session holds
// (after a resume the session may hold more than has been written again).
func (u *upload) Uploaded() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return min(u.confirmed.Load(), u.written)
}

// Write buffers p; it blocks while a full chunk waits for the one in
// flight, which bounds memory.
func (u *upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.usableLocked(); err != nil {
		return 0, err
	}
	u.hash.Write(p)
	u.written += int64(len(p))
	q := p
	if u.skip > 0 {
		// The session already holds these bytes (they were regenerated
		// after a resume and are identical): skip them.
		k := min(u.skip, int64(len(q)))
		q, u.skip = q[k:], u.skip-k
	}
	if err := u.appendLocked(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// appendLocked adds file bytes, handing off each full chunk.
func (u *upload) appendLocked(q []byte) error {
	if len(q) > 0 && cap(u.cur) < u.chunkSize {
		// After a Suspend only the tail is kept; grow it back.
		b := make([]byte, len(u.cur), u.chunkSize)
		copy(b, u.cur)
		u.cur = b
	}
	for len(q) > 0 {
		k := min(u.chunkSize-len(u.cur), len(q))
		u.cur = append(u.cur, q[:k]...)
		q = q[k:]
		if len(u.cur) < u.chunkSize {
			continue
		}
		for u.inflight != nil && u.err == nil {
			u.cond.Wait()
		}
		if u.err != nil {
			return u.err
		}
		u.inflight = &chunk{off: u.curOff, data: u.cur}
		u.spawnLocked()
		u.curOff += int64(len(u.cur))
		if u.spare != nil {
			u.cur, u.spare = u.spare[:0], nil
		} else {
			u.cur = make([]byte, 0, u.chunkSize)
		}
		u.cond.Broadcast()
	}
	return nil
}

func (u *upload) usableLocked() error {
	if u.err != nil {
		return u.err
	}
	if u.closed {
		return errUploadClosed
	}
	return nil
}

// Mark records a resumable point; cheap, no I/O.
func (u *upload) Mark(mark any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.onDurable == nil || u.closed {
		return
	}
	st, _ := u.hash.(encoding.BinaryMarshaler).MarshalBinary()
	u.marks = append(u.marks, pendingMark{mark: mark, pos: u.written, hash: st})
}

// run is the uploader goroutine: it sends each chunk handed off, until
// the upload is closed, parked by Suspend, or failed.
func (u *upload) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	for {
		u.mu.Lock()
		for u.inflight == nil && !u.closed && !u.parked && u.err == nil {
			u.cond.Wait()
		}
		c := u.inflight
		if c == nil || u.err != nil {
			u.running = false
			u.mu.Unlock()
			return
		}
		u.mu.Unlock()

		_, err := u.send(ctx, c.off, c.data, -1)

		u.mu.Lock()
		if err != nil {
			u.failLocked(err)
			u.running = false
			u.mu.Unlock()
			return
		}
		mark, state := u.durableLocked()
		u.mu.Unlock()
		u.log.Info(fmt.Sprintf("uploaded %s to Google Drive", formatBytes(u.confirmed.Load())))
		if state != nil {
			// Before freeing the chunk: a checkpoint is recorded before the
			// writer moves on, so checkpoints follow the data closely.
			u.onDurable(mark, state)
		}
		u.mu.Lock()
		u.inflight, u.spare = nil, c.data[:0]
		u.cond.Broadcast()
		u.mu.Unlock()
	}
}

func (u *upload) failLocked(err error) {
	if u.err == nil {
		u.err = err
	}
	u.cond.Broadcast()
}

// durableLocked picks the latest mark made durable by what the session now
// holds and, at most every DurableEvery bytes, returns its resume state.
// A mark is durable when every byte before its last 256 KiB boundary is
// confirmed; the bytes after that boundary go inline in the state.
func (u *upload) durableLocked() (any, []byte) {
	confirmed := u.confirmed.Load()
	i := 0
	for i < len(u.marks) && alignDown(u.marks[i].pos) <= confirmed {
		i++
	}
	if i == 0 {
		return nil, nil
	}
	best := u.marks[i-1]
	u.marks = append(u.marks[:0], u.marks[i:]...)
	if confirmed-u.lastDurable < u.d.opts.DurableEvery {
		return nil, nil
	}
	var tail []byte
	if best.pos > confirmed {
		// [confirmed, pos) starts the chunk being filled.
		n := best.pos - confirmed
		if u.curOff != confirmed || int64(len(u.cur)) < n {
			return nil, nil
		}
		tail = append([]byte(nil), u.cur[:n]...)
	}
	u.lastDurable = confirmed
	st := uploadState{SessionURI: u.sess.uri, FileName: u.name, Confirmed: confirmed, TotalWritten: best.pos, Tail: tail, SHA256: best.hash}
	return best.mark, st.marshal()
}

// send makes the session hold the file's bytes [off, off+len(data)): it
// resends whatever did not arrive, asking the session after every failure
// how much did. With total >= 0 the request finishes the file.
func (u *upload) send(ctx context.Context, off int64, data []byte, total int64) (*fileInfo, error) {
	end := off + int64(len(data))
	pos := u.confirmed.Load()
	ask := false
	for {
		var (
			held int64
			file *fileInfo
			err  error
			what string
		)
		if ask {
			what = "asking Google Drive how much of the upload arrived"
			held, file, err = u.sess.status(ctx)
		} else {
			if pos < off || pos > end {
				return nil, fmt.Errorf("Google Drive holds %d bytes of %s, but the upload continues at %d: %w", pos, u.name, off, ErrSessionExpired)
			}
			if pos == end && total < 0 {
				return nil, nil
			}
			what = fmt.Sprintf("uploading bytes %d-%d", pos, end-1)
			held, file, err = u.sess.put(ctx, data[pos-off:], pos, total)
			if err == nil && file == nil && held <= pos && pos < end {
				err = errNoProgress
			}
		}
		if err != nil {
			if err = u.pacer.failed(ctx, what, err); err != nil {
				return nil, err
			}
			ask = true
			continue
		}
		u.pacer.succeeded()
		if ask && file == nil {
			u.log.Info(fmt.Sprintf("the upload session holds %d bytes; continuing from there", held))
		}
		ask = false
		u.confirmed.Store(held)
		if file != nil {
			if total < 0 {
				return nil, fmt.Errorf("Google Drive finished %s before the last chunk was sent", u.name)
			}
			return file, nil
		}
		pos = held
	}
}

func alignDown(n int64) int64 { return n / chunkAlign * chunkAlign }

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
