package archive

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"time"

	"backupd/domain"
)

var (
	errPauseRequested  = errors.New("pause requested")
	errCancelRequested = errors.New("cancel requested")
)

// record is the entry whose tar record is being written.
type record struct {
	index     int64
	ref       Ref
	key       string
	path      string
	header    []byte
	headerSHA string
	documents *int64
	resumable bool // a crash checkpoint inside it can be continued (Reopen)
	pausable  bool // a pause may stop inside it (streamed and resumable)
	offset    int64
	content   int64 // content bytes in the tar
	sha       hash.Hash
	// ancestorsBefore is the namer's state before this entry.
	ancestorsBefore []string
}

func (r *record) length() int64 {
	return int64(len(r.header)) + r.ref.Size + padding(r.ref.Size)
}

// tarWriter lays entries out as tar records, in listing order, into blocks,
// and polls the stop request at every block boundary.
type tarWriter struct {
	blockSize int
	pool      *blockPool
	jobs      chan<- *block
	ordered   chan<- *block
	entries   chan<- domain.ArchiveEntry
	flushed   <-chan struct{}
	control   Control
	src       Source
	log       *slog.Logger
	// finish builds the manifest once every entry is in the journal.
	finish func(ctx context.Context, entries int64) (*builtManifest, error)
	// checkpointDue says a crash checkpoint is wanted (none for a while).
	checkpointDue func() bool

	blk         *block
	entriesDone int64
	bytesDone   int64
	tarOffset   int64
	lastKey     string
	names       *namer
	cur         *record
	inTrailer   bool

	paused      bool // the run stopped for a pause
	partialDone int64
	manifest    *builtManifest
	entriesOpen bool
}

func (w *tarWriter) restore(pos Position, pathPrefix, suffix string) {
	w.entriesDone = pos.EntriesDone
	w.bytesDone = pos.BytesDone
	w.tarOffset = pos.TarOffset
	w.lastKey = pos.LastKey
	w.names = newNamer(pathPrefix, suffix, pos.Ancestors)
	w.entriesOpen = true
}

// run writes the whole tar stream: the partial entry a resume continues,
// every listed entry, then the manifest and the end blocks. On a pause it
// flushes the current block and returns nil with w.paused set.
func (w *tarWriter) run(ctx context.Context, pf *prefetcher, partial *PartialEntry) error {
	defer close(w.ordered)
	defer close(w.jobs)
	defer w.closeEntries()
	err := w.writeEntries(ctx, pf, partial)
	if err == nil {
		w.closeEntries()
		err = w.stopCheck()
	}
	if errors.Is(err, errPauseRequested) {
		pf.cancel() // stops the listing and whatever it runs (mongodump)
		w.paused = true
		if w.cur != nil && w.cur.offset > 0 {
			w.partialDone = w.cur.content
		}
		return w.emit()
	}
	if err != nil {
		return err
	}
	return w.writeTrailer(ctx)
}

func (w *tarWriter) closeEntries() {
	if w.entriesOpen {
		w.entriesOpen = false
		close(w.entries)
	}
}

func (w *tarWriter) writeEntries(ctx context.Context, pf *prefetcher, partial *PartialEntry) error {
	if partial != nil {
		if err := w.continuePartial(ctx, partial); err != nil {
			return err
		}
	}
	for {
		if err := w.stopCheck(); err != nil {
			return err
		}
		pe, err := pf.next(ctx, w.stopCheck)
		if err != nil {
			return err
		}
		if pe == nil {
			return nil
		}
		err = w.writeEntry(ctx, pe)
		pe.done()
		if err != nil {
			return err
		}
	}
}

func (w *tarWriter) writeEntry(ctx context.Context, pe *pending) error {
	e := pe.entry
	ref := Ref{Key: e.Key, Size: e.Size, ModTime: e.ModTime, ETag: e.ETag, ContentType: e.ContentType, Metadata: e.Metadata}
	rec, err := w.newRecord(w.entriesDone, ref)
	if err != nil {
		return err
	}
	if !e.Resumable && w.checkpointDue() {
		// A crash inside this entry resumes from before it: make that
		// point a member boundary and have it checkpointed.
		if err := w.cutForCheckpoint(ctx); err != nil {
			return err
		}
	}
	rec.documents = e.Documents
	rec.resumable = e.Resumable
	rec.pausable = e.Resumable && !pe.prefetched
	if pe.prefetched {
		return w.writeRecord(ctx, rec, pe.data, nil)
	}
	open := e.Open
	if open == nil {
		return fmt.Errorf("the source gave no way to read %q", e.Key)
	}
	return w.writeRecord(ctx, rec, nil, open)
}

// continuePartial finishes the entry a checkpoint stopped inside: its header
// is regenerated from the Ref (and must hash the same), its content is
// reopened at the offset reached, its SHA-256 continues from the state.
func (w *tarWriter) continuePartial(ctx context.Context, p *PartialEntry) error {
	rec, err := w.newRecord(p.Index, p.Ref)
	if err != nil {
		return err
	}
	if p.HeaderSHA256 != "" && p.HeaderSHA256 != rec.headerSHA {
		return fmt.Errorf("cannot continue %q: its tar header would differ from the one already written (was the program upgraded while paused?)", p.Ref.Key)
	}
	if rec.sha, err = restoreSHA256(p.ContentSHA256); err != nil {
		return err
	}
	rec.resumable, rec.pausable = true, true
	rec.offset = p.Offset
	rec.content = min(max(0, p.Offset-int64(len(rec.header))), p.Ref.Size)
	w.log.Info(fmt.Sprintf("continuing %s at %s of %s", p.Ref.Key, HumanBytes(rec.content), HumanBytes(p.Ref.Size)))
	return w.writeRecord(ctx, rec, nil, func(ctx context.Context, offset int64) (io.ReadCloser, error) {
		return w.src.Reopen(ctx, p.Ref, offset)
	})
}

