package tool

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Verbosity levels of the tools' log.
const (
	Always    = 0
	Info      = 1
	DebugLow  = 2
	DebugHigh = 3
)

// TimeFormat is how the tools stamp each stderr line.
const TimeFormat = "2006-01-02T15:04:05.000-0700"

// Logger writes "<timestamp>\t<message>\n" lines, like the tools do.
// Quiet (verbosity -1) silences everything, errors included, as --quiet does.
type Logger struct {
	mu        sync.Mutex
	out       io.Writer
	verbosity int
}

// newLogger logs to out at verbosity (-1 for --quiet).
func newLogger(out io.Writer, verbosity int) *Logger { return &Logger{out: out, verbosity: verbosity} }

// Logf logs a line if level is within the verbosity.
func (l *Logger) Logf(level int, format string, a ...any) {
	l.Log(level, fmt.Sprintf(format, a...))
}

// Log logs msg as one line if level is within the verbosity.
func (l *Logger) Log(level int, msg string) {
	if level > l.verbosity {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, "%s\t%s\n", time.Now().Format(TimeFormat), msg)
}
