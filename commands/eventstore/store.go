// Package eventstore is the EventStoreDB adapter: it appends and reads
// domain events through the official client and turns EventStoreDB errors
// into domain errors.
package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"backupd/commands"
	"backupd/domain"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// Store reads and writes domain events.
type Store struct {
	client *esdb.Client
}

// Connect opens a client for an esdb:// connection string.
func Connect(connectionString string) (*Store, error) {
	settings, err := esdb.ParseConnectionString(connectionString)
	if err != nil {
		return nil, fmt.Errorf("eventstore: parse connection string: %w", err)
	}
	// The client's own chatter (discovery attempts, candidates) is debug
	// noise; its warnings and errors go to the process log.
	settings.Logger = func(level esdb.LogLevel, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if strings.Contains(msg, "context canceled") {
			return // a subscription we closed ourselves
		}
		switch level {
		case esdb.LogError:
			slog.Error("eventstoredb client: " + msg)
		case esdb.LogWarn:
			slog.Warn("eventstoredb client: " + msg)
		}
	}
	client, err := esdb.NewClient(settings)
	if err != nil {
		return nil, fmt.Errorf("eventstore: new client: %w", err)
	}
	return &Store{client: client}, nil
}

// Client exposes the underlying client to subscription adapters.
func (s *Store) Client() *esdb.Client { return s.client }

func (s *Store) Close() error { return s.client.Close() }

// Metadata is stored with every event.
type Metadata struct {
	CommandID     uuid.UUID `json:"command_id"`
	CorrelationID uuid.UUID `json:"$correlationId"`
	CausationID   uuid.UUID `json:"$causationId"`
	ActorID       string    `json:"actor_id,omitempty"`
	ActorName     string    `json:"actor_name,omitempty"`
	IP            string    `json:"ip,omitempty"`
	OccurredAt    time.Time `json:"occurred_at"`
}

// Recorded is a stored event, decoded.
type Recorded struct {
	ID       uuid.UUID
	Stream   string
	Revision uint64
	Position esdb.Position
	Type     string
	Data     []byte
	Event    domain.Event
	Meta     Metadata
	Created  time.Time
}

// ExpectedRevision re-exports the client's type so callers need not import
// esdb for the common cases.
type ExpectedRevision = esdb.ExpectedRevision

// Revision expects the stream's last event at revision r; r < 0 means the
// stream must not exist.
func Revision(r int64) ExpectedRevision {
	if r < 0 {
		return esdb.NoStream{}
	}
	return esdb.Revision(uint64(r))
}

// Any appends whatever the stream holds (for single-writer streams whose
// writer is fenced elsewhere, such as an operation's log).
func Any() ExpectedRevision { return esdb.Any{} }

// Load implements commands.EventStore.
func (s *Store) Load(ctx context.Context, stream string, agg domain.Aggregate) error {
	return s.Read(ctx, stream, 0, func(r Recorded) error {
		agg.Apply(r.Event)
		agg.SetVersion(int64(r.Revision))
		return nil
	})
}

// Save implements commands.EventStore.
func (s *Store) Save(ctx context.Context, stream string, agg domain.Aggregate) error {
	events := agg.Uncommitted()
	if len(events) == 0 {
		return nil
	}
	next, err := s.Append(ctx, stream, Revision(agg.Version()), events...)
	if err != nil {
		return err
	}
	agg.MarkCommitted(next)
	return nil
}

// Append writes events to stream and returns the revision of the last one.
// Event ids are derived from the command id, the stream and the index, so a
// retried append of the same command is de-duplicated by the server.
func (s *Store) Append(ctx context.Context, stream string, expected ExpectedRevision, events ...domain.Event) (int64, error) {
	meta := commands.MetaFrom(ctx)
	now := time.Now().UTC()
	md, err := json.Marshal(Metadata{
		CommandID: meta.CommandID, CorrelationID: meta.CorrelationID, CausationID: meta.CausationID,
		ActorID: meta.ActorID, ActorName: meta.ActorName, IP: meta.IP, OccurredAt: now,
	})
	if err != nil {
		return 0, err
	}
	data := make([]esdb.EventData, 0, len(events))
	for i, e := range events {
		payload, err := domain.EncodeEvent(e)
		if err != nil {
			return 0, fmt.Errorf("encode %s: %w", e.EventType(), err)
		}
		data = append(data, esdb.EventData{
			EventID:     uuid.NewSHA1(meta.CommandID, []byte(stream+"/"+strconv.Itoa(i))),
			EventType:   e.EventType(),
			ContentType: esdb.ContentTypeJson,
			Data:        payload,
			Metadata:    md,
		})
	}
	res, err := s.client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, data...)
	if err != nil {
		var esErr *esdb.Error
		if errors.As(err, &esErr) && esErr.Code() == esdb.ErrorCodeWrongExpectedVersion {
			return 0, fmt.Errorf("append to %s: %w", stream, domain.ErrConcurrentUpdate)
		}
		return 0, fmt.Errorf("append to %s: %w", stream, err)
	}
	return int64(res.NextExpectedVersion), nil
}

