package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

func (m measurement) summary() string {
	s := fmt.Sprintf("wall %s, %.1f MiB/s, %.0f obj/s, peak RSS %s, CPU %s, versitygw CPU %s",
		m.wall.Round(time.Millisecond), m.mibPerSec(), m.objPerSec(), kib(m.peakRSSKiB), secs(m.cpu), secs(m.peerCPU))
	if m.inner > 0 {
		s += fmt.Sprintf(", executor %s", m.inner.Round(time.Millisecond))
	}
	return s + ", archive " + human(m.archiveSize)
}

func kib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/1024) }
func secs(d time.Duration) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// group is every run of one tool on one data set.
type group struct {
	data dataset
	tool string
	runs []measurement
}

func (g group) sortedWalls() []time.Duration {
	w := make([]time.Duration, len(g.runs))
	for i, m := range g.runs {
		w[i] = m.wall
	}
	slices.Sort(w)
	return w
}

func (g group) best() time.Duration { return g.sortedWalls()[0] }

// median of the walls (the mean of the middle two for an even count).
func (g group) median() time.Duration {
	w := g.sortedWalls()
	n := len(w)
	if n%2 == 1 {
		return w[n/2]
	}
	return (w[n/2-1] + w[n/2]) / 2
}

func medianDur(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

func (g group) peak() int64 {
	var p int64
	for _, m := range g.runs {
		p = max(p, m.peakRSSKiB)
	}
	return p
}

func (g group) cpu() time.Duration {
	var ds []time.Duration
	for _, m := range g.runs {
		ds = append(ds, m.cpu)
	}
	return medianDur(ds)
}

func (g group) peerCPU() time.Duration {
	var ds []time.Duration
	for _, m := range g.runs {
		ds = append(ds, m.peerCPU)
	}
	return medianDur(ds)
}

func (b *bench) groups() []group {
	var out []group
	for _, m := range b.results {
		i := slices.IndexFunc(out, func(g group) bool { return g.data.bucket == m.data.bucket && g.tool == m.tool })
		if i < 0 {
			out = append(out, group{data: m.data, tool: m.tool})
			i = len(out) - 1
		}
		out[i].runs = append(out[i].runs, m)
	}
	return out
}

func (b *bench) find(bucket, tool string) (group, bool) {
	for _, g := range b.groups() {
		if g.data.bucket == bucket && g.tool == tool {
			return g, true
		}
	}
	return group{}, false
}

func (b *bench) medianArchive(d dataset) int64 {
	g, ok := b.find(d.bucket, "backupd")
	if !ok {
		return 0
	}
	var sizes []int64
	for _, m := range g.runs {
		sizes = append(sizes, m.archiveSize)
	}
	slices.Sort(sizes)
	return sizes[len(sizes)/2]
}

// report is the bench's result as tables and lines, rendered as plain
// text (stdout) and Markdown (--out).
type report struct {
	intro   []string
	header  []string
	rows    [][]string
	runHdr  []string
	runRows [][]string
	summary []string
	pauses  []string
	notes   []string
	blocks  []string // profiles, preformatted
}

func (b *bench) buildReport() report {
	e := b.env
	r := report{}
	r.intro = append(r.intro,
		fmt.Sprintf("machine: %d CPUs (%s); 1-minute load average %s at start, %s at end (shared with other engineers' tests)", e.nproc, e.cpu, e.loadStart, e.loadEnd),
		fmt.Sprintf("backupd %s (serve --no-worker + a separate worker process, driven through the HTTP API); %s; peers: private versitygw, esdb-emulator, drive-emulator, Postgres database", e.backupd, e.rclone),
		fmt.Sprintf("started %s, took %s; %d runs per data set and tool", e.started.UTC().Format(time.RFC3339), time.Since(e.started).Round(time.Second), b.cfg.runs))
	r.intro = append(r.intro, b.seeded...)

	r.header = []string{"dataset", "tool", "wall best", "wall median", "MiB/s best/median", "obj/s best/median", "peak RSS", "CPU (median)", "versitygw CPU", "archive"}
	for _, g := range b.groups() {
		best, med := g.best(), g.median()
		mib := func(d time.Duration) float64 { return float64(g.data.totalBytes()) / (1 << 20) / d.Seconds() }
		obj := func(d time.Duration) float64 { return float64(g.data.count) / d.Seconds() }
		r.rows = append(r.rows, []string{g.data.label, g.tool,
			fmt.Sprintf("%.1f s", best.Seconds()), fmt.Sprintf("%.1f s", med.Seconds()),
			fmt.Sprintf("%.1f / %.1f", mib(best), mib(med)), fmt.Sprintf("%.0f / %.0f", obj(best), obj(med)),
			kib(g.peak()), secs(g.cpu()), secs(g.peerCPU()), human(g.runs[0].archiveSize)})
	}
	r.runHdr = []string{"dataset", "tool", "run", "wall", "executor (started→finished)", "peak RSS (VmHWM / time %M)", "max sampled VmRSS (anon + file)", "Go heap: live / at GC / goal (max)", "CPU", "versitygw CPU", "archive", "load after", "pipeline: CPU / peak RSS per process"}
	counts := map[string]int{}
	for _, m := range b.results {
		k := m.data.bucket + m.tool
		counts[k]++
		inner, sampled := "-", "-"
		if m.inner > 0 {
			inner = fmt.Sprintf("%.1f s", m.inner.Seconds())
			sampled = fmt.Sprintf("%s (%s + %s)", kib(m.sampledKiB), kib(m.sampledAnon), kib(m.sampledFile))
		}
		r.runRows = append(r.runRows, []string{m.data.label, m.tool, fmt.Sprint(counts[k]), fmt.Sprintf("%.1f s", m.wall.Seconds()),
			inner, kib(m.peakRSSKiB), sampled, m.heap.String(), secs(m.cpu), secs(m.peerCPU), fmt.Sprintf("%d B", m.archiveSize), m.load, orDash(m.detail)})
	}
	r.summary = b.summaryLines()
	for _, p := range b.pauses {
		r.pauses = append(r.pauses, pauseLines(p)...)
	}
	r.notes = b.notes
	r.blocks = b.profiles
	return r
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func (b *bench) summaryLines() []string {
	var out []string
	large, okL := b.find("bench-large", "backupd")
	pipe, okP := b.find("bench-large", pipelineTool)
	if okL && okP {
		med := pipe.median().Seconds() / large.median().Seconds()
		best := pipe.best().Seconds() / large.best().Seconds()
		out = append(out, fmt.Sprintf("speed-up vs pipeline on large objects: %.2fx median, %.2fx best (target >= 1.5x: %s)", med, best, verdict(med >= 1.5)))
	}
	if s, ok := b.find("bench-small", "backupd"); ok {
		med := float64(s.data.count) / s.median().Seconds()
		best := float64(s.data.count) / s.best().Seconds()
		line := fmt.Sprintf("small objects: %.0f obj/s median, %.0f best (target >= 1,000: %s)", med, best, verdict(med >= 1000))
		if p, ok := b.find("bench-small", pipelineTool); ok {
			line += fmt.Sprintf("; pipeline %.0f obj/s median", float64(p.data.count)/p.median().Seconds())
		}
		out = append(out, line)
	}
	var peak int64
	for _, g := range b.groups() {
		if strings.HasPrefix(g.tool, "backupd") {
			peak = max(peak, g.peak())
		}
	}
	var pausePeak int64
	for _, p := range b.pauses {
		pausePeak = max(pausePeak, p.peakRSSKiB)
	}
	if peak > 0 {
		line := fmt.Sprintf("backupd worker peak RSS (VmHWM, largest over all runs): %s (target <= 128 MiB: %s)", kib(peak), verdict(peak <= 128<<10))
		if pausePeak > 0 {
			line += fmt.Sprintf("; in the pause/resume runs %s (%s)", kib(pausePeak), verdict(pausePeak <= 128<<10))
		}
		out = append(out, line)
	}
	return out
}

func pauseLines(p pauseResult) []string {
	mib := func(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
	lines := []string{
		fmt.Sprintf("pause (%s): took %.2f s to take effect (202 → status paused), asked at %s uploaded; %s sent between the request and paused, %d bytes while paused; paused %s",
			p.destination, p.latency.Seconds(), mib(p.triggerAt), mib(p.afterPause), p.whilePaused, p.position),
		fmt.Sprintf("resume (%s): re-sent %d bytes (%s) = archive uploads %d bytes − archive %d bytes + stash objects %d bytes (tails parked at the pause or a checkpoint, sent again in the next part); %s size %s (target <= one %s: %s); %ss sent twice: %s",
			p.destination, p.resent(), mib(p.resent()), p.archiveReceived, p.archiveSize, p.stashBytes, p.unitName, mib(p.unit), p.unitName, verdict(p.resent() <= p.unit), p.unitName, p.reuploaded),
		fmt.Sprintf("destination (%s) received %d bytes in all (%s): archive %s, stash objects %s, other (manifest, XML, sessions) %s; the backup with its pause took %.1f s; worker peak RSS %s",
			p.destination, p.totalReceived, mib(p.totalReceived), mib(p.archiveReceived), mib(p.stashBytes), mib(p.otherBytes), p.wall.Seconds(), kib(p.peakRSSKiB)) + " (Go heap live / at GC / goal " + p.heap.String() + ")",
	}
	return lines
}

func (b *bench) printReport() error {
	r := b.buildReport()
	fmt.Print(r.text())
	if b.cfg.out == "" {
		return nil
	}
	if err := os.WriteFile(b.cfg.out, []byte(r.markdown()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", b.cfg.out, err)
	}
	progress("report written to %s", b.cfg.out)
	return nil
}

func (r report) text() string {
	var s strings.Builder
	for _, l := range r.intro {
		s.WriteString(l + "\n")
	}
	s.WriteString("\n" + textTable(r.header, r.rows) + "\n")
	for _, l := range r.summary {
		s.WriteString(l + "\n")
	}
	for _, l := range r.pauses {
		s.WriteString(l + "\n")
	}
	s.WriteString("\nevery run:\n" + textTable(r.runHdr, r.runRows))
	for _, n := range r.notes {
		s.WriteString("note: " + n + "\n")
	}
	for _, blk := range r.blocks {
		s.WriteString("\n" + blk + "\n")
	}
	return s.String()
}

func (r report) markdown() string {
	var s strings.Builder
	s.WriteString("## Benchmark: backupd against rclone + tar + gzip + rclone\n\n")
	for _, l := range r.intro {
		s.WriteString("- " + l + "\n")
	}
	s.WriteString("\n" + mdTable(r.header, r.rows) + "\n")
	for _, l := range r.summary {
		s.WriteString("- " + l + "\n")
	}
	if len(r.pauses) > 0 {
		s.WriteString("\n### Pause and resume (the large data set)\n\n")
		for _, l := range r.pauses {
			s.WriteString("- " + l + "\n")
		}
	}
	s.WriteString("\n### Every run\n\n" + mdTable(r.runHdr, r.runRows))
	if len(r.notes) > 0 {
		s.WriteString("\n")
		for _, n := range r.notes {
			s.WriteString("- note: " + n + "\n")
		}
	}
	for _, blk := range r.blocks {
		s.WriteString("\n```\n" + blk + "\n```\n")
	}
	return s.String()
}

func textTable(header []string, rows [][]string) string {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len([]rune(h))
	}
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var s strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			s.WriteString(c + strings.Repeat(" ", widths[i]-len([]rune(c))))
			if i < len(cells)-1 {
				s.WriteString("  ")
			}
		}
		s.WriteString("\n")
	}
	line(header)
	for _, row := range rows {
		line(row)
	}
	return s.String()
}

func mdTable(header []string, rows [][]string) string {
	var s strings.Builder
	s.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		s.WriteString("---|")
	}
	s.WriteString("\n")
	for _, row := range rows {
		s.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return s.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (g *gcSummary) String() string {
	if g == nil {
		return "-"
	}
	return fmt.Sprintf("%d / %d / %d MB (%d GCs)", g.maxLive, g.maxStart, g.maxGoal, g.cycles)
}
