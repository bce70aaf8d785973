package domain

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Operation is a backup or a restore. Its stream holds only state changes;
// log lines and progress go to its log stream, resume state and archive
// entries to its checkpoint stream (see Stream names in the commands package).
type Operation struct {
	Root
	ID              uuid.UUID
	Kind            OperationKind
	Status          OperationStatus
	Source          ConnectionRef
	Destination     ConnectionRef
	Restore         *RestoreRequested
	RequestedAt     time.Time
	StartedAt       time.Time // first start
	FinishedAt      time.Time
	WorkerID        string
	Attempt         int
	PauseRequested  bool
	CancelRequested bool
	// Checkpointed is true once the executor has recorded resume state
	// (at a pause); a cancel then needs a worker to clean up.
	Checkpointed bool
	Paused       *OperationPaused
	Interrupted  *OperationInterrupted
	Result       *BackupResult
	Report       *RestoreReport
	Error        string
	ErrorCode    string
}

func NewOperation(id uuid.UUID) *Operation { return &Operation{Root: NewRoot(), ID: id} }

func (o *Operation) Exists() bool { return o.Status != "" }

func transitionError(o *Operation, action string) error {
	return Conflict("invalid-transition", fmt.Sprintf("cannot %s: the %s is %s", action, o.Kind, o.Status))
}

// RequestBackup creates a pending backup from source to destination.
func (o *Operation) RequestBackup(source, destination ConnectionRef, now time.Time) error {
	if o.Exists() {
		return Conflict("operation-exists", "this operation already exists")
	}
	if source.Kind.Role() != RoleSource {
		return Invalid("not-a-source", "source_id", "choose a data source")
	}
	if destination.Kind.Role() != RoleDestination {
		return Invalid("not-a-destination", "destination_id", "choose a backup destination")
	}
	o.raise(BackupRequested{OperationID: o.ID, Source: source, Destination: destination, At: now})
	return nil
}

// RestoreTargetKind is the connection kind a restore of a backup from
// sourceKind writes to.
func RestoreTargetKind(sourceKind ConnectionKind) ConnectionKind { return sourceKind }

// RequestRestore creates a pending restore of a completed backup.
func (o *Operation) RequestRestore(backup *Operation, target RestoreTarget, opts RestoreOptions, now time.Time) error {
	if o.Exists() {
		return Conflict("operation-exists", "this operation already exists")
	}
	if backup == nil || !backup.Exists() || backup.Kind != OpBackup {
		return NotFound("backup-not-found", "backup not found")
	}
	if backup.Status != OpCompleted || backup.Result == nil {
		return Conflict("backup-not-completed", "only a completed backup can be restored")
	}
	if target.Kind != backup.Source.Kind {
		return Invalid("target-kind", "target", fmt.Sprintf("a %s backup restores to a %s target", backup.Source.Kind, backup.Source.Kind))
	}
	switch target.Kind.Service() {
	case "s3":
		if opts.Conflict == "" {
			opts.Conflict = "overwrite"
		}
		if opts.Conflict != "overwrite" && opts.Conflict != "skip" {
			return Invalid("conflict-invalid", "conflict", "choose overwrite or skip")
		}
		if len(opts.Prefix) > 512 || containsDotDotSegment(opts.Prefix) {
			return Invalid("prefix-invalid", "prefix", "the prefix may not contain .. segments")
		}
	case "mongodb":
		if opts.Conflict == "" {
			opts.Conflict = "insert"
		}
		if opts.Conflict != "drop" && opts.Conflict != "insert" {
			return Invalid("conflict-invalid", "conflict", "choose drop or insert")
		}
		if opts.Database == "" {
			return Invalid("field-required", "database", "enter the target database")
		}
	}
	if target.ConnectionID != nil && *target.ConnectionID == backup.Source.ID && o.isOriginalPlace(backup, target, opts) && !opts.OverwriteOriginal {
		return Invalid("confirm-overwrite-original", "overwrite_original", "this restores over the data the backup came from; confirm to continue")
	}
	o.raise(RestoreRequested{
		OperationID: o.ID, BackupID: backup.ID, Archive: backup.Destination, Backup: *backup.Result,
		Target: target, Options: opts, At: now,
	})
	return nil
}

