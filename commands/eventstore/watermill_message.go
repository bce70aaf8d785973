package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"backupd/domain"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
)

// Metadata keys of the Watermill messages made from stored events. The
// payload is the event's JSON exactly as stored; these keys carry where it
// sits in EventStoreDB and the metadata stored with it.
const (
	MsgEventType       = "event_type"
	MsgStream          = "stream"
	MsgRevision        = "revision"
	MsgCommitPosition  = "commit_position"
	MsgPreparePosition = "prepare_position"
	MsgCreated         = "created"
	MsgActorID         = "actor_id"
	MsgActorName       = "actor_name"
	MsgCorrelationID   = "correlation_id" // also what Watermill's correlation middleware reads
	MsgCausationID     = "causation_id"
	MsgCommandID       = "command_id"
	MsgIP              = "ip"
	MsgOccurredAt      = "occurred_at"
	// MsgRetryCount is set by the persistent subscriber: how many times the
	// server has delivered this event before.
	MsgRetryCount = "retry_count"
	// MsgMetadataError is set when the stored metadata could not be read, so
	// that RecordedFromMessage fails instead of losing it.
	MsgMetadataError = "metadata_error"
)

// eventMessage turns a stored event into a Watermill message. It never
// fails: a problem with the stored metadata travels in the message and makes
// RecordedFromMessage fail, so the handler nacks instead of the event being
// dropped on the floor.
func eventMessage(e *esdb.RecordedEvent) *message.Message {
	msg := message.NewMessage(e.EventID.String(), message.Payload(e.Data))
	md := msg.Metadata
	md.Set(MsgEventType, e.EventType)
	md.Set(MsgStream, e.StreamID)
	md.Set(MsgRevision, strconv.FormatUint(e.EventNumber, 10))
	md.Set(MsgCommitPosition, strconv.FormatUint(e.Position.Commit, 10))
	md.Set(MsgPreparePosition, strconv.FormatUint(e.Position.Prepare, 10))
	md.Set(MsgCreated, e.CreatedDate.UTC().Format(time.RFC3339Nano))
	if len(e.UserMetadata) == 0 {
		return msg
	}
	var meta Metadata
	if err := json.Unmarshal(e.UserMetadata, &meta); err != nil {
		md.Set(MsgMetadataError, err.Error())
		return msg
	}
	setIf := func(k, v string) {
		if v != "" {
			md.Set(k, v)
		}
	}
	setUUID := func(k string, id uuid.UUID) {
		if id != uuid.Nil {
			md.Set(k, id.String())
		}
	}
	setIf(MsgActorID, meta.ActorID)
	setIf(MsgActorName, meta.ActorName)
	setIf(MsgIP, meta.IP)
	setUUID(MsgCorrelationID, meta.CorrelationID)
	setUUID(MsgCausationID, meta.CausationID)
	setUUID(MsgCommandID, meta.CommandID)
	if !meta.OccurredAt.IsZero() {
		md.Set(MsgOccurredAt, meta.OccurredAt.UTC().Format(time.RFC3339Nano))
	}
	return msg
}

// PositionOf returns the $all position carried by a message made by one of
// this package's subscribers.
func PositionOf(msg *message.Message) (esdb.Position, error) {
	commit, err := strconv.ParseUint(msg.Metadata.Get(MsgCommitPosition), 10, 64)
	if err != nil {
		return esdb.Position{}, fmt.Errorf("eventstore: message %s: commit position: %w", msg.UUID, err)
	}
	prepare, err := strconv.ParseUint(msg.Metadata.Get(MsgPreparePosition), 10, 64)
	if err != nil {
		return esdb.Position{}, fmt.Errorf("eventstore: message %s: prepare position: %w", msg.UUID, err)
	}
	return esdb.Position{Commit: commit, Prepare: prepare}, nil
}

// RecordedFromMessage decodes a message made by one of this package's
// subscribers back into the stored event, domain event included. An event
// type this binary does not know is an error (domain.ErrUnknownEventType):
// the handler must nack it, never skip it.
func RecordedFromMessage(msg *message.Message) (Recorded, error) {
	md := msg.Metadata
	var rec Recorded
	if e := md.Get(MsgMetadataError); e != "" {
		return rec, fmt.Errorf("eventstore: message %s: stored metadata unreadable: %s", msg.UUID, e)
	}
	var errs []error
	parseUUID := func(field, s string, required bool) uuid.UUID {
		if s == "" && !required {
			return uuid.Nil
		}
		id, err := uuid.Parse(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", field, s, err))
		}
		return id
	}
	parseTime := func(field, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", field, s, err))
		}
		return t
	}
	rec.ID = parseUUID("event id", msg.UUID, true)
	rec.Stream = md.Get(MsgStream)
	rec.Type = md.Get(MsgEventType)
	if rec.Stream == "" || rec.Type == "" {
		errs = append(errs, errors.New("stream or event type missing"))
	}
	rev, err := strconv.ParseUint(md.Get(MsgRevision), 10, 64)
	if err != nil {
		errs = append(errs, fmt.Errorf("revision: %w", err))
	}
	rec.Revision = rev
	pos, err := PositionOf(msg)
	if err != nil {
		errs = append(errs, err)
	}
	rec.Position = pos
	rec.Created = parseTime("created", md.Get(MsgCreated))
	rec.Meta = Metadata{
		CommandID:     parseUUID("command id", md.Get(MsgCommandID), false),
		CorrelationID: parseUUID("correlation id", md.Get(MsgCorrelationID), false),
		CausationID:   parseUUID("causation id", md.Get(MsgCausationID), false),
		ActorID:       md.Get(MsgActorID),
		ActorName:     md.Get(MsgActorName),
		IP:            md.Get(MsgIP),
		OccurredAt:    parseTime("occurred at", md.Get(MsgOccurredAt)),
	}
	if err := errors.Join(errs...); err != nil {
		return rec, fmt.Errorf("eventstore: message %s: %w", msg.UUID, err)
	}
	rec.Data = []byte(msg.Payload)
	ev, err := domain.DecodeEvent(rec.Type, rec.Data)
	if err != nil {
		return rec, fmt.Errorf("eventstore: %s@%d: %w", rec.Stream, rec.Revision, err)
	}
	rec.Event = ev
	return rec, nil
}
