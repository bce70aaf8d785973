package gdrive

import (
	"context"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"backupd/executors/archive"
)

// Suspend uploads every whole 256 KiB block written, confirms it with a
// status query and returns the state to continue from here, the last
// partial block inline. The upload stays usable (the archive takes
// periodic checkpoints this way); until the next chunk it holds only the
// partial block, so an upload dropped after Suspend keeps no buffers.
func (u *upload) Suspend(ctx context.Context) (json.RawMessage, error) {
	if err := u.quiesce(ctx, false); err != nil {
		return nil, err
	}
	defer func() {
		u.mu.Lock()
		u.parked = false
		u.mu.Unlock()
	}()
	u.mu.Lock()
	cur, off, written, skip := u.cur, u.curOff, u.written, u.skip
	hashState, _ := u.hash.(encoding.BinaryMarshaler).MarshalBinary()
	u.mu.Unlock()
	if skip > 0 || u.completed != nil {
		// Nothing pending: the session already holds more than was written.
		st := uploadState{SessionURI: u.sess.uri, FileName: u.name, Confirmed: u.confirmed.Load(), TotalWritten: written, SHA256: hashState}
		return st.marshal(), nil
	}
	whole := alignDown(int64(len(cur)))
	if whole > 0 {
		if _, err := u.send(ctx, off, cur[:whole], -1); err != nil {
			return nil, u.fail(err)
		}
	}
	var held int64
	err := u.pacer.do(ctx, "confirming the upload", func() error {
		var err error
		held, _, err = u.sess.status(ctx)
		return err
	})
	if err != nil {
		return nil, u.fail(err)
	}
	if held < off+whole || held > off+int64(len(cur)) {
		return nil, u.fail(fmt.Errorf("Google Drive holds %d bytes of %s, %d expected: %w", held, u.name, off+whole, ErrSessionExpired))
	}
	u.confirmed.Store(held)
	tail := append([]byte(nil), cur[held-off:]...)
	u.mu.Lock()
	u.cur, u.curOff, u.spare = tail, held, nil // the chunk buffers can go
	u.mu.Unlock()
	st := uploadState{SessionURI: u.sess.uri, FileName: u.name, Confirmed: held, TotalWritten: written, Tail: tail, SHA256: hashState}
	u.log.Info(fmt.Sprintf("made %s of %s durable in Google Drive (%s kept in the checkpoint)", formatBytes(held), u.name, formatBytes(int64(len(tail)))))
	return st.marshal(), nil
}

// quiesce waits for the chunk in flight and stops the uploader goroutine,
// so the caller alone drives the session: for good (close, by Complete) or
// until it clears u.parked (Suspend).
func (u *upload) quiesce(ctx context.Context, close bool) error {
	u.mu.Lock()
	if err := u.usableLocked(); err != nil {
		u.mu.Unlock()
		return err
	}
	if close {
		u.closed = true
	}
	stop := context.AfterFunc(ctx, func() { u.mu.Lock(); u.cond.Broadcast(); u.mu.Unlock() })
	for u.inflight != nil && u.err == nil && ctx.Err() == nil {
		u.cond.Wait()
	}
	stop()
	if u.err == nil && ctx.Err() != nil {
		if !close {
			u.mu.Unlock()
			return ctx.Err() // nothing changed: the upload goes on
		}
		u.failLocked(fmt.Errorf("stopped while waiting for the chunk in flight: %w", ctx.Err()))
	}
	if err := u.err; err != nil {
		u.mu.Unlock()
		return err
	}
	u.parked = !close
	u.cond.Broadcast()
	done := u.done
	u.mu.Unlock()
	<-done
	return nil
}

func (u *upload) fail(err error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.failLocked(err)
	return err
}

// Complete sends the rest as the final chunk and checks that Drive stored
// exactly the bytes written (size and SHA-256). On error, Abort removes the
// session and any file.
func (u *upload) Complete(ctx context.Context) (archive.Location, error) {
	err := u.quiesce(ctx, true)
	if err != nil {
		return "", err
	}
	defer u.cancel() // the uploader is gone; release its context
	u.mu.Lock()
	cur, off, written, skip := u.cur, u.curOff, u.written, u.skip
	u.mu.Unlock()
	sum := hex.EncodeToString(u.hash.Sum(nil))
	file := u.completed
	if skip > 0 {
		return "", u.fail(fmt.Errorf("the archive ended at %d bytes but Google Drive already holds %d: it is not the archive this upload began", written, written+skip))
	}
	if file == nil {
		file, err = u.send(ctx, off, cur, written)
		if err != nil {
			return "", u.fail(err)
		}
	}
	u.mu.Lock()
	u.completed = file
	u.mu.Unlock()
	if file.Size != written {
		return "", u.fail(fmt.Errorf("Google Drive stored %s with %d bytes, %d were written: %w", u.name, file.Size, written, ErrStoredDiffers))
	}
	if file.SHA256 == "" {
		u.log.Warn("Google Drive returned no SHA-256 for " + u.name + "; only its size was verified")
	} else if file.SHA256 != sum {
		return "", u.fail(fmt.Errorf("Google Drive stored %s with SHA-256 %s, but the bytes written have %s: %w", u.name, file.SHA256, sum, ErrStoredDiffers))
	}
	u.log.Info(fmt.Sprintf("stored %s in Google Drive (%s, SHA-256 verified)", u.name, formatBytes(written)), "file_id", file.ID)
	return location(file.ID), nil
}

// Abort cancels the session and deletes the file if the upload had
// completed (a lost final answer included).
func (u *upload) Abort(ctx context.Context) error {
	u.mu.Lock()
	u.closed = true
	if u.err == nil {
		u.err = errAborted
	}
	u.cond.Broadcast()
	file := u.completed
	done := u.done
	u.mu.Unlock()
	u.cancel()
	<-done
	if err := u.d.discard(ctx, u.sess, file); err != nil {
		return err
	}
	u.log.Info("cancelled the Google Drive upload of " + u.name)
	return nil
}

// discard removes a session and the file it may have finished.
func (d *Destination) discard(ctx context.Context, sess *session, file *fileInfo) error {
	p := newPacer(d.opts.Retry, d.log)
	if file == nil {
		err := p.do(ctx, "asking Google Drive about the upload session", func() error {
			_, f, err := sess.status(ctx)
			file = f
			return err
		})
		if err != nil && !errors.Is(err, ErrSessionExpired) {
			return err
		}
	}
	if file != nil {
		if err := p.do(ctx, "deleting the uploaded "+file.Name, func() error { return d.deleteFile(ctx, file.ID) }); err != nil {
			return err
		}
	}
	return p.do(ctx, "cancelling the Google Drive upload session", func() error { return sess.cancel(ctx) })
}
