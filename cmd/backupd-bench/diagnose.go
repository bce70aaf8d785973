package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// diagnose runs one more backup of each data set with the S3 source behind
// the counting proxy and the worker started with GODEBUG=gctrace=1, to
// explain the figures: requests and TCP connections per object, and the Go
// heap behind the worker's RSS. Its wall times are not benchmark figures.
func (b *bench) diagnose(ctx context.Context, sets []dataset, directSources []string, dst string, proxies map[string]*countingProxy) error {
	proxy := proxies["s3"]
	if err := b.product.startWorker(); err != nil {
		return err
	}
	proxied := b.peers.s3
	proxied.Endpoint = proxy.URL
	var blk strings.Builder
	fmt.Fprintf(&blk, "diagnostics: one more backup per data set, source behind the counting proxy, worker's Go heap from GODEBUG=gctrace=1\n")
	for _, d := range sets {
		src, err := b.product.api.s3Connection(ctx, "s3_source", "diagnose "+d.bucket, proxied, d.bucket)
		if err != nil {
			return err
		}
		logOffset := fileSize(b.product.worker.log)
		proxy.reset()
		m, err := b.runBackupd(ctx, d, backupdTarget{source: src, destination: dst, destBucket: "bench-archives"})
		if err != nil {
			return err
		}
		calls := proxy.snapshot()
		byKind := map[string]int{}
		for _, c := range calls {
			byKind[requestKind(c)]++
		}
		fmt.Fprintf(&blk, "\n%s: wall %.1f s (through the proxy), worker peak RSS %s (largest sample: %s anonymous + %s file-backed)\n",
			d.label, m.wall.Seconds(), kib(m.peakRSSKiB), kib(m.sampledAnon), kib(m.sampledFile))
		fmt.Fprintf(&blk, "  source requests: %s; %.2f requests per object; %d TCP connections opened by the worker\n",
			kinds(byKind), float64(len(calls))/float64(d.count), proxy.conns.Load())
		if g, err := gcStats(b.product.worker.log, logOffset); err == nil {
			fmt.Fprintf(&blk, "  Go heap (gctrace): %d GCs, live heap after GC up to %d MB, heap at GC start up to %d MB, heap goal up to %d MB\n",
				g.cycles, g.maxLive, g.maxStart, g.maxGoal)
		}
	}
	if err := b.withMemoryLimit(ctx, &blk, sets, directSources, dst, proxies); err != nil {
		return err
	}
	b.profiles = append(b.profiles, blk.String())
	return nil
}

// withMemoryLimit repeats what made the worker's RSS highest, in one
// worker process started with a soft memory limit for the Go runtime
// (GOMEMLIMIT, an environment variable: no code change): two large backups
// in a row, the small one, and the pause/resume runs. It shows how much of
// the peak is the collector's headroom and what the limit costs in CPU.
func (b *bench) withMemoryLimit(ctx context.Context, blk *strings.Builder, sets []dataset, sources []string, dst string, proxies map[string]*countingProxy) error {
	if err := b.product.startWorker("GOMEMLIMIT=" + memLimit); err != nil {
		return err
	}
	fmt.Fprintf(blk, "\nwith GOMEMLIMIT=%s (a soft limit the Go collector keeps the heap under), one worker process for all of these, source direct:\n", memLimit)
	for _, i := range []int{0, 0, 1} {
		d := sets[i]
		logOffset := fileSize(b.product.worker.log)
		m, err := b.runBackupd(ctx, d, backupdTarget{source: sources[i], destination: dst, destBucket: "bench-archives"})
		if err != nil {
			return err
		}
		fmt.Fprintf(blk, "  %s: wall %.1f s, worker CPU %.1f s, peak RSS %s (largest sample: %s anonymous + %s file-backed)",
			d.label, m.wall.Seconds(), m.cpu.Seconds(), kib(m.peakRSSKiB), kib(m.sampledAnon), kib(m.sampledFile))
		if g, err := gcStats(b.product.worker.log, logOffset); err == nil {
			fmt.Fprintf(blk, "; %d GCs, live heap up to %d MB, heap goal up to %d MB", g.cycles, g.maxLive, g.maxGoal)
		}
		blk.WriteString("\n")
	}
	for _, pd := range b.pauseDests {
		r, _, _, err := b.pauseResume(ctx, backupdTarget{source: sources[0], destination: pd.connection}, proxies[pd.proxy], b.medianArchive(sets[0]), pd.name)
		if err != nil {
			return err
		}
		fmt.Fprintf(blk, "  %s with a pause and resume: pause took %.2f s, whole backup %.1f s, worker peak RSS %s\n",
			pd.name, r.latency.Seconds(), r.wall.Seconds(), kib(r.peakRSSKiB))
	}
	return nil
}

const memLimit = "64MiB"

func requestKind(c proxyCall) string {
	switch {
	case c.Method == http.MethodGet && c.Query.Has("list-type"):
		return "LIST"
	case c.Method == http.MethodHead && strings.Count(strings.Trim(c.Path, "/"), "/") == 0:
		return "HEAD bucket"
	case c.Method == http.MethodGet && c.Query.Has("location"):
		return "GET location"
	}
	return c.Method + " object"
}

func kinds(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

type gcSummary struct {
	cycles                     int
	maxStart, maxLive, maxGoal int
}

var gcLine = regexp.MustCompile(`gc \d+ @.*?(\d+)->(\d+)->(\d+) MB, (\d+) MB goal`)

// gcStats reads the gctrace lines the worker wrote after offset.
func gcStats(path string, offset int64) (gcSummary, error) {
	var g gcSummary
	data, err := os.ReadFile(path)
	if err != nil {
		return g, err
	}
	if offset > int64(len(data)) {
		offset = 0
	}
	for _, m := range gcLine.FindAllSubmatch(data[offset:], -1) {
		start, _ := strconv.Atoi(string(m[1]))
		live, _ := strconv.Atoi(string(m[3]))
		goal, _ := strconv.Atoi(string(m[4]))
		g.cycles++
		g.maxStart, g.maxLive, g.maxGoal = max(g.maxStart, start), max(g.maxLive, live), max(g.maxGoal, goal)
	}
	if g.cycles == 0 {
		return g, fmt.Errorf("no gctrace lines")
	}
	return g, nil
}
