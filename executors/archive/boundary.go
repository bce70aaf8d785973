package archive

import "context"

// Block boundaries: where the tar stream is cut into gzip members, where
// the stop request is polled, and what position a boundary records.

// ensureBlock makes room: a full block is emitted (a block boundary, where
// the stop request is polled) and a free one taken.
func (w *tarWriter) ensureBlock(ctx context.Context) error {
	if w.blk != nil && len(w.blk.raw) < w.blockSize {
		return nil
	}
	if w.blk != nil {
		if err := w.emit(); err != nil {
			return err
		}
		if err := w.stopCheck(); err != nil {
			return err
		}
	}
	b, err := w.pool.get(ctx, w.stopCheck)
	if err != nil {
		return err
	}
	w.blk = b
	return nil
}

// cutForCheckpoint ends the current block here, even if empty, and asks
// for a checkpoint at its end.
func (w *tarWriter) cutForCheckpoint(ctx context.Context) error {
	if w.blk == nil {
		b, err := w.pool.get(ctx, w.stopCheck)
		if err != nil {
			return err
		}
		w.blk = b
	}
	b := w.blk
	w.blk = nil
	b.pos, b.checkpointable = w.position()
	b.suspend = true
	w.jobs <- b
	w.ordered <- b
	return nil
}

// emit sends the current block to compression (and, in order, to the
// uploader) with the position at its end.
func (w *tarWriter) emit() error {
	b := w.blk
	w.blk = nil
	if b == nil {
		return nil
	}
	if len(b.raw) == 0 {
		w.pool.put(b)
		return nil
	}
	b.pos, b.checkpointable = w.position()
	b.trailer = w.inTrailer
	// Both channels hold as many blocks as the pool: never blocks.
	w.jobs <- b
	w.ordered <- b
	return nil
}

// position is where the stream stands now (without the compressed fields,
// which the uploader adds), and whether a new process can continue here.
func (w *tarWriter) position() (Position, bool) {
	pos := Position{EntriesDone: w.entriesDone, LastKey: w.lastKey, TarOffset: w.tarOffset, BytesDone: w.bytesDone}
	c := w.cur
	if c == nil {
		pos.Ancestors = w.names.ancestors()
		return pos, !w.inTrailer
	}
	pos.Ancestors = c.ancestorsBefore
	if c.offset == 0 {
		return pos, !w.inTrailer
	}
	pos.Partial = &PartialEntry{
		Index: c.index, Ref: c.ref, Offset: c.offset,
		ContentSHA256: marshalHash(c.sha), HeaderSHA256: c.headerSHA,
	}
	return pos, c.resumable && !w.inTrailer
}

// stopCheck polls the stop request: a cancel stops anywhere; a pause stops
// outside entries and inside streamed resumable ones, never in the trailer.
func (w *tarWriter) stopCheck() error {
	switch w.control.Requested() {
	case StopCancel:
		return errCancelRequested
	case StopPause:
		if w.inTrailer {
			return nil
		}
		if c := w.cur; c != nil && c.offset > 0 && !c.pausable {
			return nil
		}
		return errPauseRequested
	}
	return nil
}
