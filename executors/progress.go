package executors

import (
	"sync"
	"time"

	"backupd/domain"
	"backupd/executors/archive"
)

// progressMeter turns the pipeline's snapshots into the progress shown to
// the user: throughput over the last seconds and the time left.
type progressMeter struct {
	mu      sync.Mutex
	samples []sample // ring of the last ~10 s
	log     *OpLog
}

type sample struct {
	at    time.Time
	bytes int64
}

const rateWindow = 10 * time.Second

func newProgressMeter(log *OpLog) *progressMeter { return &progressMeter{log: log} }

func (m *progressMeter) update(s archive.Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	m.samples = append(m.samples, sample{at: now, bytes: s.BytesDone})
	for len(m.samples) > 2 && now.Sub(m.samples[0].at) > rateWindow {
		m.samples = m.samples[1:]
	}
	rate := 0.0
	if first := m.samples[0]; now.Sub(first.at) > 500*time.Millisecond {
		rate = float64(s.BytesDone-first.bytes) / now.Sub(first.at).Seconds()
	}
	left := int64(-1)
	if rate > 0 && s.BytesTotal > s.BytesDone {
		left = int64(float64(s.BytesTotal-s.BytesDone) / rate)
	} else if s.BytesTotal > 0 && s.BytesDone >= s.BytesTotal {
		left = 0
	}
	m.log.SetProgress(domain.Progress{
		Phase: s.Phase, ObjectsDone: s.EntriesDone, ObjectsTotal: s.EntriesTotal,
		BytesDone: s.BytesDone, BytesTotal: s.BytesTotal, CompressedBytes: s.CompressedBytes,
		UploadedBytes: s.UploadedBytes, BytesPerSecond: rate, SecondsLeft: left, Current: s.Current,
	})
}
