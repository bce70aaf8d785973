package executors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/archive"
	"backupd/executors/gdrive"

	"github.com/google/uuid"
)

// runBackup runs (or resumes) a backup and records how it ended.
func (w *Worker) runBackup(ctx context.Context, j *job, oplog *OpLog) {
	op := j.op
	log := oplog.Logger()
	if op.Attempt > 1 {
		log.Info(fmt.Sprintf("worker %s resumes the backup (attempt %d)", w.cfg.ID, op.Attempt))
	} else {
		log.Info(fmt.Sprintf("worker %s started the backup of %s to %s", w.cfg.ID, op.Source.Name, op.Destination.Name))
	}
	params, err := w.backupParams(ctx, j, oplog)
	if err != nil {
		w.fail(ctx, op, oplog, err)
		return
	}
	outcome, err := archive.Backup(ctx, params)
	if params.Resume != nil && ctx.Err() == nil && archiveCannotContinue(err) {
		// The destination cannot take the archive from where it stopped
		// (Drive's session expired after a week, or a crash rewound into a
		// MongoDB collection whose new dump differs from the bytes Drive
		// kept): start it again from the beginning, once.
		log.Warn("the upload cannot be continued (" + err.Error() + "); starting the archive again from the beginning")
		if derr := params.Destination.DiscardUpload(ctx, params.Resume.Upload); derr != nil {
			log.Warn("could not remove the old upload: " + derr.Error())
		}
		params.Resume = nil
		outcome, err = archive.Backup(ctx, params)
	}
	cctx := commands.SystemActor(context.WithoutCancel(ctx), "worker "+w.cfg.ID, op.ID, uuid.Nil)

	var paused *archive.PausedError
	var cancelled *archive.CancelledError
	switch {
	case err == nil:
		r := outcome.Result
		log.Info(fmt.Sprintf("backup completed: %d %s, %s in, %s archive at %s (sha256 %s)",
			r.ObjectCount, entriesNoun(op.Source.Kind), archive.HumanBytes(r.TotalBytes), archive.HumanBytes(r.ArchiveSize), r.ArchiveLocation, r.ArchiveSHA256))
		oplog.Flush()
		if _, err := w.cmds.CompleteBackup.Handle(cctx, commands.CompleteBackup{ID: op.ID, WorkerID: w.cfg.ID, Result: r}); err != nil {
			w.logger.Error("cannot record the completed backup", "operation", op.ID, "error", err)
		}
	case errors.As(err, &paused):
		oplog.Flush()
		if j.stopping.Load() {
			w.interrupt(ctx, op, oplog)
			return
		}
		if _, err := w.cmds.MarkPaused.Handle(cctx, commands.MarkPaused{ID: op.ID, WorkerID: w.cfg.ID, Position: paused.Where, CheckpointSeq: paused.Checkpoint.Seq}); err != nil {
			w.logger.Error("cannot record the pause", "operation", op.ID, "error", err)
		}
	case errors.As(err, &cancelled):
		log.Info("backup cancelled")
		oplog.Flush()
		if _, err := w.cmds.MarkCancelled.Handle(cctx, commands.MarkCancelled{ID: op.ID, CleanedUp: cancelled.CleanedUp}); err != nil {
			w.logger.Error("cannot record the cancel", "operation", op.ID, "error", err)
		}
	case j.control.Requested() == StopFenced || errors.Is(err, ErrFenced):
		w.logger.Warn("stopped: the operation was taken from this worker", "operation", op.ID)
	case j.stopping.Load() && ctx.Err() != nil:
		w.interrupt(ctx, op, oplog)
	default:
		w.fail(ctx, op, oplog, err)
	}
}

func (w *Worker) backupParams(ctx context.Context, j *job, oplog *OpLog) (archive.BackupParams, error) {
	op := j.op
	log := oplog.Logger()
	src, err := w.loadConnection(ctx, op.Source.ID)
	if err != nil {
		return archive.BackupParams{}, err
	}
	dst, err := w.loadConnection(ctx, op.Destination.ID)
	if err != nil {
		return archive.BackupParams{}, err
	}
	log.Info(fmt.Sprintf("connecting to %s (%s) and %s (%s)", src.Name, src.Kind, dst.Name, dst.Kind))
	source, err := w.conns.Source(src, log)
	if err != nil {
		return archive.BackupParams{}, err
	}
	dest, err := w.conns.Destination(ctx, dst, log)
	if err != nil {
		return archive.BackupParams{}, err
	}
	journal, err := OpenJournal(ctx, w.store, op.ID, w.cfg.ID, op.Attempt)
	if err != nil {
		return archive.BackupParams{}, err
	}
	var resume *archive.Checkpoint
	if op.Attempt > 1 {
		if resume, err = journal.Last(ctx); err != nil {
			return archive.BackupParams{}, err
		}
		if resume == nil {
			log.Info("no checkpoint was recorded before it stopped: starting the archive from the beginning")
		}
	}
	meter := newProgressMeter(oplog)
	return archive.BackupParams{
		Source: source, Destination: dest, Journal: journal, Logger: log,
		Progress: meter.update, Control: stopAdapter{j.control}, Resume: resume,
		OperationID: op.ID, SourceID: src.ID, SourceName: src.Name, SourceKind: src.Kind,
		ArchiveName: ArchiveName(src.Name, op), StartedAt: op.StartedAt, TempDir: w.conns.SpoolDir,
	}, nil
}

func (w *Worker) loadConnection(ctx context.Context, id uuid.UUID) (*domain.Connection, error) {
	c, err := commands.Load(ctx, w.store, commands.ConnectionStream(id), func() *domain.Connection { return domain.NewConnection(id) })
	if err != nil {
		return nil, err
	}
	if !c.Exists() {
		return nil, fmt.Errorf("connection %s: %w", id, errConnectionGone)
	}
	return c, nil
}

// archiveCannotContinue tells the errors after which a resumed archive must
// start over rather than fail.
func archiveCannotContinue(err error) bool {
	return errors.Is(err, gdrive.ErrSessionExpired) || errors.Is(err, gdrive.ErrStoredDiffers)
}

// stopAdapter presents the worker's control to the archive pipeline. A
// fenced operation is stopped by cancelling the job's context instead: it
// must not clean up what now belongs to another worker.
type stopAdapter struct{ c *Control }

func (s stopAdapter) Requested() archive.StopRequest {
	switch s.c.Requested() {
	case StopPause:
		return archive.StopPause
	case StopCancel:
		return archive.StopCancel
	}
	return archive.StopNone
}

// ArchiveName is "<source>-<UTC time>-<operation prefix>.tar.gz", readable in
// a bucket listing and unique per operation.
func ArchiveName(sourceName string, op *domain.Operation) string {
	at := op.StartedAt
	if at.IsZero() {
		at = op.RequestedAt
	}
	return fmt.Sprintf("%s-%s-%s.tar.gz", slug(sourceName), at.UTC().Format("20060102T150405Z"), op.ID.String()[:8])
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		out = "backup"
	}
	if len(out) > 48 {
		out = strings.Trim(out[:48], "-")
	}
	return out
}

func entriesNoun(k domain.ConnectionKind) string {
	if k == domain.KindMongoSource {
		return "collections"
	}
	return "objects"
}
