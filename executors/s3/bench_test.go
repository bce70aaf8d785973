package s3

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"backupd/executors/archive"
	"backupd/executors/testsupport/peers"
)

// Benchmarks against the shared versitygw on loopback; they print MiB/s,
// objects/s and the Go heap's high-water mark (sampled), not asserts.
//
//	go test ./executors/s3/ -run '^$' -bench . -benchtime 1x

func benchFixture(b *testing.B) (peers.S3Peer, string, Config) {
	p := peers.S3(b)
	bucket := p.Bucket(b)
	return p, bucket, Config{AccessKeyID: p.AccessKey, SecretAccessKey: p.SecretKey, Region: p.Region, Bucket: bucket, Endpoint: p.Endpoint, PathStyle: true}
}

func BenchmarkUpload(b *testing.B) {
	_, _, cfg := benchFixture(b)
	const size = 512 * mib
	chunk := randomBytes(77, 4*mib) // incompressible, like gzip output
	dest := NewDestination(cfg, slog.New(slog.DiscardHandler))
	heap := watchHeap(b)
	b.SetBytes(size)
	b.ResetTimer()
	for i := range b.N {
		u, err := dest.StartUpload(context.Background(), fmt.Sprintf("bench-%d", i), size, nil)
		if err != nil {
			b.Fatal(err)
		}
		for pos := 0; pos < size; pos += len(chunk) {
			for off := 0; off < len(chunk); off += 256 << 10 { // gzip-member-sized writes and marks
				if _, err := u.Write(chunk[off : off+256<<10]); err != nil {
					b.Fatal(err)
				}
				u.Mark(int64(pos + off))
			}
		}
		if _, err := u.Complete(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.Logf("upload of %d MiB: %.0f MiB/s, peak Go heap %d MiB (part size %d MiB)",
		size/mib, float64(size)*float64(b.N)/mib/b.Elapsed().Seconds(), heap()/mib, PartSizeFor(size)/mib)
}

func BenchmarkSourceSmallObjects(b *testing.B) {
	benchSource(b, 4000, 4<<10)
}

func BenchmarkSourceLargeObjects(b *testing.B) {
	benchSource(b, 16, 16*mib)
}

func benchSource(b *testing.B, count, size int) {
	p, bucket, cfg := benchFixture(b)
	f := &fixture{peer: p, bucket: bucket, client: p.Client()}
	body := randomBytes(78, size)
	fill(b, f, count, body)
	src := NewSource(cfg, slog.New(slog.DiscardHandler))
	heap := watchHeap(b)
	b.SetBytes(int64(count * size))
	b.ResetTimer()
	for range b.N {
		n := 0
		err := src.List(context.Background(), "", func(e archive.Entry) error {
			r, err := e.Open(context.Background(), 0)
			if err != nil {
				return err
			}
			defer r.Close()
			if _, err := io.Copy(io.Discard, r); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if n != count {
			b.Fatalf("listed %d of %d", n, count)
		}
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.Logf("source read of %d × %d KiB: %.0f objects/s, %.0f MiB/s, peak Go heap %d MiB",
		count, size>>10, float64(count*b.N)/secs, float64(count*size*b.N)/mib/secs, heap()/mib)
}

// fill puts count copies of body, 8 at a time.
func fill(b *testing.B, f *fixture, count int, body []byte) {
	sem := make(chan struct{}, 8)
	errs := make(chan error, count)
	for i := range count {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- putSmall(context.Background(), f.client, f.bucket, fmt.Sprintf("obj/%06d", i), "", nil, body)
		}()
	}
	for range count {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}

// watchHeap samples the Go heap every 20 ms until the benchmark ends and
// returns a function giving the highest value seen.
func watchHeap(b *testing.B) func() uint64 {
	runtime.GC()
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	var once bool
	return func() uint64 {
		if !once {
			close(stop)
			<-done
			once = true
		}
		return peak
	}
}
