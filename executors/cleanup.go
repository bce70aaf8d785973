package executors

import (
	"context"
	"log/slog"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/archive"
)

// cleanUpCancelled carries out a cancel of an operation no worker runs
// (paused or interrupted): it removes what the backup left at the
// destination (multipart parts, resumable session, stashed bytes), then
// records the operation cancelled. Every step is idempotent, so two
// workers doing it at once is harmless.
func (w *Worker) cleanUpCancelled(ctx context.Context, op *domain.Operation, rec eventstore.Recorded) error {
	oplog, err := NewOpLog(ctx, w.store, op.ID, w.cfg.ID, op.Attempt, w.logger)
	if err != nil {
		return err
	}
	defer oplog.Close()
	log := oplog.Logger()
	var cleaned []string
	if op.Kind == domain.OpBackup {
		if cleaned, err = w.discardUnfinishedUpload(ctx, op, log); err != nil {
			log.Error("could not remove the unfinished upload: " + err.Error())
			return err
		}
	}
	if len(cleaned) == 0 {
		nothing := "nothing had been uploaded yet"
		if op.Kind == domain.OpRestore {
			nothing = "nothing to remove: what the restore wrote stays in the target"
		}
		cleaned = []string{nothing}
		log.Info("clean-up: " + nothing)
	}
	oplog.Flush()
	cctx := commands.SystemActor(ctx, "worker "+w.cfg.ID, rec.Meta.CorrelationID, rec.ID)
	_, err = w.cmds.MarkCancelled.Handle(cctx, commands.MarkCancelled{ID: op.ID, CleanedUp: cleaned})
	if _, isDomain := domain.AsError(err); isDomain {
		return nil // already cancelled by another worker
	}
	return err
}

// discardUnfinishedUpload removes the upload a paused or interrupted backup
// left at its destination, as its last checkpoint records it.
func (w *Worker) discardUnfinishedUpload(ctx context.Context, op *domain.Operation, log *slog.Logger) ([]string, error) {
	journal, err := OpenJournal(ctx, w.store, op.ID, w.cfg.ID, op.Attempt)
	if err != nil {
		return nil, err
	}
	cp, err := journal.Last(ctx)
	if err != nil || cp == nil || len(cp.Upload) == 0 {
		return nil, err
	}
	dst, err := w.loadConnection(ctx, op.Destination.ID)
	if err != nil {
		return nil, err
	}
	dest, err := w.conns.Destination(ctx, dst, log)
	if err != nil {
		return nil, err
	}
	log.Info("cancelling: removing the unfinished upload of " + cp.ArchiveName + " from " + dst.Name)
	return archive.CancelPaused(ctx, dest, cp, log)
}
