package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"backupd/domain"
)

// cleanupTimeout bounds clean-up after a cancel or a failure.
const cleanupTimeout = 2 * time.Minute

// complete finishes the upload, stores the manifest beside the archive and
// fills in the result.
func (b *backupRun) complete(ctx context.Context) (BackupOutcome, error) {
	defer b.removeTemp()
	loc, err := b.completeUpload(ctx)
	if err != nil {
		return BackupOutcome{}, err
	}
	u := b.uploader
	m := b.writer.manifest
	archive := &ManifestArchive{
		Name: b.name, Location: string(loc), Size: u.compressed,
		SHA256:      hex.EncodeToString(u.sha.Sum(nil)),
		Compression: fmt.Sprintf("gzip, one member per %s of tar", HumanBytes(int64(b.p.BlockSize))),
	}
	elapsed := time.Since(b.started)
	b.log.Info(fmt.Sprintf("archive %s complete: %d %s, %s of content, %s compressed, in %s (%s/s)",
		b.name, m.header.Totals.Entries, b.noun, HumanBytes(m.header.Totals.Bytes), HumanBytes(u.compressed),
		elapsed.Round(100*time.Millisecond), HumanBytes(rate(u.last.TarOffset, elapsed))))
	b.log.Info(fmt.Sprintf("archive SHA-256 %s", archive.SHA256))

	r, size, err := m.open(archive)
	if err != nil {
		return BackupOutcome{}, b.orphanArchive(ctx, loc, err)
	}
	defer r.Close()
	h := sha256.New()
	mloc, err := b.p.Destination.Put(ctx, b.name+".manifest.json", io.TeeReader(r, h), size, "application/json")
	if err != nil {
		return BackupOutcome{}, b.orphanArchive(ctx, loc, fmt.Errorf("storing the manifest beside the archive: %w", err))
	}
	b.log.Info(fmt.Sprintf("manifest stored beside the archive (%s)", HumanBytes(size)))

	hdr := m.header
	hdr.Archive = archive
	res := domain.BackupResult{
		Format:           b.info.Format,
		ArchiveName:      b.name,
		ArchiveLocation:  string(loc),
		ManifestLocation: string(mloc),
		ArchiveSize:      u.compressed,
		ArchiveSHA256:    archive.SHA256,
		ManifestSHA256:   hex.EncodeToString(h.Sum(nil)),
		ObjectCount:      hdr.Totals.Entries,
		TotalBytes:       hdr.Totals.Bytes,
		SourceBucket:     b.info.Bucket,
		Database:         b.info.Database,
		Collections:      m.collections,
		StartedAt:        b.p.StartedAt,
		FinishedAt:       b.p.Now(),
	}
	if b.info.Service == "mongodb" {
		res.MongodumpVersion = b.info.ToolVersion
	}
	return BackupOutcome{Result: res, Manifest: hdr, Checkpoints: b.rec.recorded.Load()}, nil
}

// completeUpload finishes the upload, which waits for the parts still in
// flight: a cancel that arrives meanwhile is still honoured (the user asked
// before the backup was done), and a completion that raced with it is
// removed again.
func (b *backupRun) completeUpload(ctx context.Context) (Location, error) {
	if b.p.Control.Requested() == StopCancel {
		return "", errCancelRequested
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watched := make(chan struct{})
	var asked atomic.Bool
	go func() {
		defer close(watched)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-cctx.Done():
				return
			case <-t.C:
				if b.p.Control.Requested() == StopCancel {
					asked.Store(true)
					cancel()
					return
				}
			}
		}
	}()
	loc, err := b.up.Complete(cctx)
	cancel()
	<-watched
	switch {
	case asked.Load() && err == nil:
		dctx, dcancel := cleanupContext(ctx)
		defer dcancel()
		if derr := b.p.Destination.Delete(dctx, loc); derr != nil {
			b.log.Warn(fmt.Sprintf("the archive was completed as the cancel came; removing it failed: %v", derr))
		} else {
			b.log.Info("the archive was completed as the cancel came; removed it")
		}
		return "", errCancelRequested
	case asked.Load():
		return "", errCancelRequested
	case err != nil:
		return "", fmt.Errorf("finishing the upload of %s: %w", b.name, err)
	}
	return loc, nil
}

