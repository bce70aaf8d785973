package archive

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// slowSource gives every Open a latency, like a GET, and tracks how many
// are in flight.
type slowSource struct {
	*fakeSource
	latency  time.Duration
	inFlight atomic.Int64
	maxSeen  atomic.Int64
}

func (s *slowSource) List(ctx context.Context, after string, fn func(Entry) error) error {
	return s.fakeSource.List(ctx, after, func(e Entry) error {
		open := e.Open
		e.Open = func(ctx context.Context, off int64) (io.ReadCloser, error) {
			n := s.inFlight.Add(1)
			for {
				m := s.maxSeen.Load()
				if n <= m || s.maxSeen.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(s.latency)
			rc, err := open(ctx, off)
			return &doneCloser{ReadCloser: rc, done: func() { s.inFlight.Add(-1) }}, err
		}
		return fn(e)
	})
}

type doneCloser struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (d *doneCloser) Close() error {
	d.once.Do(d.done)
	return d.ReadCloser.Close()
}

func TestPrefetchOverlapsBoundedByCount(t *testing.T) {
	t.Parallel()
	src := &slowSource{fakeSource: newFakeSource(objectsOf(300, 2<<10, 1)...), latency: 3 * time.Millisecond}
	rig := newRig(src.fakeSource, 64<<10)
	p := rig.params()
	p.Source = src
	p.PrefetchEntries = 8
	p.PrefetchBytes = 1 << 20
	out := mustComplete(t, p)
	require.Equal(t, int64(300), out.Result.ObjectCount)
	t.Logf("at most %d opens at once", src.maxSeen.Load())
	require.Greater(t, src.maxSeen.Load(), int64(2), "small objects are fetched concurrently")
	require.LessOrEqual(t, src.maxSeen.Load(), int64(p.PrefetchEntries+2), "read-ahead is bounded by the entry count")
	require.Equal(t, src.listed.Load(), src.released.Load(), "every entry released")
}

func TestPrefetchBoundedByBytes(t *testing.T) {
	t.Parallel()
	// 100 KiB objects take 128 KiB buffers: a 1 MiB budget holds 8.
	src := &slowSource{fakeSource: newFakeSource(objectsOf(60, 100<<10, 2)...), latency: 3 * time.Millisecond}
	rig := newRig(src.fakeSource, 64<<10)
	p := rig.params()
	p.Source = src
	p.PrefetchEntries = 64
	p.PrefetchBytes = 1 << 20
	mustComplete(t, p)
	t.Logf("at most %d opens at once", src.maxSeen.Load())
	require.Greater(t, src.maxSeen.Load(), int64(2))
	require.LessOrEqual(t, src.maxSeen.Load(), int64(8)+1, "read-ahead is bounded by the byte budget")
}

func TestProgressSnapshots(t *testing.T) {
	t.Parallel()
	objs := pauseObjects()
	rig := pauseRig(objs)
	var snaps []Snapshot
	p := rig.params()
	p.Progress = func(s Snapshot) { snaps = append(snaps, s) }
	out := mustComplete(t, p)
	require.Greater(t, len(snaps), 10)
	for i := 1; i < len(snaps); i++ {
		require.GreaterOrEqual(t, snaps[i].EntriesDone, snaps[i-1].EntriesDone)
		require.GreaterOrEqual(t, snaps[i].BytesDone, snaps[i-1].BytesDone)
		require.GreaterOrEqual(t, snaps[i].CompressedBytes, snaps[i-1].CompressedBytes)
	}
	last := snaps[len(snaps)-1]
	require.Equal(t, "finishing", last.Phase)
	require.Equal(t, int64(len(objs)), last.EntriesDone)
	require.Equal(t, int64(len(objs)), last.EntriesTotal)
	require.Equal(t, out.Result.TotalBytes, last.BytesDone)
	require.Equal(t, out.Result.TotalBytes, last.BytesTotal)
	require.Equal(t, out.Result.ArchiveSize, last.CompressedBytes)
	require.Equal(t, "archiving", snaps[0].Phase)
}