// Read calls fn for each event of stream from revision from on, in order.
// A missing stream reads as empty.
func (s *Store) Read(ctx context.Context, stream string, from uint64, fn func(Recorded) error) error {
	const page = 512
	for {
		rs, err := s.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.Revision(from), Direction: esdb.Forwards}, page)
		if err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
		n, last, err := drain(rs, fn)
		rs.Close()
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			return err
		}
		if n < page {
			return nil
		}
		from = last + 1
	}
}

// ReadLast returns the last event of stream, or ok=false when it is empty.
func (s *Store) ReadLast(ctx context.Context, stream string) (rec Recorded, ok bool, err error) {
	rs, err := s.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.End{}, Direction: esdb.Backwards}, 1)
	if err != nil {
		return rec, false, fmt.Errorf("read %s: %w", stream, err)
	}
	defer rs.Close()
	_, _, err = drain(rs, func(r Recorded) error { rec, ok = r, true; return nil })
	if err != nil && !isNotFound(err) {
		return rec, false, err
	}
	return rec, ok, nil
}

func drain(rs *esdb.ReadStream, fn func(Recorded) error) (n int, last uint64, err error) {
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, last, nil
		}
		if err != nil {
			return n, last, err
		}
		rec, err := Decode(ev)
		if err != nil {
			return n, last, err
		}
		n++
		last = rec.Revision
		if err := fn(rec); err != nil {
			return n, last, err
		}
	}
}

// Decode turns a resolved event into a Recorded one. An event type this
// binary does not know is an error, never silently skipped.
func Decode(ev *esdb.ResolvedEvent) (Recorded, error) {
	e := ev.Event
	if e == nil {
		return Recorded{}, errors.New("eventstore: resolved event without event")
	}
	rec := Recorded{ID: e.EventID, Stream: e.StreamID, Revision: e.EventNumber, Position: e.Position, Type: e.EventType, Data: e.Data, Created: e.CreatedDate}
	if len(e.UserMetadata) > 0 {
		if err := json.Unmarshal(e.UserMetadata, &rec.Meta); err != nil {
			return rec, fmt.Errorf("eventstore: metadata of %s@%d: %w", e.StreamID, e.EventNumber, err)
		}
	}
	dec, err := domain.DecodeEvent(e.EventType, e.Data)
	if err != nil {
		return rec, fmt.Errorf("eventstore: %s@%d: %w", e.StreamID, e.EventNumber, err)
	}
	rec.Event = dec
	return rec, nil
}

func isNotFound(err error) bool {
	var esErr *esdb.Error
	return errors.As(err, &esErr) && esErr.Code() == esdb.ErrorCodeResourceNotFound
}

// ReadBackward calls fn for each event of stream from the end towards the
// start until fn returns errStop-like false. A missing stream reads as empty.
func (s *Store) ReadBackward(ctx context.Context, stream string, fn func(Recorded) (more bool, err error)) error {
	const page = 64
	from := esdb.StreamPosition(esdb.End{})
	for {
		rs, err := s.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: from, Direction: esdb.Backwards}, page)
		if err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
		stop := false
		n, last, err := drain(rs, func(r Recorded) error {
			if stop {
				return nil
			}
			more, err := fn(r)
			stop = !more
			return err
		})
		rs.Close()
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			return err
		}
		if stop || n < page || last == 0 {
			return nil
		}
		from = esdb.Revision(last - 1)
	}
}
