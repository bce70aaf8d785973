package tool

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Counter is a progress figure: done out of total (total 0: unknown).
type Counter struct {
	done  atomic.Int64
	total int64
}

// NewCounter starts a counter towards total.
func NewCounter(total int64) *Counter { return &Counter{total: total} }

// Add moves the counter.
func (c *Counter) Add(n int64) { c.done.Add(n) }

// Done is how far the counter got.
func (c *Counter) Done() int64 { return c.done.Load() }

// Bars renders the progress of everything attached, every interval, as the
// tools do: one grid row per bar, right-aligned columns two spaces apart,
// each row its own log line; a bar drawn at least once is drawn a last time
// when detached.
type Bars struct {
	log      *Logger
	interval time.Duration
	width    int
	bytes    bool
	mu       sync.Mutex
	bars     []*bar
	stop     chan struct{}
	done     chan struct{}
}

type bar struct {
	name     string
	counter  *Counter
	rendered bool
}

// NewBars draws bars of width characters; bytes formats figures as sizes.
func NewBars(log *Logger, interval time.Duration, width int, bytes bool) *Bars {
	return &Bars{log: log, interval: interval, width: width, bytes: bytes, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start begins the periodic drawing.
func (b *Bars) Start() {
	go func() {
		defer close(b.done)
		t := time.NewTicker(b.interval)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.renderAll()
			}
		}
	}()
}

// Stop ends the drawing.
func (b *Bars) Stop() {
	close(b.stop)
	<-b.done
}

// Attach adds a bar.
func (b *Bars) Attach(name string, c *Counter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bars = append(b.bars, &bar{name: name, counter: c})
}

// Detach removes a bar, drawing it a last time if it was ever drawn.
func (b *Bars) Detach(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, br := range b.bars {
		if br.name != name {
			continue
		}
		if br.rendered {
			b.flush([][]string{b.cells(br)})
		}
		b.bars = append(b.bars[:i], b.bars[i+1:]...)
		return
	}
}

func (b *Bars) renderAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	var rows [][]string
	for _, br := range b.bars {
		br.rendered = true
		rows = append(rows, b.cells(br))
	}
	b.flush(rows)
	if len(b.bars) > 1 {
		b.log.Log(Always, "") // a blank line between groups of bars
	}
}

func (b *Bars) cells(br *bar) []string {
	done, total := br.counter.Done(), br.counter.total
	figure := func(n int64) string {
		if b.bytes {
			return FormatBytes(n)
		}
		return fmt.Sprint(n)
	}
	if total == 0 {
		return []string{br.name, figure(done)}
	}
	frac := float64(done) / float64(total)
	return []string{drawBar(b.width, frac), br.name, figure(done) + "/" + figure(total), fmt.Sprintf("(%2.1f%%)", frac*100)}
}

// flush writes rows as a grid: each column right-aligned to its widest
// cell, columns separated by two spaces.
func (b *Bars) flush(rows [][]string) {
	var widths []int
	for _, r := range rows {
		for j, c := range r {
			if j >= len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], len(c))
		}
	}
	for _, r := range rows {
		parts := make([]string, len(r))
		for j, c := range r {
			parts[j] = strings.Repeat(" ", widths[j]-len(c)) + c
		}
		b.log.Log(Always, strings.Join(parts, "  "))
	}
}

func drawBar(width int, frac float64) string {
	full := min(max(int(frac*float64(width)), 0), width)
	return "[" + strings.Repeat("#", full) + strings.Repeat(".", width-full) + "]"
}

// FormatBytes writes a size with binary units and three significant
// digits, as the tools' byte progress does: 512B, 1.50KB, 12.3MB, 104GB.
func FormatBytes(n int64) string {
	units := []string{"B", "KB", "MB", "GB"}
	v := float64(n)
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	v = math.Floor(v*100+0.5) / 100
	if u == 0 {
		return fmt.Sprintf("%.0f%s", v, units[u])
	}
	digits := 1
	if v >= 1 {
		digits = 1 + int(math.Log10(v))
	}
	return fmt.Sprintf("%.*f%s", max(3-digits, 0), v, units[u])
}