func (o *Operation) isOriginalPlace(backup *Operation, target RestoreTarget, opts RestoreOptions) bool {
	switch target.Kind.Service() {
	case "s3":
		return opts.Prefix == ""
	case "mongodb":
		return opts.Database == backup.Result.Database
	}
	return false
}

func containsDotDotSegment(p string) bool {
	seg := ""
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if seg == ".." {
				return true
			}
			seg = ""
			continue
		}
		seg += string(p[i])
	}
	return false
}

// Start is a worker's claim on a pending operation.
func (o *Operation) Start(workerID string, now time.Time) error {
	if !o.Exists() {
		return ErrNotFound
	}
	if o.Status != OpPending || o.CancelRequested {
		return transitionError(o, "start")
	}
	o.raise(OperationStarted{OperationID: o.ID, WorkerID: workerID, Attempt: o.Attempt + 1, Resumed: o.Checkpointed, At: now})
	return nil
}

// RequestPause asks the executor to stop at its next safe point. A pending
// operation that no worker holds pauses at once. Asking twice is a no-op.
func (o *Operation) RequestPause(now time.Time) error {
	if !o.Exists() {
		return ErrNotFound
	}
	if o.Kind != OpBackup {
		return Conflict("pause-unsupported", "only backups can be paused; cancel a restore instead")
	}
	switch {
	case o.Status == OpRunning && o.PauseRequested:
		return nil
	case o.Status == OpRunning && o.CancelRequested:
		return Conflict("cancelling", "the backup is being cancelled")
	case o.Status == OpRunning:
		o.raise(OperationPauseRequested{OperationID: o.ID, At: now})
	case o.Status == OpPending && !o.CancelRequested:
		o.raise(OperationPauseRequested{OperationID: o.ID, At: now})
		o.raise(OperationPaused{OperationID: o.ID, Position: o.pendingPosition(), At: now})
	default:
		return transitionError(o, "pause")
	}
	return nil
}

func (o *Operation) pendingPosition() string {
	if o.Checkpointed && o.Paused != nil {
		return o.Paused.Position
	}
	return "before it started"
}

// MarkPaused is the executor's report that it stopped at a safe point.
func (o *Operation) MarkPaused(workerID string, position string, checkpointSeq int64, now time.Time) error {
	if o.Status != OpRunning || !o.PauseRequested || o.WorkerID != workerID {
		return transitionError(o, "mark paused")
	}
	o.raise(OperationPaused{OperationID: o.ID, Position: position, CheckpointSeq: checkpointSeq, At: now})
	return nil
}

// RequestResume hands a paused or interrupted operation back to the queue.
func (o *Operation) RequestResume(now time.Time) error {
	if !o.Exists() {
		return ErrNotFound
	}
	if o.CancelRequested {
		return Conflict("cancelling", "the operation is being cancelled")
	}
	if !CanTransition(o.Status, OpPending) {
		return transitionError(o, "resume")
	}
	o.raise(OperationResumeRequested{OperationID: o.ID, At: now})
	return nil
}

// RequestCancel stops a pending, running, paused or interrupted operation.
// One that never started and holds nothing is cancelled at once; otherwise
// a worker stops it (running) or cleans up after it (paused, interrupted)
// and records OperationCancelled.
func (o *Operation) RequestCancel(now time.Time) error {
	if !o.Exists() {
		return ErrNotFound
	}
	if o.Status.Terminal() {
		return transitionError(o, "cancel")
	}
	if o.CancelRequested {
		return nil
	}
	o.raise(OperationCancelRequested{OperationID: o.ID, At: now})
	if (o.Status == OpPending || o.Status == OpPaused) && o.Attempt == 0 {
		o.raise(OperationCancelled{OperationID: o.ID, CleanedUp: []string{"nothing to clean up: it had not started"}, At: now})
	}
	return nil
}

// NeedsCleanupWorker reports whether a cancel must be carried out by a
// worker that is not running the operation (it is paused or interrupted).
func (o *Operation) NeedsCleanupWorker() bool {
	return o.CancelRequested && !o.Status.Terminal() && o.Status != OpRunning
}

// MarkCancelled records the end of a cancel, after clean-up.
func (o *Operation) MarkCancelled(cleanedUp []string, now time.Time) error {
	if o.Status.Terminal() || !o.CancelRequested {
		return transitionError(o, "mark cancelled")
	}
	o.raise(OperationCancelled{OperationID: o.ID, CleanedUp: cleanedUp, At: now})
	return nil
}

