package projections

import (
	"context"
	"fmt"
	"strings"
	"time"

	"backupd/commands/eventstore"
	"backupd/domain"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// operationLogsProjector keeps operation_logs: the executor's lines, and a
// line for each state change of the operation, in one sequence per
// operation (see migrations/0005_operation_logs.sql for why).
type operationLogsProjector struct{}

func (operationLogsProjector) Name() string     { return "operation_logs" }
func (operationLogsProjector) Tables() []string { return []string{"operation_logs"} }
func (operationLogsProjector) EventTypes() []string {
	return append(operationStateEventTypes(), domain.OperationLogged{}.EventType())
}

func (p operationLogsProjector) Apply(ctx context.Context, tx pgx.Tx, rec eventstore.Recorded) error {
	if e, ok := rec.Event.(domain.OperationLogged); ok {
		return p.executorLines(ctx, tx, e)
	}
	id, line, ok := statusLine(rec)
	if !ok {
		return unexpectedEvent(p, rec)
	}
	next, err := nextLogSeq(ctx, tx, id)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO operation_logs (operation_id, seq, at, level, message, origin) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, next, line.At, line.Level, line.Message, OriginStatus)
	return err
}

func (operationLogsProjector) executorLines(ctx context.Context, tx pgx.Tx, e domain.OperationLogged) error {
	if len(e.Lines) == 0 {
		return nil
	}
	next, err := nextLogSeq(ctx, tx, e.OperationID)
	if err != nil {
		return err
	}
	rows := make([][]any, len(e.Lines))
	for i, l := range e.Lines {
		rows[i] = []any{e.OperationID, next + int64(i), l.At, l.Level, l.Message, OriginExecutor, l.Seq}
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"operation_logs"},
		[]string{"operation_id", "seq", "at", "level", "message", "origin", "executor_seq"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy %d log lines: %w", len(rows), err)
	}
	return nil
}

func nextLogSeq(ctx context.Context, tx pgx.Tx, opID uuid.UUID) (int64, error) {
	var last int64
	err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM operation_logs WHERE operation_id = $1`, opID).Scan(&last)
	return last + 1, err
}

type logText struct {
	At      time.Time
	Level   string
	Message string
}

// statusLine is the log line for a state change of an operation, in plain
// words. It uses only the event and its metadata, never other rows, so a
// replay writes the same text.
func statusLine(rec eventstore.Recorded) (uuid.UUID, logText, bool) {
	by := actor(rec)
	switch e := rec.Event.(type) {
	case domain.BackupRequested:
		return e.OperationID, logText{e.At, "info", fmt.Sprintf("Backup requested by %s: %s → %s", by, refText(e.Source), refText(e.Destination))}, true
	case domain.RestoreRequested:
		return e.OperationID, logText{e.At, "info", fmt.Sprintf("Restore requested by %s: archive %s from %s → %s (%s)",
			by, orDash(e.Backup.ArchiveName), refText(e.Archive), restoreTargetText(e.Target, e.Options), conflictText(e.Options))}, true
	case domain.OperationStarted:
		msg := fmt.Sprintf("Started on worker %s (attempt %d)", e.WorkerID, e.Attempt)
		if e.Resumed {
			msg = fmt.Sprintf("Resumed on worker %s (attempt %d), continuing from the last checkpoint", e.WorkerID, e.Attempt)
		}
		return e.OperationID, logText{e.At, "info", msg}, true
	case domain.OperationPauseRequested:
		return e.OperationID, logText{e.At, "info", "Pause requested by " + by + "; pausing at the next safe point"}, true
	case domain.OperationPaused:
		return e.OperationID, logText{e.At, "info", "Paused: " + orDash(e.Position)}, true
	case domain.OperationResumeRequested:
		return e.OperationID, logText{e.At, "info", "Resume requested by " + by + "; waiting for a worker"}, true
	case domain.OperationCancelRequested:
		return e.OperationID, logText{e.At, "warn", "Cancel requested by " + by}, true
	case domain.OperationCancelled:
		msg := "Cancelled"
		if len(e.CleanedUp) > 0 {
			msg += "; cleaned up: " + strings.Join(e.CleanedUp, "; ")
		}
		return e.OperationID, logText{e.At, "warn", msg}, true
	case domain.OperationInterrupted:
		reason := strings.TrimPrefix(e.Reason, "worker stopped: ") // the line says it already
		return e.OperationID, logText{e.At, "warn", fmt.Sprintf("Worker %s stopped (attempt %d): %s; resume to continue", e.WorkerID, e.Attempt, reason)}, true
	case domain.OperationCompleted:
		return e.OperationID, logText{e.At, "info", completedText(e)}, true
	case domain.OperationFailed:
		msg := "Failed: " + e.Error
		if e.Code != "" {
			msg += " [" + e.Code + "]"
		}
		return e.OperationID, logText{e.At, "error", msg}, true
	case domain.RestoreVerified:
		level := "info"
		if !e.Report.Verified {
			level = "error"
		}
		return e.OperationID, logText{e.At, level, "Verification: " + verificationText(e.Report)}, true
	}
	return uuid.Nil, logText{}, false
}

func actor(rec eventstore.Recorded) string {
	switch {
	case rec.Meta.ActorName != "":
		return rec.Meta.ActorName
	case rec.Meta.ActorID != "":
		return rec.Meta.ActorID
	}
	return "an unknown actor"
}

func refText(r domain.ConnectionRef) string {
	if r.Name == "" {
		return string(r.Kind)
	}
	return fmt.Sprintf("%q (%s)", r.Name, r.Kind)
}

func restoreTargetText(t domain.RestoreTarget, o domain.RestoreOptions) string {
	s := fmt.Sprintf("%q (%s", t.Name, t.Kind)
	if t.ConnectionID == nil {
		s += ", typed in"
	}
	s += ")"
	if o.Prefix != "" {
		s += " under prefix " + o.Prefix
	}
	if o.Database != "" {
		s += " into database " + o.Database
	}
	return s
}

func conflictText(o domain.RestoreOptions) string {
	s := "on conflict: " + orDash(o.Conflict)
	if o.OverwriteOriginal {
		s += ", overwriting the original confirmed"
	}
	return s
}

func completedText(e domain.OperationCompleted) string {
	switch {
	case e.Backup != nil:
		b := e.Backup
		return fmt.Sprintf("Completed: %d %s, %s of data in a %s archive at %s",
			b.ObjectCount, entriesWord(b), humanBytes(b.TotalBytes), humanBytes(b.ArchiveSize), orDash(b.ArchiveLocation))
	case e.Restore != nil:
		return "Completed and verified: " + verificationText(*e.Restore)
	}
	return "Completed"
}

func entriesWord(b *domain.BackupResult) string {
	if b.Database != "" || len(b.Collections) > 0 {
		return "collections"
	}
	return "objects"
}

func verificationText(r domain.RestoreReport) string {
	if r.Summary != "" {
		return r.Summary
	}
	return fmt.Sprintf("%d checked, %d restored, %d skipped, %d missing, %d mismatched", r.Checked, r.Restored, r.Skipped, len(r.Missing), len(r.Mismatched))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// humanBytes writes a byte count the way people read it (1.5 GiB), as
// archive.HumanBytes does in the executors' lines of the same log; a read
// model does not import an executor for it.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
