package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

const readAllPage = 512

// isSystemEvent reports whether an event is EventStoreDB's own (its type
// starts with "$"): subscriptions filter those out, so readers of $all do too.
func isSystemEvent(e *esdb.RecordedEvent) bool { return strings.HasPrefix(e.EventType, "$") }

// PositionAfter reports whether a is strictly after b in $all.
func PositionAfter(a, b esdb.Position) bool {
	return a.Commit > b.Commit || a.Commit == b.Commit && a.Prepare > b.Prepare
}

// LastEventPosition returns the $all position of the last application event
// (system events are skipped), or ok=false when $all holds none.
func (s *Store) LastEventPosition(ctx context.Context) (pos esdb.Position, ok bool, err error) {
	return s.lastEventPosition(ctx, readAllPage)
}

func (s *Store) lastEventPosition(ctx context.Context, page uint64) (pos esdb.Position, ok bool, err error) {
	var from esdb.AllPosition = esdb.End{}
	var before *esdb.Position // only events before it count (set after the first page)
	for {
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{From: from, Direction: esdb.Backwards}, page)
		if err != nil {
			return pos, false, fmt.Errorf("eventstore: read $all backwards: %w", err)
		}
		n := 0
		var last esdb.Position
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return pos, false, fmt.Errorf("eventstore: read $all backwards: %w", err)
			}
			e := ev.OriginalEvent()
			n++
			last = e.Position
			if before != nil && !PositionAfter(*before, e.Position) {
				continue // the event the page started from, when the read includes it
			}
			if !isSystemEvent(e) {
				rs.Close()
				return e.Position, true, nil
			}
		}
		rs.Close()
		if uint64(n) < page {
			return pos, false, nil
		}
		from, before = last, &last
	}
}

// ReadAllEvents calls fn, in $all order, for every application event after
// `after` (nil: from the start) up to and including upTo, decoded. An event
// that does not decode stops the read with an error: nothing is skipped.
func (s *Store) ReadAllEvents(ctx context.Context, after *esdb.Position, upTo esdb.Position, fn func(Recorded) error) error {
	return s.readAllEvents(ctx, after, upTo, readAllPage, fn)
}

func (s *Store) readAllEvents(ctx context.Context, after *esdb.Position, upTo esdb.Position, page uint64, fn func(Recorded) error) error {
	var from esdb.AllPosition = esdb.Start{}
	if after != nil {
		from = *after // inclusive for reads: the event at `after` is skipped below
	}
	for {
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{From: from, Direction: esdb.Forwards}, page)
		if err != nil {
			return fmt.Errorf("eventstore: read $all: %w", err)
		}
		n, done, last, err := s.drainAll(rs, after, upTo, fn)
		rs.Close()
		if err != nil || done || uint64(n) < page {
			return err
		}
		from = last
		after = &last
	}
}

func (s *Store) drainAll(rs *esdb.ReadStream, after *esdb.Position, upTo esdb.Position, fn func(Recorded) error) (n int, done bool, last esdb.Position, err error) {
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, false, last, nil
		}
		if err != nil {
			return n, false, last, fmt.Errorf("eventstore: read $all: %w", err)
		}
		n++
		e := ev.OriginalEvent()
		last = e.Position
		if after != nil && !PositionAfter(e.Position, *after) {
			continue
		}
		if PositionAfter(e.Position, upTo) {
			return n, true, last, nil
		}
		if isSystemEvent(e) {
			continue
		}
		rec, err := Decode(ev)
		if err != nil {
			return n, false, last, err
		}
		if err := fn(rec); err != nil {
			return n, false, last, err
		}
	}
}
