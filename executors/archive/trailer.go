package archive

import (
	"context"
	"fmt"
	"io"
)

// writeTrailer waits until every entry is in the journal, builds the
// manifest from it, and writes it as the last entry, then the end blocks.
func (w *tarWriter) writeTrailer(ctx context.Context) error {
	select {
	case <-w.flushed:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.inTrailer = true
	m, err := w.finish(ctx, w.entriesDone)
	if err != nil {
		return err
	}
	w.manifest = m
	r, size, err := m.open(nil)
	if err != nil {
		return err
	}
	defer r.Close()
	header, err := recordHeader(ManifestName, "", false, Ref{Size: size, ModTime: m.header.CreatedAt})
	if err != nil {
		return err
	}
	if err := w.put(ctx, header, false); err != nil {
		return err
	}
	if err := w.copyPlain(ctx, r, size); err != nil {
		return fmt.Errorf("writing the manifest into the archive: %w", err)
	}
	if err := w.put(ctx, zeros[:padding(size)], false); err != nil {
		return err
	}
	if err := w.put(ctx, endOfArchive, false); err != nil {
		return err
	}
	return w.emit()
}

// copyPlain copies bytes that are not entry content (the manifest).
func (w *tarWriter) copyPlain(ctx context.Context, r io.Reader, size int64) error {
	var done int64
	for done < size {
		if err := w.ensureBlock(ctx); err != nil {
			return err
		}
		b := w.blk
		space := b.raw[len(b.raw):w.blockSize]
		if left := size - done; int64(len(space)) > left {
			space = space[:left]
		}
		n, err := io.ReadFull(r, space)
		b.raw = b.raw[:len(b.raw)+n]
		w.advance(space[:n], false)
		done += int64(n)
		if err != nil {
			return err
		}
	}
	return nil
}
