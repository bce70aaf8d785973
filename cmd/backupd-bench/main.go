// Command backupd-bench measures the real backupd (`backupd serve
// --no-worker` and a separate `backupd worker`, driven through the HTTP API)
// against the pipeline an administrator would script by hand (rclone copy
// + tar | gzip | rclone rcat) on the same private versitygw, and takes
// issue 4's pause/resume figures behind a byte-counting proxy. It starts
// its own peers (esdb-emulator, versitygw, drive-emulator) and a fresh
// Postgres database, prints a plain-text report and writes it as Markdown
// with --out. `.ci/bench` (make bench) builds and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type config struct {
	backupd, shared, pgRoot, rclone string
	state, out, profile             string
	runs                            int
	largeCount, smallCount          int
	largeSize, smallSize            int64
	content                         string
	skipBaseline, skipPause         bool
	skipDrive, keep                 bool
	timeout                         time.Duration
}

type bench struct {
	cfg        config
	peers      *peers
	product    *product
	s3         *s3.Client
	rcloneConf string
	timeBin    string // /usr/bin/time, "" when missing
	timedSeq   atomic.Int64
	env        envInfo
	seeded     []string
	results    []measurement
	pauses     []pauseResult
	profiles   []string
	pauseDests []pauseDest // the destinations the pause figures were taken on
	notes      []string
}

func (b *bench) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.notes = append(b.notes, msg)
	progress("note: %s", msg)
}

// progress goes to stderr so stdout holds only the report.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "backupd-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "backupd-bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var c config
	fl := flag.NewFlagSet("backupd-bench", flag.ContinueOnError)
	fl.StringVar(&c.backupd, "backupd", "bin/backupd", "the backupd binary to measure")
	fl.StringVar(&c.shared, "shared", envOr("BACKUPD_SHARED", "../shared"), "the shared folder with bin/ (peers)")
	fl.StringVar(&c.pgRoot, "pg", envOr("BACKUPD_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"a Postgres server URL; the bench creates and drops its own database there")
	fl.StringVar(&c.rclone, "rclone", "rclone", "the rclone binary of the baseline")
	fl.StringVar(&c.state, "state", "", "work folder (default: a new temporary folder, removed at the end)")
	fl.StringVar(&c.out, "out", "", "also write the report as Markdown to this file")
	fl.StringVar(&c.profile, "profile", "", "record a CPU profile (perf) of the worker and the peers during one extra run per data set into this folder, then count the source's requests and the worker's Go heap in one more run each")
	fl.IntVar(&c.runs, "runs", 2, "runs per data set and tool")
	fl.IntVar(&c.largeCount, "large-count", 64, "objects in the large data set")
	fl.Int64Var(&c.largeSize, "large-size", 16<<20, "bytes per object of the large data set")
	fl.IntVar(&c.smallCount, "small-count", 20000, "objects in the small data set")
	fl.Int64Var(&c.smallSize, "small-size", 4<<10, "bytes per object of the small data set")
	fl.StringVar(&c.content, "content", "mixed", "object content: mixed (half random, half log-like text) or random (incompressible)")
	fl.BoolVar(&c.skipBaseline, "skip-baseline", false, "do not run the rclone pipeline")
	fl.BoolVar(&c.skipPause, "skip-pause", false, "do not take the pause/resume figures")
	fl.BoolVar(&c.skipDrive, "skip-drive", false, "do not take the Google Drive pause/resume figures")
	fl.BoolVar(&c.keep, "keep", false, "keep the work folder (logs of every process)")
	fl.DurationVar(&c.timeout, "timeout", 30*time.Minute, "longest wait for one operation")
	if err := fl.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.runs < 1:
		return c, fmt.Errorf("--runs must be at least 1")
	case c.content != "mixed" && c.content != "random":
		return c, fmt.Errorf("--content must be mixed or random, not %q", c.content)
	case c.largeCount < 1 || c.smallCount < 1 || c.largeSize < 1 || c.smallSize < 1:
		return c, fmt.Errorf("data set sizes must be positive")
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, cfg config) error {
	var err error
	if cfg.backupd, err = filepath.Abs(cfg.backupd); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.backupd); err != nil {
		return fmt.Errorf("the backupd binary: %w (build it: go build -o bin/backupd ./cmd/backupd)", err)
	}
	if cfg.state == "" {
		if cfg.state, err = os.MkdirTemp("", "backupd-bench-"); err != nil {
			return err
		}
		if !cfg.keep {
			defer os.RemoveAll(cfg.state)
		}
	}
	b := &bench{cfg: cfg, env: collectEnv(cfg)}
	if path, err := exec.LookPath("/usr/bin/time"); err == nil {
		b.timeBin = path
	} else {
		b.note("/usr/bin/time is not installed (apt-get install -y time): the pipeline's peak RSS is VmRSS sampled every 50 ms")
	}
	progress("nproc %d, load average %s; work folder %s", b.env.nproc, b.env.loadStart, cfg.state)

	if b.peers, err = startPeers(ctx, cfg.state, filepath.Join(cfg.shared, "bin"), cfg.pgRoot); err != nil {
		return err
	}
	defer b.peers.stop()
	b.s3 = b.peers.s3.client()
	driveProxy, err := startCountingProxy(b.peers.drive)
	if err != nil {
		return err
	}
	defer driveProxy.close()
	s3Proxy, err := startCountingProxy(b.peers.s3.Endpoint)
	if err != nil {
		return err
	}
	defer s3Proxy.close()
	if b.product, err = startProduct(ctx, cfg.backupd, cfg.state, b.peers, driveProxy.URL); err != nil {
		return err
	}
	defer b.product.stop()

	if err := b.measure(ctx, s3Proxy, driveProxy); err != nil {
		b.env.loadEnd = loadAverage()
		b.printReport() // whatever was measured before the failure
		return err
	}
	b.env.loadEnd = loadAverage()
	return b.printReport()
}

