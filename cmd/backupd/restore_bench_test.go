package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backupd/executors/testsupport/peers"
	"backupd/projections"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// TestRestoreThroughput prints restore throughput (through the API and a
// real worker, archive on S3, restored into another bucket) beside Debian's
// `rclone copy` of the same extracted tree to a bucket of the same
// versitygw, in the same run: a bucket of large objects and one of small
// ones. Default sizes keep `go test` quick; BACKUPD_BENCH_FULL=1 runs the
// sizes the README quotes (64 × 16 MiB and 20,000 × 4 KiB).
//
// Figures: "restore" is from the first byte of the archive to the last
// object written (download, gunzip, SHA-256 checks, uploads); "verify" is
// the read-back of every object that follows; "rclone" copies the
// extracted files from local disk (no download, no gunzip, no read-back).
func TestRestoreThroughput(t *testing.T) {
	full := os.Getenv("BACKUPD_BENCH_FULL") != ""
	cases := []struct {
		name  string
		count int
		size  int
	}{
		{"large objects", 8, 16 << 20},
		{"small objects", 2000, 4 << 10},
	}
	if full {
		cases[0].count, cases[1].count = 64, 20000
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			benchmarkRestore(t, c.count, c.size)
		})
	}
}

func benchmarkRestore(t *testing.T, count, size int) {
	s := startStack(t, stackOptions{})
	src, dst, tgt := s.S3.Bucket(t), s.S3.Bucket(t), s.S3.Bucket(t)
	seedParallel(t, s.S3, src, count, size)
	backup := s.completedBackup(s.s3Source(src), s.s3Destination(dst, ""))
	total := float64(count) * float64(size)

	peak := sampleHeap(t)
	started := time.Now()
	id := s.restore(backup.ID, restoreBody{"target": connectionTarget(s.s3Source(tgt)), "prefix": "r/"})
	op := s.requireVerifiedRestore(id, int64(count), 0)
	wall := time.Since(started)
	restore, verify := restorePhases(t, s.logs(id))
	heap := peak()
	require.Equal(t, int64(count), op.Report.Checked)

	mib := func(d time.Duration) float64 { return total / (1 << 20) / d.Seconds() }
	objs := func(d time.Duration) float64 { return float64(count) / d.Seconds() }
	t.Logf("restore of %d × %s (%s, archive %s): restore %.2fs = %.1f MiB/s, %.0f objects/s; verify %.2fs; request to verified %.2fs; Go heap (API, projections and worker in one process): peak live %s, peak in use %s",
		count, humanSize(int64(size)), humanSize(int64(total)), humanSize(backup.Result.ArchiveSize),
		restore.Seconds(), mib(restore), objs(restore), verify.Seconds(), wall.Seconds(), humanSize(int64(heap.live)), humanSize(int64(heap.inUse)))

	rclone, err := exec.LookPath("rclone")
	if err != nil {
		t.Logf("rclone is not installed (apt-get install -y rclone): no baseline in this run")
		return
	}
	dir := extractArchiveToDisk(t, s.S3, backup.Result.ArchiveLocation)
	conf := rcloneConfig(t, s.S3)
	base := s.S3.Bucket(t)
	cmd := exec.Command(rclone, "--config", conf, "copy", filepath.Join(dir, src), "vgw:"+base+"/r")
	cmd.Env = withoutEnv(os.Environ(), "AWS_CA_BUNDLE")
	began := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(began)
	require.NoError(t, err, "rclone copy: %s", out)
	require.Len(t, listKeys(t, s.S3, base, "r/"), count, "rclone copied every object")
	t.Logf("rclone copy of the extracted tree (%d × %s from local disk): %.2fs = %.1f MiB/s, %.0f objects/s; restore/rclone speed ratio %.2f×",
		count, humanSize(int64(size)), took.Seconds(), mib(took), objs(took), took.Seconds()/restore.Seconds())
}

// restorePhases reads the restore's own log: from the first archive byte to
// the last object written, and the verification after it.
func restorePhases(t *testing.T, lines []projections.LogLine) (restore, verify time.Duration) {
	t.Helper()
	var start, restored, verified time.Time
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l.Message, "downloading and unpacking the archive"):
			start = l.At
		case strings.HasPrefix(l.Message, "all ") && strings.Contains(l.Message, " are restored ("):
			restored = l.At
		case strings.HasPrefix(l.Message, "restore completed and verified"):
			verified = l.At
		}
	}
	require.False(t, start.IsZero() || restored.IsZero() || verified.IsZero(), "the log names each phase")
	return restored.Sub(start), verified.Sub(restored)
}

// seedParallel fills a bucket with count random objects of size bytes.
func seedParallel(t *testing.T, p peers.S3Peer, bucket string, count, size int) {
	t.Helper()
	c := p.Client()
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(max(1, min(16, (128<<20)/size)))
	for i := 0; i < count; i++ {
		g.Go(func() error {
			_, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("obj/%05d.bin", i)),
				Body: bytes.NewReader(randomBytes(size)), ContentType: aws.String("application/octet-stream")})
			return err
		})
	}
	require.NoError(t, g.Wait())
}

func listKeys(t *testing.T, p peers.S3Peer, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	pager := awss3.NewListObjectsV2Paginator(p.Client(), &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(context.Background())
		require.NoError(t, err)
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// extractArchiveToDisk streams the archive to a file and unpacks it with
// GNU tar: the tree an administrator would copy back by hand.
func extractArchiveToDisk(t *testing.T, p peers.S3Peer, loc string) string {
	t.Helper()
	bucket, key := splitLocation(t, loc)
	got, err := p.Client().GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	defer got.Body.Close()
	file := filepath.Join(t.TempDir(), "archive.tar.gz")
	f, err := os.Create(file)
	require.NoError(t, err)
	_, err = io.Copy(f, got.Body)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	dir := t.TempDir()
	out, err := exec.Command("tar", "-C", dir, "-xzf", file).CombinedOutput()
	require.NoError(t, err, "tar: %s", out)
	require.NoError(t, os.Remove(file))
	require.NoError(t, os.Remove(filepath.Join(dir, "backupd-manifest.json")))
	return dir
}

// rcloneConfig writes the remote of ../shared/README.md for the peer.
func rcloneConfig(t *testing.T, p peers.S3Peer) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rclone.conf")
	conf := fmt.Sprintf("[vgw]\ntype = s3\nprovider = Other\naccess_key_id = %s\nsecret_access_key = %s\nendpoint = %s\nregion = %s\nforce_path_style = true\n",
		p.AccessKey, p.SecretKey, p.Endpoint, p.Region)
	require.NoError(t, os.WriteFile(file, []byte(conf), 0o600))
	return file
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, name+"=") {
			out = append(out, e)
		}
	}
	return out
}

// heapPeaks are the restore's memory figures: the largest live heap a
// garbage collection found, and the largest heap in use (live plus garbage
// not yet collected: GOGC's slack).
type heapPeaks struct{ live, inUse uint64 }

// sampleHeap collects what the seeding left, then samples the Go heap
// until the returned function is called, which answers the peaks.
func sampleHeap(t *testing.T) func() heapPeaks {
	runtime.GC()
	var live, inUse atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var m runtime.MemStats
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > live.Load() {
				live.Store(v)
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > inUse.Load() {
				inUse.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { close(done); <-stopped }) }
	t.Cleanup(stop)
	return func() heapPeaks {
		stop()
		return heapPeaks{live: live.Load(), inUse: inUse.Load()}
	}
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
