package executors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/archive"

	"github.com/google/uuid"
)

// errRestoreStopped ends a restore at an entry boundary: a cancel, or the
// worker shutting down. Nothing is half-written when it is returned.
var errRestoreStopped = errors.New("the restore stopped between two entries")

// entryRestorer writes the entries of an archive to one kind of target.
type entryRestorer interface {
	// restore writes one entry. content fails at its end if the bytes
	// differ from the manifest; the entry must not be completed then. It
	// may finish writing in the background (see wait).
	restore(ctx context.Context, e archive.ExtractedEntry, content io.Reader) error
	// wait waits for the entries still being written and returns the
	// first failure.
	wait() error
	// verify reads what was restored back and checks it against the
	// manifest.
	verify(ctx context.Context, m *archive.Manifest) (domain.RestoreReport, error)
	// tally is how many entries were restored and skipped so far.
	tally() (restored, skipped int64)
	close()
}

// restoreRun is one attempt at a restore.
type restoreRun struct {
	w        *Worker
	j        *job
	log      *slog.Logger
	req      *domain.RestoreRequested
	dest     archive.Destination
	manifest *archive.Manifest
	target   entryRestorer
	where    string // the target in words
	noun     string // "objects" or "collections"
	meter    *restoreMeter
	// next is the entry the restore stopped before, when it stopped early.
	next *archive.ExtractedEntry
}

// runRestore runs a restore and records how it ended. A restore cannot be
// paused; a cancel or a shutdown stops it between two entries, and a
// resumed (interrupted) restore starts again from the archive's beginning.
func (w *Worker) runRestore(ctx context.Context, j *job, oplog *OpLog) {
	op := j.op
	log := oplog.Logger()
	if op.Restore == nil {
		w.fail(ctx, op, oplog, errors.New("the restore's request is missing from its history"))
		return
	}
	req := op.Restore
	if op.Attempt > 1 {
		log.Info(fmt.Sprintf("worker %s restarts the restore (attempt %d): a restore does not continue mid-archive, so it reads the archive again from the beginning", w.cfg.ID, op.Attempt))
	} else {
		log.Info(fmt.Sprintf("worker %s started the restore of %s from %s into %s", w.cfg.ID, req.Backup.ArchiveName, req.Archive.Name, req.Target.Name))
	}
	run, err := w.prepareRestore(ctx, j, oplog)
	if err != nil {
		w.endRestore(ctx, j, oplog, run, domain.RestoreReport{}, err)
		return
	}
	defer run.close()
	meterCtx, stopMeter := context.WithCancel(ctx)
	meterDone := make(chan struct{})
	go func() { defer close(meterDone); run.meter.run(meterCtx) }()
	report, err := run.restoreAndVerify(ctx)
	stopMeter()
	<-meterDone
	w.endRestore(ctx, j, oplog, run, report, err)
}

// prepareRestore reads the manifest beside the archive and connects to the
// target.
func (w *Worker) prepareRestore(ctx context.Context, j *job, oplog *OpLog) (*restoreRun, error) {
	req := j.op.Restore
	log := oplog.Logger()
	run := &restoreRun{w: w, j: j, log: log, req: req, noun: entriesNoun(req.Target.Kind)}
	archiveConn, err := w.loadConnection(ctx, req.Archive.ID)
	if err != nil {
		return run, fmt.Errorf("the archive's destination %s: %w", req.Archive.Name, err)
	}
	log.Info(fmt.Sprintf("connecting to %s (%s), which holds the archive", archiveConn.Name, archiveConn.Kind))
	if run.dest, err = w.conns.Destination(ctx, archiveConn, log); err != nil {
		return run, err
	}
	log.Info("reading the manifest beside the archive: " + req.Backup.ManifestLocation)
	if run.manifest, err = openManifest(ctx, run.dest, &req.Backup); err != nil {
		return run, err
	}
	m := run.manifest
	log.Info(fmt.Sprintf("the manifest lists %d %s, %s, from %s (%s); archive %s, SHA-256 %s",
		m.Totals.Entries, run.noun, archive.HumanBytes(m.Totals.Bytes), m.Source.Name, sourceWhat(m.ManifestHeader), archive.HumanBytes(m.Archive.Size), m.Archive.SHA256))

	access, err := restoreTargetAccess(ctx, w.store, w.conns, req.Target)
	if err != nil {
		return run, err
	}
	opts := req.Options
	run.meter = newRestoreMeter(oplog, run.noun, m.Totals.Entries, m.Totals.Bytes)
	switch access.Kind.Service() {
	case "s3":
		run.target, run.where, err = w.s3Restorer(ctx, access, opts, log, run.meter)
	case "mongodb":
		run.target, run.where, err = w.mongoRestorer(access, opts, m.ManifestHeader, log, run.meter)
	default:
		err = fmt.Errorf("%s is not a restore target", access.Kind)
	}
	if err != nil {
		return run, err
	}
	log.Info(fmt.Sprintf("restoring into %s (%s); %s", run.where, access.Name, conflictWords(access.Kind, opts.Conflict)))
	return run, nil
}

