package eventstore_test

import (
	"context"
	"errors"
	"io"
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

var pauseRequested = domain.OperationPauseRequested{}.EventType()

// appendNoise writes events of a type the groups below do not ask for.
func appendNoise(t *testing.T, ctx context.Context, store *eventstore.Store, n int) {
	t.Helper()
	op := uuid.New()
	for i := 0; i < n; i++ {
		_, err := store.Append(commands.WithMeta(ctx, commands.Meta{}), commands.OperationLogStream(op), eventstore.Any(),
			domain.OperationLogged{OperationID: op, Lines: []domain.LogLine{{Seq: int64(i + 1), At: time.Now(), Level: "info", Message: "noise"}}})
		require.NoError(t, err)
	}
}

func TestPersistentCompetingConsumersShareTheMessages(t *testing.T) {
	t.Parallel()
	url, _ := peers.PrivateESDB(t)
	ctx := peers.Context(t)
	writer := connectStore(t, url)

	// Written before any worker ran: the group starts at the beginning of
	// $all, so none of these is lost.
	want := appendEvents(t, ctx, writer, 20)
	appendNoise(t, ctx, writer, 10)

	cfg := eventstore.PersistentConfig{Group: "workers", EventTypes: []string{pauseRequested}, MessageTimeout: 30 * time.Second, BufferSize: 4}
	type delivery struct {
		consumer int
		id       string
		typ      string
	}
	deliveries := make(chan delivery, 100)
	for c := 0; c < 2; c++ {
		// Two processes: each its own client connection.
		sub := eventstore.NewPersistentSubscriber(connectStore(t, url), cfg, nil)
		t.Cleanup(func() { _ = sub.Close() })
		ch, err := sub.Subscribe(ctx, "workers")
		require.NoError(t, err)
		go func(c int, ch <-chan *message.Message) {
			for m := range ch {
				deliveries <- delivery{c, m.UUID, m.Metadata.Get(eventstore.MsgEventType)}
				time.Sleep(10 * time.Millisecond) // a little work, so both consumers get some
				m.Ack()
			}
		}(c, ch)
	}
	// Written while both run.
	want = append(want, appendEvents(t, ctx, writer, 20)...)

	seen := map[string]int{}
	perConsumer := map[int]int{}
	deadline := time.After(60 * time.Second)
	for len(seen) < len(want) {
		select {
		case d := <-deliveries:
			require.Equal(t, pauseRequested, d.typ, "only the group's event types")
			seen[d.id]++
			perConsumer[d.consumer]++
		case <-deadline:
			t.Fatalf("only %d of %d messages delivered", len(seen), len(want))
		}
	}
	for _, id := range want {
		require.Equal(t, 1, seen[id.String()], "message %s delivered once", id)
	}
	require.Positive(t, perConsumer[0], "the first consumer got a share")
	require.Positive(t, perConsumer[1], "the second consumer got a share")
	// Acked messages are not delivered again.
	select {
	case d := <-deliveries:
		t.Fatalf("message %s delivered again to consumer %d", d.id, d.consumer)
	case <-time.After(2 * time.Second):
	}
}

func TestPersistentNackRetriesThenParks(t *testing.T) {
	t.Parallel()
	url, _ := peers.PrivateESDB(t)
	ctx := peers.Context(t)
	store := connectStore(t, url)
	ids := appendEvents(t, ctx, store, 3)
	retried, poison := ids[0].String(), ids[1].String()

	sub := eventstore.NewPersistentSubscriber(store, eventstore.PersistentConfig{
		Group: "nacks", EventTypes: []string{pauseRequested}, MaxRetryCount: 2, MessageTimeout: 30 * time.Second,
	}, nil)
	t.Cleanup(func() { _ = sub.Close() })
	ch, err := sub.Subscribe(ctx, "")
	require.NoError(t, err)

	var mu sync.Mutex
	deliveries := map[string][]string{} // id -> retry_count of each delivery
	acked := map[string]bool{}
	deadline := time.After(60 * time.Second)
	for !(acked[retried] && acked[ids[2].String()] && len(deliveries[poison]) >= 3) {
		select {
		case m := <-ch:
			mu.Lock()
			deliveries[m.UUID] = append(deliveries[m.UUID], m.Metadata.Get(eventstore.MsgRetryCount))
			n := len(deliveries[m.UUID])
			mu.Unlock()
			switch {
			case m.UUID == poison, m.UUID == retried && n == 1:
				m.Nack()
			default:
				acked[m.UUID] = true
				m.Ack()
			}
		case <-deadline:
			t.Fatalf("deliveries so far: %v", deliveries)
		}
	}
	require.Equal(t, []string{"0", "1"}, deliveries[retried], "a nacked message comes back, counted")
	require.Len(t, deliveries[ids[2].String()], 1)

	// After MaxRetryCount retries the poison message is parked, not lost.
	parked := "$persistentsubscription-$all::nacks-parked"
	require.Eventually(t, func() bool {
		rs, err := store.Client().ReadStream(ctx, parked, esdb.ReadStreamOptions{ResolveLinkTos: true}, 100)
		if err != nil {
			return false
		}
		defer rs.Close()
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) || err != nil {
				return false
			}
			if ev.Event != nil && ev.Event.EventID.String() == poison {
				return true
			}
		}
	}, 30*time.Second, 200*time.Millisecond, "the poison message is in the parked stream")
	mu.Lock()
	require.Len(t, deliveries[poison], 3, "first delivery and two retries")
	mu.Unlock()
}

func TestPersistentConfigIsValidated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   eventstore.PersistentConfig
		topic string
		want  string
	}{
		{"no event types", eventstore.PersistentConfig{Group: "g"}, "", "name at least one event type"},
		{"unknown event type", eventstore.PersistentConfig{Group: "g", EventTypes: []string{"Nope.v1"}}, "", `"Nope.v1" is not an event type`},
		{"negative retries", eventstore.PersistentConfig{Group: "g", EventTypes: []string{pauseRequested}, MaxRetryCount: -1}, "", "max retry count"},
		{"no group", eventstore.PersistentConfig{EventTypes: []string{pauseRequested}}, "", "needs a group name"},
		{"topic differs", eventstore.PersistentConfig{Group: "g", EventTypes: []string{pauseRequested}}, "h", "differs from the configured group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The checks come before any call to the server.
			sub := eventstore.NewPersistentSubscriber(nil, tt.cfg, nil)
			_, err := sub.Subscribe(context.Background(), tt.topic)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
