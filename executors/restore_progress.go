package executors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"backupd/executors/archive"
)

// restoreMeter counts a restore's progress from the goroutines doing it
// and turns it into the operation's progress (through the backup's
// progressMeter: throughput and time left) once a second, and into a
// "so far" log line every few seconds.
type restoreMeter struct {
	meter        *progressMeter
	log          *slog.Logger
	noun         string
	entriesTotal int64
	bytesTotal   int64

	entriesDone atomic.Int64 // restored or skipped, complete at the target
	bytesRead   atomic.Int64 // entry content read from the archive
	archiveRead atomic.Int64 // compressed archive bytes downloaded
	written     atomic.Int64 // entry bytes written to the target
	current     atomic.Pointer[string]
	phase       atomic.Pointer[string]
}

const restoreLogEvery = 5 * time.Second

func newRestoreMeter(oplog *OpLog, noun string, entries, bytes int64) *restoreMeter {
	m := &restoreMeter{meter: newProgressMeter(oplog), log: oplog.Logger(), noun: noun, entriesTotal: entries, bytesTotal: bytes}
	m.setPhase("restoring")
	return m
}

func (m *restoreMeter) setPhase(p string)   { m.phase.Store(&p) }
func (m *restoreMeter) setCurrent(k string) { m.current.Store(&k) }

// entryDone counts an entry complete at the target (written or skipped).
func (m *restoreMeter) entryDone(written int64) {
	m.entriesDone.Add(1)
	m.written.Add(written)
}

// run pushes progress until ctx ends, and once more at the end.
func (m *restoreMeter) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastLog, lastDone := time.Now(), int64(-1)
	for {
		m.push()
		select {
		case <-ctx.Done():
			m.push()
			return
		case <-tick.C:
		}
		if done := m.entriesDone.Load(); time.Since(lastLog) >= restoreLogEvery && done != lastDone && *m.phase.Load() == "restoring" {
			m.log.Info(fmt.Sprintf("%d of %d %s restored so far (%s of %s read from the archive)",
				done, m.entriesTotal, m.noun, archive.HumanBytes(m.bytesRead.Load()), archive.HumanBytes(m.bytesTotal)))
			lastLog, lastDone = time.Now(), done
		}
	}
}

func (m *restoreMeter) push() {
	cur := ""
	if c := m.current.Load(); c != nil {
		cur = *c
	}
	m.meter.update(archive.Snapshot{
		Phase: *m.phase.Load(), EntriesDone: m.entriesDone.Load(), EntriesTotal: m.entriesTotal,
		BytesDone: m.bytesRead.Load(), BytesTotal: m.bytesTotal, CompressedBytes: m.archiveRead.Load(),
		UploadedBytes: m.written.Load(), Current: cur,
	})
}

// countingReader adds what passes through it to n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
