package eventstore_test

import (
	"context"
	"errors"
	"io"

	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// fixedCheckpoint is a CheckpointStore that answers one position.
type fixedCheckpoint struct {
	mu  sync.Mutex
	pos *esdb.Position
}

func (f *fixedCheckpoint) Load(context.Context, string) (*esdb.Position, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pos, nil
}

func connectStore(t *testing.T, url string) *eventstore.Store {
	t.Helper()
	store, err := eventstore.Connect(url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// appendEvents writes n pause-requested events spread over a few operation
// streams and returns their ids in append order.
func appendEvents(t *testing.T, ctx context.Context, store *eventstore.Store, n int) []uuid.UUID {
	t.Helper()
	ops := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	var ids []uuid.UUID
	for i := 0; i < n; i++ {
		op := ops[i%len(ops)]
		// A fresh command id per append: event ids differ.
		cctx := commands.WithMeta(ctx, commands.Meta{ActorID: "u1", ActorName: "alice@example.test"})
		_, err := store.Append(cctx, commands.OperationStream(op), eventstore.Any(), domain.OperationPauseRequested{OperationID: op, At: time.Now().UTC()})
		require.NoError(t, err)
		last, ok, err := store.ReadLast(ctx, commands.OperationStream(op))
		require.NoError(t, err)
		require.True(t, ok)
		ids = append(ids, last.ID)
	}
	return ids
}

// receive takes the next message or fails the test after a generous wait.
func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		require.True(t, ok, "channel closed")
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no message within 30s")
	}
	return nil
}

func TestCatchUpDeliversInOrderOneAtATimeWithoutSystemEvents(t *testing.T) {
	t.Parallel()
	url, _ := peers.PrivateESDB(t)
	store := connectStore(t, url)
	ctx := peers.Context(t)

	ids := appendEvents(t, ctx, store, 40)
	// System events in $all: stream metadata ($metadata) written between ours.
	_, err := store.Client().SetStreamMetadata(ctx, "operation-"+uuid.NewString(), esdb.AppendToStreamOptions{}, esdb.StreamMetadata{})
	require.NoError(t, err)
	ids = append(ids, appendEvents(t, ctx, store, 5)...)
	require.Positive(t, countSystemEvents(t, ctx, store), "$all holds system events for the filter to drop")

	sub := eventstore.NewCatchUpSubscriber(store, &fixedCheckpoint{}, nil)
	t.Cleanup(func() { _ = sub.Close() })
	ch, err := sub.Subscribe(ctx, "ordering")
	require.NoError(t, err)

	var last esdb.Position
	for i, want := range ids {
		m := receive(t, ch)
		require.Equal(t, want.String(), m.UUID, "message %d", i)
		require.False(t, strings.HasPrefix(m.Metadata.Get(eventstore.MsgEventType), "$"))
		pos, err := eventstore.PositionOf(m)
		require.NoError(t, err)
		require.True(t, eventstore.PositionAfter(pos, last), "positions increase")
		last = pos
		if i == 3 {
			// Unacked: nothing else may come meanwhile.
			select {
			case extra := <-ch:
				t.Fatalf("message %s delivered before the previous one was acked", extra.UUID)
			case <-time.After(300 * time.Millisecond):
			}
		}
		m.Ack()
	}
	// Nothing more: the metadata event was filtered out by the server.
	select {
	case extra := <-ch:
		t.Fatalf("unexpected message %s of type %s", extra.UUID, extra.Metadata.Get(eventstore.MsgEventType))
	case <-time.After(500 * time.Millisecond):
	}
}

func countSystemEvents(t *testing.T, ctx context.Context, store *eventstore.Store) int {
	t.Helper()
	rs, err := store.Client().ReadAll(ctx, esdb.ReadAllOptions{}, 10_000)
	require.NoError(t, err)
	defer rs.Close()
	n := 0
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n
		}
		require.NoError(t, err)
		if strings.HasPrefix(ev.OriginalEvent().EventType, "$") {
			n++
		}
	}
}

