package executors

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"backupd/domain"
	"backupd/executors/archive"
	"backupd/executors/s3"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// Small objects are read whole from the archive (checked against the
// manifest on the way) and written several at a time, while the archive
// streams on: with a few KiB per object the round trips, not the bytes,
// are what takes the time. Larger objects stream straight from the archive
// into the bucket, one at a time, as multipart uploads when large. Memory
// stays bounded by construction: at most parallelBudget bytes of buffered
// objects (the S3 client copies each once more while it sends it).
const (
	parallelObjectMax = 1 << 20
	parallelBudget    = 16 << 20
	parallelWrites    = 8
	largeObjectLog    = 8 << 20 // objects from this size get their own log line
)

type s3Restorer struct {
	target *s3.Target
	prefix string
	where  string
	skip   bool
	log    *slog.Logger
	meter  *restoreMeter

	g      *errgroup.Group
	gctx   context.Context
	budget *semaphore.Weighted

	restored, skipped, refused atomic.Int64
}

func (w *Worker) s3Restorer(ctx context.Context, access targetAccess, opts domain.RestoreOptions, log *slog.Logger, meter *restoreMeter) (entryRestorer, string, error) {
	target, err := w.conns.S3Target(access.Settings, access.Secrets, opts.Prefix, log)
	if err != nil {
		return nil, "", err
	}
	r := &s3Restorer{target: target, prefix: opts.Prefix, where: describeS3Target(access.Settings, opts.Prefix),
		skip: opts.Conflict == "skip", log: log, meter: meter, budget: semaphore.NewWeighted(parallelBudget)}
	r.g, r.gctx = errgroup.WithContext(ctx)
	r.g.SetLimit(parallelWrites)
	return r, r.where, nil
}

func (r *s3Restorer) restore(ctx context.Context, e archive.ExtractedEntry, content io.Reader) error {
	if r.gctx.Err() != nil { // a write in the background failed: stop reading
		return r.g.Wait()
	}
	if _, err := s3.TargetKey(r.prefix, e.Key); err != nil {
		r.refused.Add(1)
		r.log.Warn(fmt.Sprintf("not restored: %v (the verification lists it)", err))
		return nil
	}
	if e.Size > parallelObjectMax {
		if e.Size >= largeObjectLog {
			r.log.Info(fmt.Sprintf("restoring %s (%s)", e.Key, archive.HumanBytes(e.Size)))
		}
		return r.write(ctx, e, content)
	}
	weight := max(e.Size, 1)
	if err := r.budget.Acquire(ctx, weight); err != nil {
		return err
	}
	body, err := readWhole(content, e.Size)
	if err != nil {
		r.budget.Release(weight)
		return err
	}
	r.g.Go(func() error {
		defer r.budget.Release(weight)
		return r.write(r.gctx, e, bytes.NewReader(body))
	})
	return nil
}

// readWhole reads exactly size bytes and the end of content, so the
// manifest check that content makes at its end has passed (or failed)
// before anything is sent.
func readWhole(content io.Reader, size int64) ([]byte, error) {
	body := make([]byte, size)
	if _, err := io.ReadFull(content, body); err != nil {
		return nil, err
	}
	var one [1]byte
	switch n, err := content.Read(one[:]); {
	case err == io.EOF && n == 0:
		return body, nil
	case err != nil && err != io.EOF:
		return nil, err
	}
	return nil, fmt.Errorf("the entry holds more than the %d bytes it announced", size)
}

// write puts one object (or skips it when it exists and the policy says
// so). Put fails, and creates nothing, if content fails at its end.
func (r *s3Restorer) write(ctx context.Context, e archive.ExtractedEntry, content io.Reader) error {
	if r.skip {
		exists, err := r.target.Exists(ctx, e.Key)
		if err != nil {
			return err
		}
		if exists {
			r.skipped.Add(1)
			r.meter.entryDone(0)
			return nil
		}
	}
	var contentType string
	var metadata map[string]string
	if e.Expected != nil {
		contentType, metadata = e.Expected.ContentType, e.Expected.Metadata
	}
	if err := r.target.Put(ctx, e.Key, e.Size, contentType, metadata, content); err != nil {
		return err
	}
	r.restored.Add(1)
	r.meter.entryDone(e.Size)
	return nil
}

func (r *s3Restorer) wait() error { return r.g.Wait() }

func (r *s3Restorer) verify(ctx context.Context, m *archive.Manifest) (domain.RestoreReport, error) {
	walk := &manifestWalk{m: m}
	report, err := r.target.Verify(ctx, walk.entries())
	if err == nil {
		err = walk.err
	}
	return report, err
}

func (r *s3Restorer) tally() (int64, int64) { return r.restored.Load(), r.skipped.Load() }

func (r *s3Restorer) close() {}
