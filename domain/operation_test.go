package domain_test

import (
	"testing"
	"time"

	"backupd/domain"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func newBackup(t *testing.T) *domain.Operation {
	t.Helper()
	op := domain.NewOperation(uuid.New())
	require.NoError(t, op.RequestBackup(
		domain.ConnectionRef{ID: uuid.New(), Name: "src", Kind: domain.KindS3Source},
		domain.ConnectionRef{ID: uuid.New(), Name: "dst", Kind: domain.KindS3Destination}, time.Now()))
	return op
}

func TestOperationTransitions(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name   string
		steps  func(op *domain.Operation) error
		status domain.OperationStatus
		err    string
	}{
		{"start", func(op *domain.Operation) error { return op.Start("w1", now) }, domain.OpRunning, ""},
		{"pause pending pauses at once", func(op *domain.Operation) error { return op.RequestPause(now) }, domain.OpPaused, ""},
		{"pause running waits for executor", func(op *domain.Operation) error {
			_ = op.Start("w1", now)
			return op.RequestPause(now)
		}, domain.OpRunning, ""},
		{"executor pauses", func(op *domain.Operation) error {
			_ = op.Start("w1", now)
			_ = op.RequestPause(now)
			return op.MarkPaused("w1", "after object 3", 4, now)
		}, domain.OpPaused, ""},
		{"resume paused", func(op *domain.Operation) error {
			_ = op.Start("w1", now)
			_ = op.RequestPause(now)
			_ = op.MarkPaused("w1", "x", 1, now)
			return op.RequestResume(now)
		}, domain.OpPending, ""},
		{"resume running refused", func(op *domain.Operation) error {
			_ = op.Start("w1", now)
			return op.RequestResume(now)
		}, domain.OpRunning, "cannot resume"},
		{"cancel never-started cancels at once", func(op *domain.Operation) error { return op.RequestCancel(now) }, domain.OpCancelled, ""},
		{"cancel completed refused", func(op *domain.Operation) error {
			_ = op.Start("w1", now)
			_ = op.CompleteBackup("w1", domain.BackupResult{}, now)
			return op.RequestCancel(now)
		}, domain.OpCompleted, "cannot cancel"},
		{"second worker cannot start", func(op *domain.Operation) error {
			_ = op.Start("w1", now)
			return op.Start("w2", now)
		}, domain.OpRunning, "cannot start"},
		{"reaper interrupts only the attempt it saw", func(op *domain.Operation) error {
			_ = op.Start("w1", now)
			return op.Interrupt("w1", 2, now, now)
		}, domain.OpRunning, "cannot interrupt"},
		{"interrupted resumes", func(op *domain.Operation) error {
			_ = op.Start("w1", now)
			_ = op.Interrupt("w1", 1, now, now)
			return op.RequestResume(now)
		}, domain.OpPending, ""},
		{"other worker cannot complete", func(op *domain.Operation) error {
			_ = op.Start("w1", now)
			return op.CompleteBackup("w2", domain.BackupResult{}, now)
		}, domain.OpRunning, "cannot complete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op := newBackup(t)
			err := tt.steps(op)
			if tt.err == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.err)
				require.ErrorIs(t, err, domain.ErrInvalidTransition)
			}
			require.Equal(t, tt.status, op.Status)
		})
	}
}

func TestCanTransitionMatchesTerminal(t *testing.T) {
	t.Parallel()
	for _, from := range domain.AllOperationStatuses {
		for _, to := range domain.AllOperationStatuses {
			if from.Terminal() {
				require.False(t, domain.CanTransition(from, to), "%s -> %s", from, to)
			}
		}
	}
}