func sourceWhat(h archive.ManifestHeader) string {
	if h.Service == "mongodb" {
		return "MongoDB database " + h.Database
	}
	return "S3 bucket " + h.Bucket
}

func conflictWords(kind domain.ConnectionKind, conflict string) string {
	switch {
	case kind.Service() == "mongodb" && conflict == "drop":
		return "each collection is dropped before it is restored"
	case kind.Service() == "mongodb":
		return "documents are inserted alongside what the collections hold"
	case conflict == "skip":
		return "objects that already exist are skipped"
	}
	return "objects that already exist are overwritten"
}

// restoreAndVerify streams the archive into the target, then verifies.
func (r *restoreRun) restoreAndVerify(ctx context.Context) (domain.RestoreReport, error) {
	loc := archive.Location(r.req.Backup.ArchiveLocation)
	r.log.Info(fmt.Sprintf("downloading and unpacking the archive as it arrives: %s (%s)", loc, archive.HumanBytes(r.req.Backup.ArchiveSize)))
	rc, err := r.dest.Open(ctx, loc, 0)
	if err != nil {
		return domain.RestoreReport{}, fmt.Errorf("opening the archive %s: %w", loc, err)
	}
	defer rc.Close()
	res, err := archive.Extract(ctx, countingReader{r: rc, n: &r.meter.archiveRead}, archive.ExtractParams{
		Manifest: r.manifest,
		Logger:   r.log,
		OnEntry:  r.entry,
	})
	// Entries still being written finish (or fail) before anything is said
	// about the restore.
	if werr := r.target.wait(); err == nil || (errors.Is(err, errRestoreStopped) && werr != nil) {
		err = werr
	}
	if err != nil {
		return domain.RestoreReport{}, err
	}
	restored, skipped := r.target.tally()
	r.log.Info(fmt.Sprintf("all %d %s are restored (%d written, %d skipped); %s unpacked from %s of archive",
		res.Entries, r.noun, restored, skipped, archive.HumanBytes(res.Bytes), archive.HumanBytes(res.ArchiveSize)))

	r.meter.setPhase("verifying")
	r.meter.setCurrent("")
	r.log.Info("verifying the restored data against the manifest")
	vctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { // a cancel also stops the verification
		select {
		case <-r.j.control.Changed():
			stop()
		case <-vctx.Done():
		}
	}()
	report, err := r.target.verify(vctx, r.manifest)
	if err != nil {
		if r.j.control.Requested() != StopNone {
			return report, fmt.Errorf("%w: during the verification", errRestoreStopped)
		}
		return report, err
	}
	report.Restored, report.Skipped = restored, skipped
	return report, nil
}

// entry hands one archive entry to the target, unless a stop was asked
// for: then the restore ends here, before this entry.
func (r *restoreRun) entry(ctx context.Context, e archive.ExtractedEntry, content io.Reader) error {
	if r.j.control.Requested() != StopNone {
		r.next = &e
		return errRestoreStopped
	}
	r.meter.setCurrent(e.Key)
	return r.target.restore(ctx, e, countingReader{r: content, n: &r.meter.bytesRead})
}

