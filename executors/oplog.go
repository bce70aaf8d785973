package executors

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"

	"github.com/google/uuid"
)

// Log batching: lines are appended to the operation's log stream at most
// once per flushInterval (or sooner when a batch grows past maxBatchBytes),
// so a million small objects do not make a million events; each line keeps
// its own timestamp and level. Progress rides along and doubles as the
// worker's heartbeat, sent at least every heartbeatInterval.
const (
	flushInterval     = time.Second
	heartbeatInterval = 5 * time.Second
	maxBatchBytes     = 256 << 10
	maxLineBytes      = 16 << 10
)

// OpLog is the terminal log and progress of one running operation.
type OpLog struct {
	store    *eventstore.Store
	opID     uuid.UUID
	workerID string
	attempt  int
	ctx      context.Context // outlives the job's cancellation, so the last lines are written
	logger   *slog.Logger    // the worker's own log, for failures to write

	mu            sync.Mutex
	lines         []domain.LogLine
	batchBytes    int
	seq           int64
	progress      domain.Progress
	progressDirty bool
	lastSent      time.Time
	kick          chan struct{}
	done          chan struct{}
	stopped       chan struct{}
}

// NewOpLog starts the batching loop. The sequence of lines continues after
// the last line an earlier attempt wrote.
func NewOpLog(ctx context.Context, store *eventstore.Store, opID uuid.UUID, workerID string, attempt int, logger *slog.Logger) (*OpLog, error) {
	last, progress, err := lastLogState(ctx, store, opID)
	if err != nil {
		return nil, err
	}
	l := &OpLog{store: store, opID: opID, workerID: workerID, attempt: attempt, logger: logger,
		ctx: context.WithoutCancel(ctx), progress: progress,
		seq: last, kick: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go l.loop()
	return l, nil
}

// lastLogState is where an earlier attempt left the log: the last line's
// number, and the last progress (so heartbeats of a new attempt, or of a
// clean-up after a cancel, do not show zeros in the meantime).
func lastLogState(ctx context.Context, store *eventstore.Store, opID uuid.UUID) (seq int64, progress domain.Progress, err error) {
	haveSeq, haveProgress := false, false
	err = store.ReadBackward(ctx, commands.OperationLogStream(opID), func(r eventstore.Recorded) (bool, error) {
		switch ev := r.Event.(type) {
		case domain.OperationLogged:
			if !haveSeq && len(ev.Lines) > 0 {
				seq, haveSeq = ev.Lines[len(ev.Lines)-1].Seq, true
			}
		case domain.OperationProgressed:
			if !haveProgress {
				progress, haveProgress = ev.Progress, true
			}
		}
		return !(haveSeq && haveProgress), nil
	})
	return seq, progress, err
}

// Logger returns a slog.Logger whose records become terminal log lines.
func (l *OpLog) Logger() *slog.Logger { return slog.New(&opLogHandler{log: l}) }

// Add appends one line.
func (l *OpLog) Add(level, msg string) {
	if len(msg) > maxLineBytes {
		msg = msg[:maxLineBytes] + " …(truncated)"
	}
	l.mu.Lock()
	l.seq++
	l.lines = append(l.lines, domain.LogLine{Seq: l.seq, At: time.Now().UTC(), Level: level, Message: msg})
	l.batchBytes += len(msg) + 64
	full := l.batchBytes >= maxBatchBytes || l.lastSent.IsZero()
	l.mu.Unlock()
	if full {
		l.nudge()
	}
}

// SetProgress records the latest progress; it is sent with the next flush.
func (l *OpLog) SetProgress(p domain.Progress) {
	l.mu.Lock()
	l.progress, l.progressDirty = p, true
	l.mu.Unlock()
}

// Progress returns the latest progress.
func (l *OpLog) Progress() domain.Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.progress
}

func (l *OpLog) nudge() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Close flushes what is pending and stops the loop.
func (l *OpLog) Close() {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	<-l.stopped
}

// Flush writes pending lines and progress now.
func (l *OpLog) Flush() { l.flush(true) }

func (l *OpLog) loop() {
	defer close(l.stopped)
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			l.flush(true)
			return
		case <-t.C:
			l.flush(false)
		case <-l.kick:
			l.flush(false)
		}
	}
}

func (l *OpLog) flush(force bool) {
	l.mu.Lock()
	lines := l.lines
	l.lines, l.batchBytes = nil, 0
	heartbeatDue := time.Since(l.lastSent) >= heartbeatInterval
	var events []domain.Event
	for len(lines) > 0 { // keep each append well under EventStoreDB's 1 MiB
		n, size := 0, 0
		for n < len(lines) && size < maxBatchBytes {
			size += len(lines[n].Message) + 64
			n++
		}
		events = append(events, domain.OperationLogged{OperationID: l.opID, Lines: lines[:n]})
		lines = lines[n:]
	}
	if l.progressDirty || heartbeatDue || force {
		events = append(events, domain.OperationProgressed{OperationID: l.opID, WorkerID: l.workerID, Attempt: l.attempt, Progress: l.progress, At: time.Now().UTC()})
		l.progressDirty = false
		l.lastSent = time.Now()
	}
	l.mu.Unlock()
	for len(events) > 0 {
		n := min(len(events), 3)
		ctx := commands.SystemActor(l.ctx, "worker "+l.workerID, l.opID, uuid.Nil)
		if _, err := l.store.Append(ctx, commands.OperationLogStream(l.opID), eventstore.Any(), events[:n]...); err != nil {
			l.logger.Error("cannot write operation log", "operation", l.opID, "error", err)
		}
		events = events[n:]
	}
}

// opLogHandler renders slog records as plain terminal lines: the message
// followed by key=value attributes.
type opLogHandler struct {
	log   *OpLog
	attrs []slog.Attr
	group string
}

func (h *opLogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *opLogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		if a.Equal(slog.Attr{}) {
			return true
		}
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		v := a.Value.Resolve().String()
		if strings.ContainsAny(v, " \t\"") {
			v = fmt.Sprintf("%q", v)
		}
		b.WriteString(" " + key + "=" + v)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	h.log.Add(levelName(r.Level), b.String())
	return nil
}

func (h *opLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &opLogHandler{log: h.log, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...), group: h.group}
}

func (h *opLogHandler) WithGroup(name string) slog.Handler {
	g := name
	if h.group != "" {
		g = h.group + "." + name
	}
	return &opLogHandler{log: h.log, attrs: h.attrs, group: g}
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo:
		return "info"
	default:
		return "debug"
	}
}