func (w *tarWriter) newRecord(index int64, ref Ref) (*record, error) {
	before := w.names.ancestors()
	path, escaped := w.names.next(ref.Key)
	header, err := recordHeader(path, ref.Key, escaped, ref)
	if err != nil {
		return nil, err
	}
	return &record{
		index: index, ref: ref, key: ref.Key, path: path,
		header: header, headerSHA: hexSHA(header),
		sha: mustSHA256(), ancestorsBefore: before,
	}, nil
}

// writeRecord writes the record from rec.offset on: the rest of the header,
// the content (data in memory, or streamed from open), the padding.
func (w *tarWriter) writeRecord(ctx context.Context, rec *record, data []byte, open func(context.Context, int64) (io.ReadCloser, error)) error {
	w.cur = rec
	if hl := int64(len(rec.header)); rec.offset < hl {
		if err := w.put(ctx, rec.header[rec.offset:], false); err != nil {
			return err
		}
	}
	if rec.content < rec.ref.Size {
		var err error
		if data != nil {
			err = w.put(ctx, data[rec.content:], true)
		} else {
			err = w.stream(ctx, rec, open)
		}
		if err != nil {
			return err
		}
	}
	if pad := rec.length() - rec.offset; pad > 0 {
		if err := w.put(ctx, zeros[:pad], false); err != nil {
			return err
		}
	}
	return w.complete(ctx, rec)
}

func (w *tarWriter) complete(ctx context.Context, rec *record) error {
	entry := domain.ArchiveEntry{
		Index: rec.index, Key: rec.key, Path: rec.path, Size: rec.ref.Size,
		SHA256: fmt.Sprintf("%x", rec.sha.Sum(nil)), ETag: rec.ref.ETag,
		ContentType: rec.ref.ContentType, Metadata: rec.ref.Metadata, Documents: rec.documents,
	}
	if !rec.ref.ModTime.IsZero() {
		t := rec.ref.ModTime
		entry.LastModified = &t
	}
	w.cur = nil
	w.entriesDone++
	w.lastKey = rec.key
	if w.log.Enabled(ctx, slog.LevelDebug) {
		w.log.Debug(fmt.Sprintf("archived %s (%s)", rec.key, HumanBytes(rec.ref.Size)))
	}
	select {
	case w.entries <- entry:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stream copies an entry's content from the source, reopening it where it
// broke off if a read fails (resumable entries only).
func (w *tarWriter) stream(ctx context.Context, rec *record, open func(context.Context, int64) (io.ReadCloser, error)) error {
	for attempt := 1; ; attempt++ {
		err := w.streamOnce(ctx, rec, open)
		if err == nil {
			return nil
		}
		if errors.Is(err, errPauseRequested) || errors.Is(err, errCancelRequested) || ctx.Err() != nil ||
			errors.Is(err, errSizeMismatch) || errors.Is(err, ErrEntryChanged) || !rec.resumable || attempt == readAttempts {
			return fmt.Errorf("reading %q: %w", rec.key, err)
		}
		w.log.Warn(fmt.Sprintf("reading %s broke off at %s (%v); continuing from there", rec.key, HumanBytes(rec.content), err))
		if !sleepCtx(ctx, time.Duration(attempt)*200*time.Millisecond) {
			return ctx.Err()
		}
	}
}

func (w *tarWriter) streamOnce(ctx context.Context, rec *record, open func(context.Context, int64) (io.ReadCloser, error)) error {
	rc, err := open(ctx, rec.content)
	if err != nil {
		return err
	}
	defer rc.Close()
	for rec.content < rec.ref.Size {
		if err := w.ensureBlock(ctx); err != nil {
			return err
		}
		b := w.blk
		space := b.raw[len(b.raw):w.blockSize]
		if left := rec.ref.Size - rec.content; int64(len(space)) > left {
			space = space[:left]
		}
		n, err := rc.Read(space)
		if n > 0 {
			b.raw = b.raw[:len(b.raw)+n]
			w.advance(space[:n], true)
		}
		if err == io.EOF && rec.content < rec.ref.Size {
			return fmt.Errorf("%w: it ended after %d of %d bytes", errSizeMismatch, rec.content, rec.ref.Size)
		}
		if err != nil && err != io.EOF {
			return err
		}
		if err := w.stopCheck(); err != nil {
			return err
		}
	}
	return expectEOF(rc, rec.ref.Size)
}

// put appends bytes to the stream, emitting full blocks as it goes.
func (w *tarWriter) put(ctx context.Context, p []byte, content bool) error {
	for len(p) > 0 {
		if err := w.ensureBlock(ctx); err != nil {
			return err
		}
		b := w.blk
		n := copy(b.raw[len(b.raw):w.blockSize], p)
		b.raw = b.raw[:len(b.raw)+n]
		w.advance(p[:n], content)
		p = p[n:]
	}
	return nil
}

func (w *tarWriter) advance(p []byte, content bool) {
	n := int64(len(p))
	w.tarOffset += n
	if c := w.cur; c != nil {
		c.offset += n
		if content {
			c.content += n
			c.sha.Write(p)
			w.bytesDone += n
		}
	}
}

var zeros = make([]byte, tarBlock)
