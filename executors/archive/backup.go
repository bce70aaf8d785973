package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"backupd/domain"
)

// BackupParams is everything one run of a backup needs. A fresh backup has
// Resume nil; a resumed one passes the checkpoint it continues (the pause
// checkpoint, or Journal.Last() after a crash).
type BackupParams struct {
	Source      Source
	Destination Destination
	Journal     Journal
	Logger      *slog.Logger     // the operation's terminal log
	Progress    func(Snapshot)   // called often from one goroutine; the caller throttles
	Control     Control          // pause/cancel requests; nil never stops
	Resume      *Checkpoint      // nil for a fresh backup
	Now         func() time.Time // nil: time.Now

	OperationID uuid.UUID
	SourceID    uuid.UUID
	SourceName  string
	SourceKind  domain.ConnectionKind
	// ArchiveName is the file name at the destination, decided by the
	// caller for a fresh backup (e.g. "<source-slug>-20261127T101500Z-<op8>.tar.gz");
	// a resumed backup keeps the checkpoint's.
	ArchiveName string
	// StartedAt is when the operation first started (result metadata);
	// zero means now.
	StartedAt time.Time
	// Estimate gives the totals for progress and part sizing; nil asks the
	// source (which may take a listing pass).
	Estimate *Estimate

	// TempDir holds the manifest while it is built (default os.TempDir());
	// the worker points it at its spool folder, which it sweeps at start.
	TempDir string

	CompressWorkers  int   // default runtime.NumCPU()
	CompressionLevel int   // gzip level 1..9; default 6
	BlockSize        int   // tar bytes per gzip member; default 1 MiB
	PrefetchEntries  int   // entries listed and opened ahead; default 16
	PrefetchBytes    int64 // bytes of small entries read ahead; default 16 MiB (entries up to a quarter of it are read ahead)
	// CheckpointEvery is the least time between crash checkpoints taken
	// when the destination says a member boundary is durable; default 10 s.
	CheckpointEvery time.Duration
	// SuspendEvery: when no checkpoint happened for this long, the
	// pipeline takes one with Upload.Suspend at the next boundary (Drive,
	// whose chunks rarely end on a member). Default 3 × CheckpointEvery;
	// negative disables.
	SuspendEvery time.Duration
}

// Estimate is the expected size of a backup.
type Estimate struct {
	Entries int64
	Bytes   int64
}

// Snapshot is the progress of a running backup.
type Snapshot struct {
	Phase           string // "archiving", "finishing"
	EntriesDone     int64
	EntriesTotal    int64 // 0 when unknown
	BytesDone       int64 // entry content in the archive
	BytesTotal      int64 // 0 when unknown
	TarBytes        int64
	CompressedBytes int64
	UploadedBytes   int64 // confirmed by the destination
	Current         string
}

// BackupOutcome is a completed backup.
type BackupOutcome struct {
	Result   domain.BackupResult
	Manifest ManifestHeader // as stored beside the archive
	// Checkpoints recorded by this run (crash, periodic).
	Checkpoints int64
}

