package projections

import (
	"context"
	"fmt"

	"backupd/commands/eventstore"
	"backupd/domain"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// operationsProjector keeps the operations table: state changes from the
// operation streams, progress and heartbeats from the log streams.
type operationsProjector struct{}

func (operationsProjector) Name() string     { return "operations" }
func (operationsProjector) Tables() []string { return []string{"operations"} }
func (operationsProjector) EventTypes() []string {
	return append(operationStateEventTypes(), domain.OperationProgressed{}.EventType())
}

// operationStateEventTypes are the events of an operation's own stream.
func operationStateEventTypes() []string {
	return []string{
		domain.BackupRequested{}.EventType(), domain.RestoreRequested{}.EventType(),
		domain.OperationStarted{}.EventType(), domain.OperationPauseRequested{}.EventType(),
		domain.OperationPaused{}.EventType(), domain.OperationResumeRequested{}.EventType(),
		domain.OperationCancelRequested{}.EventType(), domain.OperationCancelled{}.EventType(),
		domain.OperationInterrupted{}.EventType(), domain.OperationCompleted{}.EventType(),
		domain.OperationFailed{}.EventType(), domain.RestoreVerified{}.EventType(),
	}
}

func (p operationsProjector) Apply(ctx context.Context, tx pgx.Tx, rec eventstore.Recorded) error {
	switch e := rec.Event.(type) {
	case domain.BackupRequested:
		_, err := tx.Exec(ctx, `INSERT INTO operations (id, kind, status, source_id, source_name, source_kind,
				destination_id, destination_name, destination_kind, requested_by, requested_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			e.OperationID, domain.OpBackup, domain.OpPending, nullUUID(e.Source.ID), e.Source.Name, e.Source.Kind,
			nullUUID(e.Destination.ID), e.Destination.Name, e.Destination.Kind, rec.Meta.ActorName, e.At)
		return err
	case domain.RestoreRequested:
		info, err := jsonValue(restoreInfo(e))
		if err != nil {
			return err
		}
		var target *uuid.UUID
		if e.Target.ConnectionID != nil {
			target = nullUUID(*e.Target.ConnectionID)
		}
		_, err = tx.Exec(ctx, `INSERT INTO operations (id, kind, status, source_id, source_name, source_kind,
				destination_id, destination_name, destination_kind, backup_id, requested_by, requested_at, restore)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			e.OperationID, domain.OpRestore, domain.OpPending, nullUUID(e.Archive.ID), e.Archive.Name, e.Archive.Kind,
			target, e.Target.Name, e.Target.Kind, e.BackupID, rec.Meta.ActorName, e.At, info)
		return err
	case domain.OperationStarted:
		return exec1(ctx, tx, "operation started", `UPDATE operations SET status = $2, worker_id = $3, attempt = $4,
				started_at = coalesce(started_at, $5), heartbeat_at = $5, pause_requested = false, paused_position = ''
			WHERE id = $1`, e.OperationID, domain.OpRunning, e.WorkerID, e.Attempt, e.At)
	case domain.OperationPauseRequested:
		return exec1(ctx, tx, "pause requested", `UPDATE operations SET pause_requested = true WHERE id = $1`, e.OperationID)
	case domain.OperationPaused:
		return exec1(ctx, tx, "operation paused", `UPDATE operations SET status = $2, paused_position = $3, pause_requested = false WHERE id = $1`,
			e.OperationID, domain.OpPaused, e.Position)
	case domain.OperationResumeRequested:
		return exec1(ctx, tx, "resume requested", `UPDATE operations SET status = $2 WHERE id = $1`, e.OperationID, domain.OpPending)
	case domain.OperationCancelRequested:
		return exec1(ctx, tx, "cancel requested", `UPDATE operations SET cancel_requested = true WHERE id = $1`, e.OperationID)
	case domain.OperationCancelled:
		return exec1(ctx, tx, "operation cancelled", `UPDATE operations SET status = $2, finished_at = $3 WHERE id = $1`,
			e.OperationID, domain.OpCancelled, e.At)
	case domain.OperationInterrupted:
		return exec1(ctx, tx, "operation interrupted", `UPDATE operations SET status = $2 WHERE id = $1`, e.OperationID, domain.OpInterrupted)
	case domain.OperationCompleted:
		return p.completed(ctx, tx, e)
	case domain.OperationFailed:
		report, err := nullJSON(e.Restore)
		if err != nil {
			return err
		}
		return exec1(ctx, tx, "operation failed", `UPDATE operations SET status = $2, finished_at = $3, error = $4, error_code = $5,
				stack = $6, report = coalesce($7, report) WHERE id = $1`,
			e.OperationID, domain.OpFailed, e.At, e.Error, e.Code, e.Stack, report)
	case domain.RestoreVerified:
		report, err := jsonValue(e.Report)
		if err != nil {
			return err
		}
		return exec1(ctx, tx, "restore verified", `UPDATE operations SET report = $2 WHERE id = $1`, e.OperationID, report)
	case domain.OperationProgressed:
		// Only the current attempt's worker moves the bar and the heartbeat:
		// a late tick of an interrupted worker must not make the operation
		// look alive.
		progress, err := jsonValue(e.Progress)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE operations SET progress = $2, progress_updated_at = $3, heartbeat_at = $3
			WHERE id = $1 AND attempt = $4 AND worker_id = $5`, e.OperationID, progress, e.At, e.Attempt, e.WorkerID)
		return err
	}
	return unexpectedEvent(p, rec)
}

func (operationsProjector) completed(ctx context.Context, tx pgx.Tx, e domain.OperationCompleted) error {
	result, err := nullJSON(e.Backup)
	if err != nil {
		return err
	}
	report, err := nullJSON(e.Restore)
	if err != nil {
		return err
	}
	var size, objects, total *int64
	location := ""
	if b := e.Backup; b != nil {
		size, objects, total, location = &b.ArchiveSize, &b.ObjectCount, &b.TotalBytes, b.ArchiveLocation
	}
	return exec1(ctx, tx, "operation completed", `UPDATE operations SET status = $2, finished_at = $3, result = $4,
			report = coalesce($5, report), archive_size = $6, object_count = $7, total_bytes = $8, archive_location = $9
		WHERE id = $1`, e.OperationID, domain.OpCompleted, e.At, result, report, size, objects, total, location)
}

// restoreInfo is the restore request as the read model keeps it: no sealed
// secret, no secret among the settings.
func restoreInfo(e domain.RestoreRequested) RestoreInfo {
	archiveID := e.Archive.ID
	info := RestoreInfo{
		BackupID: e.BackupID,
		Archive:  Ref{ID: nullUUID(archiveID), Name: e.Archive.Name, Kind: e.Archive.Kind},
		Backup:   e.Backup,
		Options:  e.Options,
		Target: RestoreTargetInfo{
			ConnectionID: e.Target.ConnectionID, Kind: e.Target.Kind, Name: e.Target.Name,
			Settings: publicSettings(e.Target.Kind, e.Target.Settings), SecretsSet: secretsSet(e.Target.Secrets),
		},
	}
	return info
}

// nullUUID maps the zero id to NULL.
func nullUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// nullJSON encodes a pointer for a nullable jsonb column (nil: NULL).
func nullJSON[T any](v *T) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := jsonValue(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}
