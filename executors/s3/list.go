package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"backupd/executors/archive"
)

// prepared is one listed object on its way to the consumer.
type prepared struct {
	obj    types.Object
	weight int64 // prefetch bytes it holds until handed over
	done   chan struct{}
	entry  archive.Entry
	ok     bool
	err    error
}

// List calls fn for every object after `after`, in key order. Behind it, a
// lister walks the pages, a few workers describe (and, for small objects,
// download) the next objects in parallel, and fn sees them in order. At most
// opt.prefetch objects and opt.prefetchBytes of prefetched bodies wait at
// any time: the window is claimed in order by the lister and given back as
// fn takes each entry, so it cannot deadlock.
func (s *Source) List(ctx context.Context, after string, fn func(archive.Entry) error) error {
	g, ctx := errgroup.WithContext(ctx)
	ordered := make(chan *prepared, s.opt.prefetch)
	work := make(chan *prepared)
	window := semaphore.NewWeighted(s.opt.prefetchBytes)

	g.Go(func() error {
		defer close(ordered)
		defer close(work)
		return s.pages(ctx, after, func(objs []types.Object) error {
			for _, o := range objs {
				p := &prepared{obj: o, done: make(chan struct{})}
				if size := aws.ToInt64(o.Size); size <= s.opt.smallObject {
					p.weight = size
				}
				if err := window.Acquire(ctx, p.weight); err != nil {
					return err
				}
				select {
				case ordered <- p:
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case work <- p:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	})
	for range s.opt.workers {
		g.Go(func() error {
			for p := range work {
				p.entry, p.ok, p.err = s.describe(ctx, p.obj)
				close(p.done)
			}
			return nil
		})
	}
	g.Go(func() error {
		for p := range ordered {
			select {
			case <-p.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if p.err != nil {
				return p.err
			}
			if !p.ok {
				s.log.Warn(fmt.Sprintf("%s was deleted after it was listed; it is not in the archive", aws.ToString(p.obj.Key)))
				window.Release(p.weight)
				continue
			}
			err := fn(p.entry)
			window.Release(p.weight)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return g.Wait()
}
