package archive

import (
	"context"
	"fmt"
	"hash"
	"time"
)

// blockMark is what the pipeline passes to Upload.Mark and gets back in
// DurableFunc: the position at the end of a gzip member.
type blockMark struct {
	pos            Position
	checkpointable bool
}

// uploader writes the gzip members to the upload in order, hashes the
// compressed stream, marks every member boundary and, when no crash
// checkpoint came from the destination for a while, takes one itself with
// Upload.Suspend.
type uploader struct {
	up           Upload
	pool         *blockPool
	rec          *recorder
	sha          hash.Hash
	compressed   int64
	last         Position
	suspendEvery time.Duration
	progress     func(pos Position, trailer bool)
}

func (u *uploader) run(ctx context.Context, ordered <-chan *block) error {
	defer close(u.rec.stopped)
	for b := range ordered {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b.err != nil {
			return b.err
		}
		out := b.out.Bytes()
		if len(out) > 0 {
			if _, err := u.up.Write(out); err != nil {
				return fmt.Errorf("uploading the archive: %w", err)
			}
		}
		u.sha.Write(out)
		u.compressed += int64(len(out))
		pos := b.pos
		pos.CompressedBytes = u.compressed
		pos.ArchiveSHA256 = marshalHash(u.sha)
		checkpointable, trailer, suspend := b.checkpointable, b.trailer, b.suspend
		u.pool.put(b)
		u.up.Mark(&blockMark{pos: pos, checkpointable: checkpointable})
		u.last = pos
		u.progress(pos, trailer)
		if checkpointable && (suspend || u.suspendEvery > 0 && u.rec.sinceLastOffer() >= u.suspendEvery) {
			state, err := u.up.Suspend(ctx)
			if err != nil {
				return fmt.Errorf("making the upload durable for a checkpoint: %w", err)
			}
			u.rec.offer(Checkpoint{Reason: "periodic", Position: pos, Upload: state})
		}
	}
	return nil
}
