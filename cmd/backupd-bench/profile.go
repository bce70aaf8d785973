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
		fmt.Fprintf(&blk, "\nhottest functions of %s (pid %d), share of its own samples, self time:\n%s", name, pid, top)
		if name == "worker" {
			if inc, err := perfInclusive(data, pid, 24); err == nil {
				fmt.Fprintf(&blk, "\nwhere the worker's time goes, inclusive (its own code, the SDK calls, GC):\n%s", inc)
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

// inclusiveFrames are the frames that say where a worker's time goes.
var inclusiveFrames = []string{"backupd/", "(*Client).invokeOperation", "runtime.gcBgMarkWorker",
	"runtime.mallocgc", "sha256.(*Digest).Write", "compress/gzip.(*Writer).Write", "crc32.Update"}

// perfInclusive lists the n heaviest frames of interest, children included.
func perfInclusive(data string, pid, n int) (string, error) {
	out, err := exec.Command("perf", "report", "-i", data, "--stdio", "--children", "--pid", strconv.Itoa(pid), "--percentage", "relative",
		"--sort", "sym", "-g", "none", "--percent-limit", "2").Output()
	if err != nil {
		return "", err
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		for _, f := range inclusiveFrames {
			if strings.Contains(l, f) {
				lines = append(lines, "  "+strings.TrimSpace(l))
				break
			}
		}
		if len(lines) == n {
			break
		}
	}
	return strings.Join(lines, "\n") + "\n", nil
}
