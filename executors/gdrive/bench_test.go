package gdrive_test

import (
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"backupd/executors/testsupport/peers"
)

// BenchmarkUpload streams 256 MiB through a resumable session (default
// 16 MiB chunks) and then back through Open, printing throughput and the
// peak Go heap, which must stay near two chunks whatever the size.
//
//	go test ./executors/gdrive -run '^$' -bench Upload -benchtime 1x
func BenchmarkUpload(b *testing.B) {
	p := peers.Drive(b)
	f := newFixture(b, p)
	d := f.destination(b, 0, 0)
	const size = 256 << 20
	piece := randomData(1<<20, 9)
	ctx := peers.Context(b)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		peak := sampleHeap()
		start := time.Now()
		up, err := d.StartUpload(ctx, "bench.tar.gz", 0, nil)
		require.NoError(b, err)
		for off := 0; off < size; off += len(piece) {
			_, err := up.Write(piece)
			require.NoError(b, err)
			up.Mark(off)
		}
		loc, err := up.Complete(ctx)
		require.NoError(b, err)
		upTime := time.Since(start)
		start = time.Now()
		rd, err := d.Open(ctx, loc, 0)
		require.NoError(b, err)
		n, err := io.Copy(io.Discard, rd)
		require.NoError(b, err)
		require.EqualValues(b, size, n)
		downTime := time.Since(start)
		heap := peak()
		b.ReportMetric(float64(size)/(1<<20)/upTime.Seconds(), "upload-MiB/s")
		b.ReportMetric(float64(size)/(1<<20)/downTime.Seconds(), "download-MiB/s")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
		b.Logf("256 MiB: upload %.0f MiB/s, download %.0f MiB/s, peak heap %.1f MiB",
			float64(size)/(1<<20)/upTime.Seconds(), float64(size)/(1<<20)/downTime.Seconds(), float64(heap)/(1<<20))
		require.NoError(b, d.Delete(ctx, loc))
	}
}

// sampleHeap watches HeapInuse until the returned function is called.
func sampleHeap() func() uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(stop); <-done; return peak.Load() }
}
