package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// discardDest throws the archive away, counting it; every partSize bytes
// the next mark is reported durable, as S3 would.
type discardDest struct {
	partSize int64
	written  atomic.Int64
}

type discardUpload struct {
	d         *discardDest
	onDurable DurableFunc
	sincePart int64
}

func (d *discardDest) StartUpload(ctx context.Context, name string, hint int64, on DurableFunc) (Upload, error) {
	return &discardUpload{d: d, onDurable: on}, nil
}
func (d *discardDest) ResumeUpload(context.Context, json.RawMessage, DurableFunc) (Upload, error) {
	return nil, fmt.Errorf("not supported")
}
func (d *discardDest) DiscardUpload(context.Context, json.RawMessage) error { return nil }
func (d *discardDest) Put(ctx context.Context, name string, r io.Reader, size int64, ct string) (Location, error) {
	_, err := io.Copy(io.Discard, r)
	return Location("discard://" + name), err
}
func (d *discardDest) Open(context.Context, Location, int64) (io.ReadCloser, error) {
	return nil, fmt.Errorf("not supported")
}
func (d *discardDest) Stat(context.Context, Location) (int64, error) { return 0, nil }
func (d *discardDest) Delete(context.Context, Location) error        { return nil }

func (u *discardUpload) Write(p []byte) (int, error) {
	u.d.written.Add(int64(len(p)))
	u.sincePart += int64(len(p))
	return len(p), nil
}
func (u *discardUpload) Mark(mark any) {
	if u.sincePart >= u.d.partSize {
		u.sincePart = 0
		u.onDurable(mark, json.RawMessage(`{}`))
	}
}
func (u *discardUpload) Suspend(context.Context) (json.RawMessage, error) {
	return json.RawMessage(`{}`), nil
}
func (u *discardUpload) Complete(context.Context) (Location, error) { return "discard://archive", nil }
func (u *discardUpload) Abort(context.Context) error                { return nil }
func (u *discardUpload) Uploaded() int64                            { return u.d.written.Load() }

func objectsOf(count int, size int64, seed uint64) []fakeObject {
	objs := make([]fakeObject, count)
	for i := range objs {
		objs[i] = fakeObject{key: fmt.Sprintf("obj/%06d-%d", i, seed), size: size, seed: seed + uint64(i), resumable: true, compressible: true}
	}
	return objs
}

func throughputParams(src Source, dest Destination) BackupParams {
	return BackupParams{
		Source: src, Destination: dest, Journal: &fakeJournal{},
		Logger:      slog.New(slog.DiscardHandler),
		OperationID: uuid.New(), ArchiveName: "bench.tar.gz",
		Estimate: &Estimate{},
	}
}

func benchmarkBackup(b *testing.B, objs []fakeObject, level int) {
	var total int64
	for _, o := range objs {
		total += o.size
	}
	b.SetBytes(total)
	b.ReportAllocs()
	start, cpuStart := time.Now(), cpuTime()
	var compressed int64
	for range b.N {
		p := throughputParams(newFakeSource(objs...), &discardDest{partSize: 16 << 20})
		p.CompressionLevel = level
		out, err := Backup(context.Background(), p)
		require.NoError(b, err)
		compressed = out.Result.ArchiveSize
	}
	secs, cpu := time.Since(start).Seconds(), (cpuTime() - cpuStart).Seconds()
	b.ReportMetric(float64(len(objs)*b.N)/secs, "objects/s")
	// Throughput per CPU-second does not depend on what else the machine runs.
	b.ReportMetric(float64(total*int64(b.N))/1e6/cpu, "MB/cpu-s")
	b.ReportMetric(float64(total)/float64(compressed), "ratio")
}

// 64 objects of 16 MiB (data 4:1 compressible) at the default level.
func BenchmarkBackupLargeObjects(b *testing.B) {
	benchmarkBackup(b, objectsOf(64, 16<<20, 1), 6)
}

// 20,000 objects of 4 KiB.
func BenchmarkBackupSmallObjects(b *testing.B) {
	benchmarkBackup(b, objectsOf(20000, 4<<10, 7), 6)
}

// TestMemoryStaysFlat runs 2 GiB through the pipeline (large objects
// streamed, 4 MiB ones read ahead) and samples the heap: it must stay flat
// whatever the size, under 64 MiB.
func TestMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 2 GiB")
	}
	objs := append(objectsOf(16, 64<<20, 100), objectsOf(256, 4<<20, 1000)...)
	var total int64
	for _, o := range objs {
		total += o.size
	}
	require.Equal(t, int64(2<<30), total)

	runtime.GC()
	var peakInuse, peakAlloc atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peakInuse.Load() {
					peakInuse.Store(ms.HeapInuse)
				}
				if ms.HeapAlloc > peakAlloc.Load() {
					peakAlloc.Store(ms.HeapAlloc)
				}
			}
		}
	}()
	dest := &discardDest{partSize: 16 << 20}
	p := throughputParams(newFakeSource(objs...), dest)
	p.CompressionLevel = 1
	start := time.Now()
	out, err := Backup(context.Background(), p)
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	require.NoError(t, err)
	require.Equal(t, total, out.Result.TotalBytes)
	require.Equal(t, dest.written.Load(), out.Result.ArchiveSize)
	t.Logf("2 GiB in %s (%.0f MiB/s), %d objects, archive %s; peak heap in use %s, peak heap allocated %s",
		elapsed.Round(time.Millisecond), float64(total)/(1<<20)/elapsed.Seconds(), len(objs),
		HumanBytes(out.Result.ArchiveSize), HumanBytes(int64(peakInuse.Load())), HumanBytes(int64(peakAlloc.Load())))
	require.Less(t, peakInuse.Load(), uint64(64<<20), "heap in use went past 64 MiB")
}

// cpuTime is the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExtract reads a 256 MiB archive (64 × 4 MiB) back, checking
// every entry against the manifest, as a restore does.
func BenchmarkExtract(b *testing.B) {
	objs := objectsOf(64, 4<<20, 3)
	rig := newRig(newFakeSource(objs...), 16<<20)
	p := rig.params()
	p.BlockSize, p.PrefetchBytes, p.CompressionLevel = 1<<20, 32<<20, 6
	out, err := Backup(context.Background(), p)
	require.NoError(b, err)
	archive := rig.dest.file(out.Result.ArchiveName)
	side, err := ReadManifest(bytes.NewReader(rig.dest.file(out.Result.ArchiveName + ".manifest.json")))
	require.NoError(b, err)
	defer side.Close()
	b.SetBytes(out.Result.TotalBytes)
	b.ResetTimer()
	cpuStart := cpuTime()
	for range b.N {
		_, err := Extract(context.Background(), bytes.NewReader(archive), ExtractParams{
			Manifest: side,
			OnEntry: func(ctx context.Context, e ExtractedEntry, content io.Reader) error {
				_, err := io.Copy(io.Discard, content)
				return err
			},
		})
		require.NoError(b, err)
	}
	b.ReportMetric(float64(out.Result.TotalBytes*int64(b.N))/1e6/(cpuTime()-cpuStart).Seconds(), "MB/cpu-s")
}