func TestCatchUpRedeliversANackedMessageBeforeTheNext(t *testing.T) {
	t.Parallel()
	url, _ := peers.PrivateESDB(t)
	store := connectStore(t, url)
	ctx := peers.Context(t)
	ids := appendEvents(t, ctx, store, 5)

	sub := eventstore.NewCatchUpSubscriber(store, &fixedCheckpoint{}, nil)
	sub.NackDelay = 20 * time.Millisecond
	t.Cleanup(func() { _ = sub.Close() })
	ch, err := sub.Subscribe(ctx, "redelivery")
	require.NoError(t, err)

	var got []string
	nacks := 0
	for len(got) < len(ids) {
		m := receive(t, ch)
		if m.UUID == ids[2].String() && nacks < 3 {
			nacks++
			m.Nack()
			continue
		}
		got = append(got, m.UUID)
		m.Ack()
	}
	require.Equal(t, 3, nacks)
	want := make([]string, len(ids))
	for i, id := range ids {
		want[i] = id.String()
	}
	require.Equal(t, want, got, "the nacked message came back before any later one, and only it")
}

func TestCatchUpResumesAfterTheCheckpoint(t *testing.T) {
	t.Parallel()
	url, _ := peers.PrivateESDB(t)
	store := connectStore(t, url)
	ctx := peers.Context(t)
	ids := appendEvents(t, ctx, store, 12)

	// The position of the 8th event, as a projector would have stored it.
	var positions []esdb.Position
	end, ok, err := store.LastEventPosition(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, store.ReadAllEvents(ctx, nil, end, func(r eventstore.Recorded) error {
		positions = append(positions, r.Position)
		return nil
	}))
	require.Len(t, positions, 12)
	require.Equal(t, positions[11], end)

	sub := eventstore.NewCatchUpSubscriber(store, &fixedCheckpoint{pos: &positions[7]}, nil)
	t.Cleanup(func() { _ = sub.Close() })
	ch, err := sub.Subscribe(ctx, "resume")
	require.NoError(t, err)
	for _, want := range ids[8:] {
		m := receive(t, ch)
		require.Equal(t, want.String(), m.UUID)
		m.Ack()
	}
	// ReadAllEvents after a position starts after it, too.
	var after []uuid.UUID
	require.NoError(t, store.ReadAllEvents(ctx, &positions[9], end, func(r eventstore.Recorded) error {
		after = append(after, r.ID)
		return nil
	}))
	require.Equal(t, ids[10:], after)
}

func TestCatchUpReconnectsAfterTheServerRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := peers.FreePortAddr(t)
	bin := filepath.Join(peers.SharedDir(t), "bin", "esdb-emulator")
	ready := regexp.MustCompile(`esdb-emulator listening on (\S+)`)
	start := func() *peers.Process {
		return peers.StartProcess(t, ready, nil, bin, "--listen", addr, "--db", dir, "--quiet")
	}
	proc := start()
	store := connectStore(t, "esdb://"+addr+"?tls=false")
	ctx := peers.Context(t)
	before := appendEvents(t, ctx, store, 6)

	sub := eventstore.NewCatchUpSubscriber(store, &fixedCheckpoint{}, nil)
	sub.ReconnectDelay = 100 * time.Millisecond
	t.Cleanup(func() { _ = sub.Close() })
	ch, err := sub.Subscribe(ctx, "reconnect")
	require.NoError(t, err)
	for _, want := range before[:4] {
		m := receive(t, ch)
		require.Equal(t, want.String(), m.UUID)
		m.Ack()
	}
	// The 5th arrives but the server dies before it is acked.
	m := receive(t, ch)
	require.Equal(t, before[4].String(), m.UUID)
	proc.Stop()
	m.Ack()
	proc = start()
	t.Cleanup(proc.Stop)

	var after []uuid.UUID
	require.Eventually(t, func() bool {
		ids, err := tryAppend(ctx, store, 3)
		after = ids
		return err == nil
	}, 30*time.Second, 200*time.Millisecond, "the client reconnects for appends")

	// Everything after the last acked event, once, in order.
	for _, want := range append(before[5:], after...) {
		m := receive(t, ch)
		require.Equal(t, want.String(), m.UUID)
		m.Ack()
	}
	select {
	case extra := <-ch:
		t.Fatalf("unexpected message %s", extra.UUID)
	case <-time.After(500 * time.Millisecond):
	}
}

func tryAppend(ctx context.Context, store *eventstore.Store, n int) ([]uuid.UUID, error) {
	op := uuid.New()
	var ids []uuid.UUID
	for i := 0; i < n; i++ {
		cctx := commands.WithMeta(ctx, commands.Meta{})
		if _, err := store.Append(cctx, commands.OperationStream(op), eventstore.Any(), domain.OperationPauseRequested{OperationID: op, At: time.Now()}); err != nil {
			return nil, err
		}
		last, _, err := store.ReadLast(ctx, commands.OperationStream(op))
		if err != nil {
			return nil, err
		}
		ids = append(ids, last.ID)
	}
	return ids, nil
}