// Interrupt is the reaper's verdict on a running operation whose worker
// stopped. It only applies to the attempt the reaper saw, so a worker that
// re-claimed the operation meanwhile is never interrupted by mistake.
func (o *Operation) Interrupt(workerID string, attempt int, lastHeartbeat time.Time, now time.Time) error {
	if o.Status != OpRunning || o.WorkerID != workerID || o.Attempt != attempt {
		return transitionError(o, "interrupt")
	}
	o.raise(OperationInterrupted{OperationID: o.ID, WorkerID: workerID, Attempt: attempt, LastHeartbeat: lastHeartbeat,
		Reason: "worker stopped: no heartbeat since " + lastHeartbeat.UTC().Format(time.RFC3339), At: now})
	return nil
}

// CompleteBackup records the archive's metadata.
func (o *Operation) CompleteBackup(workerID string, result BackupResult, now time.Time) error {
	if o.Kind != OpBackup || o.Status != OpRunning || o.WorkerID != workerID {
		return transitionError(o, "complete")
	}
	o.raise(OperationCompleted{OperationID: o.ID, Backup: &result, At: now})
	return nil
}

// RecordVerification ends a restore: completed when the report verifies,
// failed otherwise.
func (o *Operation) RecordVerification(workerID string, report RestoreReport, now time.Time) error {
	if o.Kind != OpRestore || o.Status != OpRunning || o.WorkerID != workerID {
		return transitionError(o, "record verification")
	}
	o.raise(RestoreVerified{OperationID: o.ID, Report: report, At: now})
	if report.Verified {
		o.raise(OperationCompleted{OperationID: o.ID, Restore: &report, At: now})
	} else {
		o.raise(OperationFailed{OperationID: o.ID, Error: "verification failed: " + report.Summary, Code: "verification-failed", Restore: &report, At: now})
	}
	return nil
}

// Fail records an error with its stack trace.
func (o *Operation) Fail(workerID, msg, code, stack string, now time.Time) error {
	if o.Status != OpRunning || o.WorkerID != workerID {
		return transitionError(o, "fail")
	}
	o.raise(OperationFailed{OperationID: o.ID, Error: msg, Code: code, Stack: stack, At: now})
	return nil
}

func (o *Operation) raise(e Event) {
	o.Apply(e)
	o.record(e)
}

func (o *Operation) Apply(e Event) {
	switch e := e.(type) {
	case BackupRequested:
		o.ID, o.Kind, o.Status = e.OperationID, OpBackup, OpPending
		o.Source, o.Destination, o.RequestedAt = e.Source, e.Destination, e.At
	case RestoreRequested:
		o.ID, o.Kind, o.Status = e.OperationID, OpRestore, OpPending
		o.Source = e.Archive
		o.Destination = ConnectionRef{Name: e.Target.Name, Kind: e.Target.Kind}
		if e.Target.ConnectionID != nil {
			o.Destination.ID = *e.Target.ConnectionID
		}
		r := e
		o.Restore, o.RequestedAt = &r, e.At
	case OperationStarted:
		o.Status, o.WorkerID, o.Attempt = OpRunning, e.WorkerID, e.Attempt
		o.PauseRequested = false
		if o.StartedAt.IsZero() {
			o.StartedAt = e.At
		}
	case OperationPauseRequested:
		o.PauseRequested = true
	case OperationPaused:
		p := e
		o.Status, o.Paused, o.PauseRequested = OpPaused, &p, false
		if e.CheckpointSeq > 0 {
			o.Checkpointed = true
		}
	case OperationResumeRequested:
		o.Status = OpPending
	case OperationCancelRequested:
		o.CancelRequested = true
	case OperationCancelled:
		o.Status, o.FinishedAt = OpCancelled, e.At
	case OperationInterrupted:
		i := e
		o.Status, o.Interrupted = OpInterrupted, &i
		o.Checkpointed = true // the executor checkpoints as it goes; the resume finds out how far
	case OperationCompleted:
		o.Status, o.FinishedAt = OpCompleted, e.At
		o.Result, o.Report = e.Backup, e.Restore
	case OperationFailed:
		o.Status, o.FinishedAt, o.Error, o.ErrorCode = OpFailed, e.At, e.Error, e.Code
		if e.Restore != nil {
			o.Report = e.Restore
		}
	case RestoreVerified:
		r := e.Report
		o.Report = &r
	}
}
