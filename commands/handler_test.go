package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"backupd/domain"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestLoggingDecorator: one line per command with its name, actor,
// correlation and outcome, and never the command's values.
func TestLoggingDecorator(t *testing.T) {
	t.Parallel()
	type secretCommand struct{ Password string }
	const password = "hunter2-very-secret"
	for _, tc := range []struct {
		name      string
		err       error
		wantLevel string
		want      []string
	}{
		{"success", nil, "INFO", []string{`msg="command handled"`}},
		{"refusal", fmt.Errorf("wrapped: %w", domain.ErrInvalidCredentials), "WARN", []string{`msg="command refused"`, "error=invalid-credentials"}},
		{"refusal on a field", domain.Invalid("field-required", "bucket", "Bucket is required"), "WARN", []string{"error=field-required", "field=bucket"}},
		{"infrastructure", errors.New("append to user-1: connection refused"), "ERROR", []string{`msg="command failed"`, "error=internal", `cause="append to user-1: connection refused"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
			var seen secretCommand
			h := withLogging[secretCommand, int]("DoSecretThing", logger, HandlerFunc[secretCommand, int](func(_ context.Context, c secretCommand) (int, error) {
				seen = c
				return 7, tc.err
			}))
			corr := uuid.New()
			ctx := WithMeta(context.Background(), Meta{ActorID: "user-42", ActorName: "alice@example.test", CorrelationID: corr})
			got, err := h.Handle(ctx, secretCommand{Password: password})
			require.Equal(t, 7, got)
			require.Equal(t, tc.err, err, "the error passes through unchanged")
			require.Equal(t, password, seen.Password)

			line := out.String()
			require.Equal(t, 1, strings.Count(line, "\n"), "one line per command")
			require.Contains(t, line, "level="+tc.wantLevel)
			for _, w := range append(tc.want, "command=DoSecretThing", "actor_id=user-42", "correlation_id="+corr.String(), "duration=") {
				require.Contains(t, line, w)
			}
			require.NotContains(t, line, password)
			require.NotContains(t, line, "alice@example.test")
		})
	}
}