func TestCatchUpClosesItsChannel(t *testing.T) {
	t.Parallel()
	store := connectStore(t, peers.ESDB(t))
	ctx := peers.Context(t)

	sub := eventstore.NewCatchUpSubscriber(store, &fixedCheckpoint{}, nil)
	cctx, cancel := context.WithCancel(ctx)
	byCtx, err := sub.Subscribe(cctx, "closing-by-ctx")
	require.NoError(t, err)
	byClose, err := sub.Subscribe(ctx, "closing-by-close")
	require.NoError(t, err)

	drainUntilClosed := func(ch <-chan *message.Message) {
		for {
			select {
			case m, ok := <-ch:
				if !ok {
					return
				}
				m.Ack()
			case <-time.After(30 * time.Second):
				t.Fatal("channel not closed")
			}
		}
	}
	cancel()
	drainUntilClosed(byCtx)
	done := make(chan struct{})
	go func() { drainUntilClosed(byClose); close(done) }()
	require.NoError(t, sub.Close())
	<-done
	_, err = sub.Subscribe(ctx, "after-close")
	require.Error(t, err)
}

func TestRecordedFromMessageRoundTrip(t *testing.T) {
	t.Parallel()
	url, _ := peers.PrivateESDB(t)
	store := connectStore(t, url)
	ctx := peers.Context(t)

	id := uuid.New()
	meta := commands.Meta{ActorID: "u-42", ActorName: "bob@example.test", IP: "10.0.0.7", CorrelationID: uuid.New(), CausationID: uuid.New()}
	u := domain.NewUser(id)
	require.NoError(t, u.Register("bob@example.test", "Bob", "$2a$10$hash", time.Now().UTC()))
	require.NoError(t, store.Save(commands.WithMeta(ctx, meta), commands.UserStream(id), u))
	// An event type this binary does not know, written by someone else.
	_, err := store.Client().AppendToStream(ctx, "foreign-"+uuid.NewString(), esdb.AppendToStreamOptions{},
		esdb.EventData{EventID: uuid.New(), EventType: "SomethingElse.v1", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)})
	require.NoError(t, err)

	stored, ok, err := store.ReadLast(ctx, commands.UserStream(id))
	require.NoError(t, err)
	require.True(t, ok)

	sub := eventstore.NewCatchUpSubscriber(store, &fixedCheckpoint{}, nil)
	t.Cleanup(func() { _ = sub.Close() })
	ch, err := sub.Subscribe(ctx, "roundtrip")
	require.NoError(t, err)

	m := receive(t, ch)
	rec, err := eventstore.RecordedFromMessage(m)
	require.NoError(t, err)
	require.Equal(t, stored.ID, rec.ID)
	require.Equal(t, stored.Stream, rec.Stream)
	require.Equal(t, stored.Revision, rec.Revision)
	require.Equal(t, stored.Position, rec.Position)
	require.Equal(t, stored.Type, rec.Type)
	require.Equal(t, stored.Event, rec.Event)
	require.JSONEq(t, string(stored.Data), string(rec.Data))
	require.True(t, stored.Created.Equal(rec.Created))
	require.True(t, stored.Meta.OccurredAt.Equal(rec.Meta.OccurredAt))
	stored.Meta.OccurredAt, rec.Meta.OccurredAt = time.Time{}, time.Time{}
	require.Equal(t, stored.Meta, rec.Meta)
	require.Equal(t, meta.CorrelationID.String(), m.Metadata.Get(eventstore.MsgCorrelationID))
	require.Equal(t, "bob@example.test", m.Metadata.Get(eventstore.MsgActorName))
	m.Ack()

	m = receive(t, ch)
	require.Equal(t, "SomethingElse.v1", m.Metadata.Get(eventstore.MsgEventType))
	_, err = eventstore.RecordedFromMessage(m)
	require.ErrorAs(t, err, new(domain.ErrUnknownEventType))
	m.Ack()

	// A message that lost its metadata is an error, not a zero value.
	broken := message.NewMessage(uuid.NewString(), []byte(`{}`))
	_, err = eventstore.RecordedFromMessage(broken)
	require.Error(t, err)

}