func (p *BackupParams) setDefaults() error {
	switch {
	case p.Source == nil:
		return errors.New("backup: no source")
	case p.Destination == nil:
		return errors.New("backup: no destination")
	case p.Journal == nil:
		return errors.New("backup: no journal")
	case p.Resume == nil && p.ArchiveName == "":
		return errors.New("backup: no archive name")
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Progress == nil {
		p.Progress = func(Snapshot) {}
	}
	if p.Control == nil {
		p.Control = noControl{}
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.StartedAt.IsZero() {
		p.StartedAt = p.Now()
	}
	if p.CompressWorkers <= 0 {
		p.CompressWorkers = runtime.NumCPU()
	}
	if p.CompressionLevel == 0 {
		p.CompressionLevel = 6
	}
	if p.BlockSize <= 0 {
		p.BlockSize = 1 << 20
	}
	if p.PrefetchEntries <= 0 {
		p.PrefetchEntries = 16
	}
	if p.PrefetchBytes <= 0 {
		p.PrefetchBytes = 16 << 20
	}
	if p.CheckpointEvery <= 0 {
		p.CheckpointEvery = 10 * time.Second
	}
	if p.SuspendEvery == 0 {
		p.SuspendEvery = 3 * p.CheckpointEvery
	}
	return nil
}

// Backup writes the source into one .tar.gz at the destination, or
// continues one from p.Resume. It returns the completed result, or a
// *PausedError (the pause checkpoint is in the journal), or a
// *CancelledError (everything it left is removed), or another error. A
// failed backup aborts its upload; a cancelled ctx (the worker shutting
// down) leaves everything in place for a resume from Journal.Last().
func Backup(ctx context.Context, p BackupParams) (BackupOutcome, error) {
	if err := p.setDefaults(); err != nil {
		return BackupOutcome{}, err
	}
	b := &backupRun{p: p, log: p.Logger, started: time.Now()}
	return b.run(ctx)
}

type backupRun struct {
	p        BackupParams
	log      *slog.Logger
	started  time.Time
	info     SourceInfo
	estimate Estimate
	noun     string
	name     string
	up       Upload
	rec      *recorder
	writer   *tarWriter
	uploader *uploader
}

func (b *backupRun) run(ctx context.Context) (BackupOutcome, error) {
	p := b.p
	info, err := p.Source.Info(ctx)
	if err != nil {
		return BackupOutcome{}, fmt.Errorf("reading the source: %w", err)
	}
	b.info = info
	b.noun = "objects"
	if info.Service == "mongodb" {
		b.noun = "collections"
	}
	b.estimateSize(ctx)

	start := Position{}
	b.name = p.ArchiveName
	seq := int64(0)
	if p.Resume != nil {
		start = p.Resume.Position
		b.name = p.Resume.ArchiveName
		seq = p.Resume.Seq
	}
	b.rec = newRecorder(p.Journal, b.name, start.EntriesDone, seq, -1, p.Now, b.log)
	if err := b.openUpload(ctx, start); err != nil {
		return BackupOutcome{}, err
	}
	b.log.Info(fmt.Sprintf("compressing as gzip (level %d) in %s blocks with %d workers", p.CompressionLevel, HumanBytes(int64(p.BlockSize)), p.CompressWorkers))

	err = b.pipeline(ctx, start)
	switch {
	case errors.Is(err, errCancelRequested):
		return BackupOutcome{}, b.cancelled(ctx)
	case err != nil && ctx.Err() != nil:
		b.removeTemp()
		b.log.Warn("stopped before finishing (the worker is shutting down); the backup can be resumed from its last checkpoint")
		return BackupOutcome{}, fmt.Errorf("backup interrupted: %w", ctx.Err())
	case err != nil:
		return BackupOutcome{}, b.failed(ctx, err)
	case b.writer.paused:
		return BackupOutcome{}, b.paused(ctx)
	}
	out, err := b.complete(ctx)
	if err != nil {
		if errors.Is(err, errCancelRequested) {
			return BackupOutcome{}, b.cancelled(ctx)
		}
		if ctx.Err() != nil {
			return BackupOutcome{}, fmt.Errorf("backup interrupted while finishing: %w", err)
		}
		return BackupOutcome{}, b.failed(ctx, err)
	}
	return out, nil
}

// openUpload continues the upload of the checkpoint being resumed (after
// recording the resume) or starts a new one (and records the start).
// Durable marks offer checkpoints, at most one per CheckpointEvery.
func (b *backupRun) openUpload(ctx context.Context, start Position) error {
	p := b.p
	onDurable := func(mark any, state json.RawMessage) {
		m, ok := mark.(*blockMark)
		if !ok || !m.checkpointable || b.rec.sinceLastOffer() < p.CheckpointEvery {
			return
		}
		b.rec.offer(Checkpoint{Reason: "part", Position: m.pos, Upload: state})
	}
	var err error
	if p.Resume != nil {
		// Recorded first: entries a dead worker recorded after this
		// checkpoint are void from here on.
		resumed := *p.Resume
		resumed.Resumed, resumed.Reason, resumed.At = true, "resume", p.Now()
		if err := b.rec.record(ctx, resumed); err != nil {
			return err
		}
		at := start
		at.Partial = nil // the tar writer says where in it it continues
		b.log.Info(fmt.Sprintf("resuming %s %s", b.name, describePosition(at, 0, b.estimate.Entries, start.CompressedBytes, b.noun)))
		if b.up, err = p.Destination.ResumeUpload(ctx, p.Resume.Upload, onDurable); err != nil {
			return fmt.Errorf("continuing the upload of %s: %w", b.name, err)
		}
		return nil
	}
	hint := b.estimate.Bytes + b.estimate.Entries*3*tarBlock
	if b.up, err = p.Destination.StartUpload(ctx, b.name, hint, onDurable); err != nil {
		return fmt.Errorf("starting the upload of %s: %w", b.name, err)
	}
	if err := b.recordStart(ctx); err != nil {
		return b.failed(ctx, err)
	}
	return nil
}

func (b *backupRun) estimateSize(ctx context.Context) {
	if b.p.Estimate != nil {
		b.estimate = *b.p.Estimate
		return
	}
	what := b.info.Bucket
	if what == "" {
		what = b.info.Database
	}
	b.log.Info(fmt.Sprintf("estimating the size of %s", what))
	entries, bytes, err := b.p.Source.Estimate(ctx)
	if err != nil {
		b.log.Warn(fmt.Sprintf("could not estimate the size (%v); progress will show no total", err))
		return
	}
	b.estimate = Estimate{Entries: entries, Bytes: bytes}
	b.log.Info(fmt.Sprintf("%s holds about %d %s, %s", what, entries, b.noun, HumanBytes(bytes)))
}

// pipeline runs listing, prefetch, tar writer, compression, upload and
// journal recorder until the tar stream is written or a stop.
func (b *backupRun) pipeline(ctx context.Context, start Position) error {
	p := b.p
	g, gctx := errgroup.WithContext(ctx)

	after := start.LastKey
	if start.Partial != nil {
		after = start.Partial.Ref.Key
	}
	if after == "" {
		b.log.Info("listing the source from the start")
	} else {
		b.log.Info(fmt.Sprintf("listing the source after %s", after))
	}
	pf := startPrefetch(gctx, p.Source, after, p.PrefetchEntries, p.PrefetchBytes, b.log)
	defer pf.stop()

	poolSize := min(2*p.CompressWorkers+2, 24)
	pool := newBlockPool(poolSize, p.BlockSize)
	jobs := make(chan *block, poolSize)
	ordered := make(chan *block, poolSize)

	b.writer = &tarWriter{
		blockSize: p.BlockSize, pool: pool, jobs: jobs, ordered: ordered,
		entries: b.rec.entries, flushed: b.rec.flushed, control: p.Control,
		src: p.Source, log: b.log, finish: b.buildManifest,
		checkpointDue: func() bool { return b.rec.sinceLastOffer() >= p.CheckpointEvery },
	}
	b.writer.restore(start, b.info.PathPrefix, b.info.EntrySuffix)

	sha, err := restoreSHA256(start.ArchiveSHA256)
	if err != nil {
		return err
	}
	b.uploader = &uploader{
		up: b.up, pool: pool, rec: b.rec, sha: sha,
		compressed: start.CompressedBytes, last: start,
		suspendEvery: p.SuspendEvery, progress: b.progress,
	}

	g.Go(func() error { return b.rec.run(gctx) })
	g.Go(func() error { return b.writer.run(gctx, pf, start.Partial) })
	for range p.CompressWorkers {
		g.Go(func() error { return compressBlocks(gctx, jobs, p.CompressionLevel) })
	}
	g.Go(func() error { return b.uploader.run(gctx, ordered) })
	return g.Wait()
}

func (b *backupRun) progress(pos Position, trailer bool) {
	s := Snapshot{
		Phase:       "archiving",
		EntriesDone: pos.EntriesDone, EntriesTotal: b.estimate.Entries,
		BytesDone: pos.BytesDone, BytesTotal: b.estimate.Bytes,
		TarBytes: pos.TarOffset, CompressedBytes: pos.CompressedBytes,
		UploadedBytes: b.up.Uploaded(), Current: pos.LastKey,
	}
	if pos.Partial != nil {
		s.Current = pos.Partial.Ref.Key
	}
	if trailer {
		s.Phase = "finishing"
	}
	b.p.Progress(s)
}

func (b *backupRun) buildManifest(ctx context.Context, entries int64) (*builtManifest, error) {
	p := b.p
	b.log.Info(fmt.Sprintf("all %d %s are in the archive; writing the manifest", entries, b.noun))
	header := ManifestHeader{
		FormatVersion: ManifestFormatVersion,
		Format:        b.info.Format,
		Generator:     "backupd",
		CreatedAt:     p.Now().UTC(),
		OperationID:   p.OperationID.String(),
		Source:        ManifestSource{ID: p.SourceID.String(), Name: p.SourceName, Kind: string(p.SourceKind)},
		Service:       b.info.Service,
		Bucket:        b.info.Bucket,
		Database:      b.info.Database,
		ToolVersion:   b.info.ToolVersion,
		PathPrefix:    newNamer(b.info.PathPrefix, "", nil).prefix,
		EntrySuffix:   b.info.EntrySuffix,
	}
	return buildManifest(ctx, p.Journal, header, entries, p.TempDir, b.log)
}

// recordStart records where a fresh backup starts, with the upload's state:
// a worker that dies before the first part is durable can be resumed (or
// cleaned up) from it, and entries a dead earlier attempt recorded are void.
func (b *backupRun) recordStart(ctx context.Context) error {
	state, err := b.up.Suspend(ctx)
	if err != nil {
		return fmt.Errorf("recording the new upload's state: %w", err)
	}
	return b.rec.record(ctx, Checkpoint{Resumed: true, Reason: "start", Upload: state, At: b.p.Now()})
}
