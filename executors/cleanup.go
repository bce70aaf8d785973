package executors

import (
	"context"
	"fmt"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
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
		journal, err := OpenJournal(ctx, w.store, op.ID, w.cfg.ID, op.Attempt)
		if err != nil {
			return err
		}
		cp, err := journal.Last(ctx)
		if err != nil {
			return err
		}
		if cp != nil && len(cp.Upload) > 0 {
			dst, err := w.loadConnection(ctx, op.Destination.ID)
			if err != nil {
				return err
			}
			dest, err := w.conns.Destination(ctx, dst, log)
			if err != nil {
				return err
			}
			log.Info("cancelling: removing the unfinished upload of " + cp.ArchiveName + " from " + dst.Name)
			if err := dest.DiscardUpload(ctx, cp.Upload); err != nil {
				log.Error("could not remove the unfinished upload: " + err.Error())
				return fmt.Errorf("discard upload of %s: %w", op.ID, err)
			}
			cleaned = append(cleaned, "removed the unfinished upload of "+cp.ArchiveName+" (parts, session and stashed bytes) from "+dst.Name)
		} else {
			cleaned = append(cleaned, "nothing had been uploaded yet")
		}
	}
	cleaned = append(cleaned, "no temporary files were left on this worker")
	for _, c := range cleaned {
		log.Info("clean-up: " + c)
	}
	oplog.Flush()
	cctx := commands.SystemActor(ctx, "worker "+w.cfg.ID, rec.Meta.CorrelationID, rec.ID)
	_, err = w.cmds.MarkCancelled.Handle(cctx, commands.MarkCancelled{ID: op.ID, CleanedUp: cleaned})
	if _, isDomain := domain.AsError(err); isDomain {
		return nil // already cancelled by another worker
	}
	return err
}