// orphanArchive removes a finished archive whose manifest could not be
// stored: without it the archive is not a usable backup.
func (b *backupRun) orphanArchive(ctx context.Context, loc Location, cause error) error {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := b.p.Destination.Delete(cctx, loc); err != nil {
		b.log.Warn(fmt.Sprintf("could not remove the archive without manifest %s: %v", loc, err))
	} else {
		b.log.Info(fmt.Sprintf("removed the archive %s, which has no manifest beside it", b.name))
	}
	return cause
}

// paused makes everything written durable, records the pause checkpoint and
// says where the backup stopped.
func (b *backupRun) paused(ctx context.Context) error {
	defer b.removeTemp()
	state, err := b.up.Suspend(ctx)
	if err != nil {
		return b.failed(ctx, fmt.Errorf("making the upload durable for the pause: %w", err))
	}
	pos := b.uploader.last
	cp := Checkpoint{Reason: "pause", Position: pos, Upload: state, At: b.p.Now()}
	if err := b.rec.record(ctx, cp); err != nil {
		return b.failed(ctx, err)
	}
	cp.Seq, cp.ArchiveName = b.rec.seq, b.name
	where := describePosition(pos, b.writer.partialDone, b.estimate.Entries, b.up.Uploaded(), b.noun)
	b.log.Info("paused " + where)
	return &PausedError{Checkpoint: cp, Where: where}
}

// cancelled removes everything the backup left and says what it removed.
func (b *backupRun) cancelled(ctx context.Context) error {
	b.log.Info("cancelling: removing what the backup wrote")
	cleaned := b.cleanUp(ctx)
	b.log.Info("backup cancelled")
	return &CancelledError{CleanedUp: cleaned}
}

// failed aborts the upload so no orphan parts remain, then returns cause.
func (b *backupRun) failed(ctx context.Context, cause error) error {
	b.log.Error(fmt.Sprintf("backup failed: %v", cause))
	b.cleanUp(ctx)
	return cause
}

func (b *backupRun) cleanUp(ctx context.Context) []string {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	var cleaned []string
	step := func(done string, err error) {
		if err != nil {
			b.log.Warn(fmt.Sprintf("clean-up incomplete: %s failed: %v", done, err))
			return
		}
		b.log.Info(done)
		cleaned = append(cleaned, done)
	}
	step(fmt.Sprintf("aborted the upload of %s", b.name), b.up.Abort(cctx))
	if b.p.Resume != nil {
		step("discarded what the earlier run left at the destination", b.p.Destination.DiscardUpload(cctx, b.p.Resume.Upload))
	}
	if b.writer != nil && b.writer.manifest != nil {
		step("removed the temporary manifest file", b.writer.manifest.remove())
		b.writer.manifest = nil
	}
	return cleaned
}

func (b *backupRun) removeTemp() {
	if b.writer != nil && b.writer.manifest != nil {
		if err := b.writer.manifest.remove(); err != nil {
			b.log.Warn(fmt.Sprintf("could not remove the temporary manifest file: %v", err))
		}
	}
}

// CancelPaused removes what a paused (or interrupted) backup left at the
// destination (its multipart upload or session and stashed bytes):
// cancelling it needs no pipeline. It returns the clean-up steps in words.
func CancelPaused(ctx context.Context, dest Destination, cp *Checkpoint, log *slog.Logger) ([]string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cp == nil || len(cp.Upload) == 0 {
		log.Info("nothing was uploaded yet; nothing to clean up")
		return nil, nil
	}
	if err := dest.DiscardUpload(ctx, cp.Upload); err != nil {
		return nil, fmt.Errorf("removing the unfinished upload of %s: %w", cp.ArchiveName, err)
	}
	done := fmt.Sprintf("removed the unfinished upload of %s (its parts, session and stashed bytes) from the destination", cp.ArchiveName)
	log.Info(done)
	return []string{done}, nil
}

func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

func rate(n int64, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(float64(n) / d.Seconds())
}
