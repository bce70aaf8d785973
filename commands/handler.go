package commands

import (
	"context"
	"log/slog"
	"time"

	"backupd/domain"
)

// Handler handles one kind of command. Every handler in Handlers is wrapped
// by the same logging decorator, never by hand.
type Handler[C, R any] interface {
	Handle(ctx context.Context, cmd C) (R, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc[C, R any] func(ctx context.Context, cmd C) (R, error)

func (f HandlerFunc[C, R]) Handle(ctx context.Context, cmd C) (R, error) { return f(ctx, cmd) }

// Nothing is the result of commands that return nothing but an error.
type Nothing = struct{}

// logged wraps a handler with one log line per command: its name, duration,
// actor and correlation, and the error slug. It never logs the command's
// values, which may hold passwords and credentials.
type logged[C, R any] struct {
	name   string
	logger *slog.Logger
	next   Handler[C, R]
}

func withLogging[C, R any](name string, logger *slog.Logger, h Handler[C, R]) Handler[C, R] {
	return logged[C, R]{name: name, logger: logger, next: h}
}

func (l logged[C, R]) Handle(ctx context.Context, cmd C) (R, error) {
	start := time.Now()
	res, err := l.next.Handle(ctx, cmd)
	m := MetaFrom(ctx)
	attrs := []slog.Attr{
		slog.String("command", l.name),
		slog.Duration("duration", time.Since(start)),
		slog.String("actor_id", m.ActorID),
		slog.String("command_id", m.CommandID.String()),
		slog.String("correlation_id", m.CorrelationID.String()),
	}
	level, msg := slog.LevelInfo, "command handled"
	if err != nil {
		if de, ok := domain.AsError(err); ok {
			// A refusal (bad input, wrong state, wrong password) is the
			// system working; only its slug and field are logged.
			level, msg = slog.LevelWarn, "command refused"
			attrs = append(attrs, slog.String("error", de.Slug))
			if de.Field != "" {
				attrs = append(attrs, slog.String("field", de.Field))
			}
		} else {
			// Infrastructure errors are wrapped by this package and the
			// event store adapter, which never put input values in them.
			level, msg = slog.LevelError, "command failed"
			attrs = append(attrs, slog.String("error", "internal"), slog.String("cause", err.Error()))
		}
	}
	l.logger.LogAttrs(ctx, level, msg, attrs...)
	return res, err
}