func (r *restoreRun) close() {
	if r.target != nil {
		r.target.close()
	}
	if r.manifest != nil {
		r.manifest.Close()
	}
}

// endRestore records how the restore ended: verified or not, cancelled,
// interrupted by a shutdown, or failed.
func (w *Worker) endRestore(ctx context.Context, j *job, oplog *OpLog, run *restoreRun, report domain.RestoreReport, err error) {
	op := j.op
	log := oplog.Logger()
	cctx := commands.SystemActor(context.WithoutCancel(ctx), "worker "+w.cfg.ID, op.ID, uuid.Nil)
	var damaged *archive.ArchiveError
	switch {
	case err == nil:
		if report.Verified {
			log.Info("restore completed and verified: " + report.Summary)
		} else {
			log.Error("verification failed: " + report.Summary)
			for _, m := range report.Missing {
				log.Error("missing: " + m)
			}
			for _, m := range report.Mismatched {
				log.Error(fmt.Sprintf("differs: %s: %s", m.Key, m.Reason))
			}
		}
		oplog.Flush()
		if _, err := w.cmds.RecordVerification.Handle(cctx, commands.RecordVerification{ID: op.ID, WorkerID: w.cfg.ID, Report: report}); err != nil {
			w.logger.Error("cannot record the verification", "operation", op.ID, "error", err)
		}
	case j.control.Requested() == StopFenced || errors.Is(err, ErrFenced):
		w.logger.Warn("stopped: the operation was taken from this worker", "operation", op.ID)
	case j.control.Requested() == StopCancel && (errors.Is(err, errRestoreStopped) || errors.Is(err, context.Canceled)):
		where := run.stoppedWhere()
		log.Info("restore cancelled: " + where)
		cleaned := []string{where, run.leftAtTarget(), "no temporary files were left on this worker"}
		oplog.Flush()
		if _, err := w.cmds.MarkCancelled.Handle(cctx, commands.MarkCancelled{ID: op.ID, CleanedUp: cleaned}); err != nil {
			w.logger.Error("cannot record the cancel", "operation", op.ID, "error", err)
		}
	case j.stopping.Load() && (errors.Is(err, errRestoreStopped) || ctx.Err() != nil):
		log.Warn(run.stoppedWhere() + "; a resumed restore reads the archive again from the beginning")
		w.interrupt(ctx, op, oplog)
	case errors.As(err, &damaged):
		log.Error(fmt.Sprintf("the archive is damaged (%s): the restore stops and is not reported complete. %s", damaged.Problem, run.leftAtTarget()))
		w.fail(ctx, op, oplog, fmt.Errorf("the archive cannot be restored: %w", err))
	default:
		w.fail(ctx, op, oplog, err)
	}
}

// stoppedWhere says in words where an early stop left the restore.
func (r *restoreRun) stoppedWhere() string {
	if r == nil || r.target == nil {
		return "stopped before anything was restored"
	}
	restored, skipped := r.target.tally()
	done := fmt.Sprintf("%d of %d %s restored", restored, r.manifest.Totals.Entries, r.noun)
	if skipped > 0 {
		done += fmt.Sprintf(" and %d skipped", skipped)
	}
	if r.next != nil {
		return fmt.Sprintf("stopped before entry %d of %d (%q): %s", r.next.Index+1, r.manifest.Totals.Entries, r.next.Key, done)
	}
	if restored+skipped >= r.manifest.Totals.Entries {
		return "stopped during the verification: " + done
	}
	return "stopped: " + done
}

// leftAtTarget says what an unfinished restore leaves behind: restored
// entries are kept (nothing at the target is deleted by a restore).
func (r *restoreRun) leftAtTarget() string {
	if r == nil || r.target == nil {
		return "nothing was written to the target"
	}
	restored, _ := r.target.tally()
	if restored == 0 {
		return "nothing was written to " + r.where
	}
	return fmt.Sprintf("the %d %s written before it stopped remain in %s (a restore deletes nothing there)", restored, r.noun, r.where)
}