func (b *bench) measure(ctx context.Context, s3Proxy, driveProxy *countingProxy) error {
	large := dataset{label: fmt.Sprintf("%d x %s (%s)", b.cfg.largeCount, human(b.cfg.largeSize), human(int64(b.cfg.largeCount)*b.cfg.largeSize)),
		bucket: "bench-large", count: b.cfg.largeCount, size: b.cfg.largeSize, content: b.cfg.content}
	small := dataset{label: fmt.Sprintf("%d x %s (%s)", b.cfg.smallCount, human(b.cfg.smallSize), human(int64(b.cfg.smallCount)*b.cfg.smallSize)),
		bucket: "bench-small", count: b.cfg.smallCount, size: b.cfg.smallSize, content: b.cfg.content}
	for _, d := range []dataset{large, small} {
		took, err := seed(ctx, b.s3, d, 16)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("seeded %s in %s (%.0f objects/s)", d.label, took.Round(time.Millisecond), float64(d.count)/took.Seconds())
		b.seeded = append(b.seeded, line)
		progress("%s", line)
	}
	for _, bucket := range []string{"bench-archives", "bench-rclone", "bench-pause"} {
		if _, err := b.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
			return fmt.Errorf("create bucket %s: %w", bucket, err)
		}
	}
	api := b.product.api
	dst, err := api.s3Connection(ctx, "s3_destination", "bench archives", b.peers.s3, "bench-archives")
	if err != nil {
		return err
	}
	var err1, err2 error
	var srcLarge, srcSmall string
	srcLarge, err1 = api.s3Connection(ctx, "s3_source", "bench large", b.peers.s3, large.bucket)
	srcSmall, err2 = api.s3Connection(ctx, "s3_source", "bench small", b.peers.s3, small.bucket)
	if err := joinErr(err1, err2); err != nil {
		return err
	}
	if b.cfg.content == "mixed" {
		b.note("content \"mixed\": 64 KiB blocks alternate between random bytes and log-like text (gzip -6 makes it about 60%% of its size)")
	}

	if rc, err := b.writeRcloneConfig(); err != nil {
		return err
	} else {
		b.rcloneConf = rc
	}
	for _, set := range []struct {
		d   dataset
		src string
	}{{large, srcLarge}, {small, srcSmall}} {
		if err := b.product.startWorker(); err != nil {
			return err
		}
		for i := 1; i <= b.cfg.runs; i++ {
			m, err := b.runBackupd(ctx, set.d, backupdTarget{source: set.src, destination: dst, destBucket: "bench-archives"})
			if err != nil {
				return fmt.Errorf("backupd on %s: %w", set.d.label, err)
			}
			b.results = append(b.results, m)
			progress("run %d %-24s %-24s %s", i, set.d.label, m.tool, m.summary())
			if b.cfg.skipBaseline {
				continue
			}
			m, err = b.runPipeline(ctx, set.d, "bench-rclone")
			if err != nil {
				return fmt.Errorf("pipeline on %s: %w", set.d.label, err)
			}
			b.results = append(b.results, m)
			progress("run %d %-24s %-24s %s", i, set.d.label, m.tool, m.summary())
		}
		if b.cfg.profile != "" {
			if err := b.profileRun(ctx, set.d, backupdTarget{source: set.src, destination: dst, destBucket: "bench-archives"}); err != nil {
				b.note("profile of %s failed: %v", set.d.label, err)
			}
		}
	}
	if !b.cfg.skipPause {
		if err := b.measurePauses(ctx, large, srcLarge, s3Proxy, driveProxy); err != nil {
			return err
		}
	}
	if b.cfg.profile != "" {
		return b.diagnose(ctx, []dataset{large, small}, []string{srcLarge, srcSmall}, dst, map[string]*countingProxy{"s3": s3Proxy, "drive": driveProxy})
	}
	return nil
}

func (b *bench) measurePauses(ctx context.Context, large dataset, srcLarge string, s3Proxy, driveProxy *countingProxy) error {
	expect := b.medianArchive(large)
	if err := b.product.startWorker(); err != nil {
		return err
	}
	proxied := b.peers.s3
	proxied.Endpoint = s3Proxy.URL
	dst, err := b.product.api.s3Connection(ctx, "s3_destination", "bench pause (counted)", proxied, "bench-pause")
	if err != nil {
		return err
	}
	progress("pause/resume to S3 on %s", large.label)
	r, op, calls, err := b.pauseResume(ctx, backupdTarget{source: srcLarge, destination: dst}, s3Proxy, expect, "S3 (versitygw)")
	if err != nil {
		return fmt.Errorf("pause/resume to S3: %w", err)
	}
	if err := countS3(&r, op, calls); err != nil {
		return err
	}
	if err := b.checkS3Archive(ctx, op.Result.ArchiveLocation, r.archiveSize); err != nil {
		return err
	}
	b.pauses = append(b.pauses, r)
	b.pauseDests = append(b.pauseDests, pauseDest{name: r.destination, connection: dst, proxy: "s3"})
	progress("pause took %s; re-sent %d bytes", r.latency.Round(time.Millisecond), r.resent())
	if b.cfg.skipDrive {
		return nil
	}
	return b.measureDrivePause(ctx, large, srcLarge, expect, driveProxy)
}

func joinErr(errs ...error) error {
	var msgs []string
	for _, e := range errs {
		if e != nil {
			msgs = append(msgs, e.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// pauseDest is a destination behind a counting proxy.
type pauseDest struct {
	name, connection string
	proxy            string // "s3" or "drive"
}
