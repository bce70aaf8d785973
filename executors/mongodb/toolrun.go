package mongodb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// tailLines is how many of a tool's last stderr lines an error carries.
const tailLines = 8

// ToolError is a tool run that failed (exit status not 0).
type ToolError struct {
	Tool     string   // "mongodump" or "mongorestore"
	ExitCode int      // -1 when killed by a signal
	Reason   string   // the tool's "Failed: ..." reason, if it printed one
	Lines    []string // its last stderr lines, secrets removed
}

func (e *ToolError) Error() string {
	msg := fmt.Sprintf("%s failed (exit status %d)", e.Tool, e.ExitCode)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if len(e.Lines) > 0 {
		msg += "; its last lines: " + strings.Join(e.Lines, " | ")
	}
	return msg
}

// toolRun is one run of mongodump or mongorestore.
type toolRun struct {
	tool string // "mongodump"
	path string
	args []string // never holds a secret: the URI goes in the --config file
	// stdin, if set, is copied to the tool's standard input by run, which
	// returns only once the copy has stopped (so the reader is never read
	// after run returns).
	stdin     io.Reader
	cfg       Config // for the URI and for removing secrets from what the tool prints
	configDir string // where the --config file goes ("" for the temporary folder)
	logger    *slog.Logger
	attrs     []any
	onLine    func(toolLine)
}

// run writes the --config file, runs the tool with it, streams its stderr
// lines to the logger (and onLine) as they come, and removes the file.
// A cancelled context stops the tool's whole process group.
func (r toolRun) run(ctx context.Context) error {
	uri, err := r.cfg.EffectiveURI()
	if err != nil {
		return err
	}
	configFile, err := writeToolConfig(r.configDir, uri)
	if err != nil {
		return err
	}
	defer os.Remove(configFile)

	args := append([]string{"--config=" + configFile}, r.args...)
	cmd := exec.CommandContext(ctx, r.path, args...)
	exited := inOwnProcessGroup(cmd)
	var stdin io.WriteCloser
	if r.stdin != nil {
		if stdin, err = cmd.StdinPipe(); err != nil {
			return err
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			env := EnvMongodump
			if r.tool == "mongorestore" {
				env = EnvMongorestore
			}
			return &MissingToolError{Tool: r.tool, Path: r.path, Env: env, Err: err}
		}
		return fmt.Errorf("starting %s: %w", r.tool, err)
	}
	fed := make(chan error, 1)
	if stdin != nil {
		go func() {
			_, err := io.Copy(stdin, r.stdin)
			stdin.Close()
			fed <- err
		}()
	} else {
		fed <- nil
	}
	tail, reason := r.follow(stderr)
	err = cmd.Wait() // closes stdin: a copy still writing stops
	exited()
	feedErr := <-fed
	if ctx.Err() != nil {
		return fmt.Errorf("%s stopped: %w", r.tool, context.Cause(ctx))
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &ToolError{Tool: r.tool, ExitCode: ee.ExitCode(), Reason: reason, Lines: tail}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", r.tool, err)
	}
	// The tool succeeded; it may not have wanted the bytes after the
	// archive's end (a closed pipe), but a failed read is worth knowing.
	if feedErr != nil && !errors.Is(feedErr, syscall.EPIPE) && !errors.Is(feedErr, os.ErrClosed) {
		return fmt.Errorf("feeding %s: %w", r.tool, feedErr)
	}
	return nil
}

// follow logs each stderr line as it arrives and keeps the last ones.
func (r toolRun) follow(stderr io.Reader) (tail []string, reason string) {
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		text := r.cfg.Redact(sc.Text())
		line := parseToolLine(text)
		if strings.TrimSpace(line.Text) == "" {
			continue // the blank line between groups of progress bars
		}
		level := slog.LevelInfo
		switch line.Kind {
		case lineFailed:
			level, reason = slog.LevelError, line.Reason
		case lineWarning, lineNamespaceMissing:
			level = slog.LevelWarn
		}
		r.logger.Log(context.Background(), level, r.tool+": "+line.Text, r.attrs...)
		if r.onLine != nil {
			r.onLine(line)
		}
		tail = append(tail, line.Text)
		if len(tail) > tailLines {
			tail = tail[1:]
		}
	}
	// A line too long for the scanner: drain so the tool never blocks.
	_, _ = io.Copy(io.Discard, stderr)
	return tail, reason
}
