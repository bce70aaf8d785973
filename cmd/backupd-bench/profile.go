package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profileRun runs one more backup of d under `perf record` attached to the
// worker, versitygw, esdb-emulator and the API process (the measured runs
// stay free of its overhead), and keeps the hottest functions per process
// for the report. The profile files stay in --profile for `perf report`.
func (b *bench) profileRun(ctx context.Context, d dataset, t backupdTarget) error {
	if err := os.MkdirAll(b.cfg.profile, 0o755); err != nil {
		return err
	}
	procs := map[string]int{
		"worker":        b.product.worker.pid(),
		"serve":         b.product.serve.pid(),
		"versitygw":     b.peers.procs["versitygw"].pid(),
		"esdb-emulator": b.peers.procs["esdb"].pid(),
	}
	var pids []string
	names := map[int]string{}
	for name, pid := range procs {
		pids = append(pids, strconv.Itoa(pid))
		names[pid] = name
	}
	data := filepath.Join(b.cfg.profile, d.bucket+".perf.data")
	perf := exec.Command("perf", "record", "-e", "cpu-clock", "-F", "499", "-g", "-p", strings.Join(pids, ","), "-o", data)
	perfLog := &limitedBuffer{max: 16 << 10}
	perf.Stdout, perf.Stderr = perfLog, perfLog
	if err := perf.Start(); err != nil {
		return fmt.Errorf("perf record: %w", err)
	}
	time.Sleep(time.Second) // perf attaches
	before := map[string]time.Duration{}
	for name, pid := range procs {
		before[name], _ = cpuTime(pid)
	}
	m, runErr := b.runBackupd(ctx, d, t)
	cpu := map[string]time.Duration{}
	for name, pid := range procs {
		after, _ := cpuTime(pid)
		cpu[name] = after - before[name]
	}
	_ = perf.Process.Signal(syscall.SIGINT)
	_ = perf.Wait()
	if runErr != nil {
		return runErr
	}
	var blk strings.Builder
	fmt.Fprintf(&blk, "CPU profile (perf, cpu-clock 499 Hz) of one extra backupd run on %s: wall %.1f s (under perf)\n", d.label, m.wall.Seconds())
	fmt.Fprintf(&blk, "CPU seconds in that run: worker %.1f, versitygw %.1f, esdb-emulator %.1f, serve %.1f\n",
		cpu["worker"].Seconds(), cpu["versitygw"].Seconds(), cpu["esdb-emulator"].Seconds(), cpu["serve"].Seconds())
	for pid, name := range names {
		if name != "worker" && name != "versitygw" {
			continue
		}
		top, err := perfTop(data, pid, 22)
		if err != nil {
			fmt.Fprintf(&blk, "%s: perf report failed: %v\n", name, err)
			continue
		}
		fmt.Fprintf(&blk, "\nhottest functions of %s (pid %d; %s of its samples in the kernel), share of its own samples, self time:\n%s",
			name, pid, perfKernelShare(data, pid), top)
		if name == "worker" {
			if inc, err := perfInclusive(data, pid, 24); err == nil {
				fmt.Fprintf(&blk, "\nwhere the worker's time goes (share of its samples, children included):\n%s", inc)
			}
		}
	}
	fmt.Fprintf(&blk, "\n(perf data: %s; perf report -i FILE --no-children --sort sym)", data)
	b.profiles = append(b.profiles, blk.String())
	progress("profiled %s: %s", d.label, m.summary())
	return nil
}

// perfTop is the n hottest symbols of one process by self time.
func perfTop(data string, pid, n int) (string, error) {
	out, err := exec.Command("perf", "report", "-i", data, "--stdio", "--no-children", "--pid", strconv.Itoa(pid), "--percentage", "relative",
		"--sort", "dso,sym", "-g", "none", "--percent-limit", "0.5").Output()
	if err != nil {
		return "", err
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, "  "+strings.TrimSpace(l))
		if len(lines) == n {
			break
		}
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// inclusiveFrames say where a worker's time goes, children included.
var inclusiveFrames = []struct{ frame, meaning string }{
	{"archive.compressBlocks", "gzip compression (parallel members)"},
	{"sha256.(*Digest).Write", "SHA-256 (per object and of the archive)"},
	{"archive.(*tarWriter).run", "tar writer (reads the source bodies)"},
	{"s3.(*Source).fetchSmall", "GET of small objects (prefetch)"},
	{"s3.(*Source).Estimate", "the listing pass that sizes the archive"},
	{"s3.(*Source).pages", "all listing (ListObjectsV2)"},
	{"s3.uploadPart", "UploadPart requests"},
	{"s3.(*Client).invokeOperation", "every AWS SDK call (middleware, signing, HTTP)"},
	{"runtime.gcBgMarkWorker", "garbage collector (background marking)"},
	{"runtime.mallocgc", "allocation"},
	{"eventstore.(*Store)", "EventStoreDB reads and appends"},
}

// perfInclusive lists inclusiveFrames with their share of the process's
// samples, children included.
func perfInclusive(data string, pid, _ int) (string, error) {
	out, err := exec.Command("perf", "report", "-i", data, "--stdio", "--children", "--pid", strconv.Itoa(pid), "--percentage", "relative",
		"--sort", "sym", "-g", "none", "--percent-limit", "0.3").Output()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, f := range inclusiveFrames {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "#") || !strings.Contains(l, f.frame) {
				continue
			}
			if fields := strings.Fields(l); len(fields) > 0 {
				fmt.Fprintf(&b, "  %7s  %-42s %s\n", fields[0], f.meaning, f.frame)
			}
			break
		}
	}
	return b.String(), nil
}

// perfKernelShare is the share of a process's samples spent in the kernel
// (the sum of its [k] symbols).
func perfKernelShare(data string, pid int) string {
	out, err := exec.Command("perf", "report", "-i", data, "--stdio", "--no-children", "--pid", strconv.Itoa(pid), "--percentage", "relative",
		"--sort", "sym", "-g", "none").Output()
	if err != nil {
		return "?"
	}
	var sum float64
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == "[k]" {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
			sum += v
		}
	}
	return fmt.Sprintf("%.0f%%", sum)
}
