package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// CheckpointStore tells a catch-up subscription where its reader stopped.
// The position returned is the last event the reader has fully processed;
// nil means "from the start of $all".
type CheckpointStore interface {
	Load(ctx context.Context, subscriptionName string) (*esdb.Position, error)
}

// CatchUpSubscriber is a Watermill subscriber over catch-up subscriptions
// to $all, one per topic. The topic is the subscription's (the read
// model's) name: it is what the CheckpointStore is asked about.
//
// Messages come one at a time: the next is sent only after the previous one
// was acked, so a handler sees $all in order. A nacked message is sent again
// (after NackDelay) until it is acked; nothing is ever skipped. When the
// subscription drops it is re-opened after the last acked event. System
// events (types starting with "$") are filtered out by the server.
type CatchUpSubscriber struct {
	store       *Store
	checkpoints CheckpointStore
	logger      watermill.LoggerAdapter

	// NackDelay is the pause before a nacked message is sent again.
	NackDelay time.Duration
	// ReconnectDelay is the pause before re-opening a dropped subscription.
	ReconnectDelay time.Duration

	subs subscriptions
}

// NewCatchUpSubscriber returns a subscriber reading through store's client.
// logger may be nil.
func NewCatchUpSubscriber(store *Store, checkpoints CheckpointStore, logger watermill.LoggerAdapter) *CatchUpSubscriber {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	s := &CatchUpSubscriber{
		store: store, checkpoints: checkpoints, logger: logger,
		NackDelay: 500 * time.Millisecond, ReconnectDelay: time.Second,
	}
	s.subs.init()
	return s
}

// excludeSystemEvents keeps every event whose type does not start with "$".
// EventStoreDB's filters select what matches, so "exclude ^\$" is written
// as "include ^[^$]" (the client's ExcludeSystemEventsFilter).
func excludeSystemEvents() *esdb.SubscriptionFilter { return esdb.ExcludeSystemEventsFilter() }

// Subscribe starts reading $all after the position the CheckpointStore holds
// for topic. The channel is closed when ctx ends or Close is called.
func (s *CatchUpSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic == "" {
		return nil, errors.New("eventstore: catch-up subscription needs a name (the topic)")
	}
	var from *esdb.Position
	loadCheckpoint := func(ctx context.Context) error {
		var err error
		if from, err = s.checkpoints.Load(ctx, topic); err != nil {
			return fmt.Errorf("eventstore: load checkpoint of %s: %w", topic, err)
		}
		return nil
	}
	return s.subs.open(ctx, loadCheckpoint, func(ctx context.Context, out chan<- *message.Message) {
		s.run(ctx, topic, from, out)
	})
}

// Close ends every subscription and waits until their channels are closed.
func (s *CatchUpSubscriber) Close() error {
	s.subs.close()
	return nil
}

func (s *CatchUpSubscriber) run(ctx context.Context, topic string, from *esdb.Position, out chan<- *message.Message) {
	log := s.logger.With(watermill.LogFields{"subscription": topic})
	for ctx.Err() == nil {
		var start esdb.AllPosition = esdb.Start{}
		if from != nil {
			start = *from // exclusive: the subscription starts after it
		}
		sub, err := s.store.client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: start, Filter: excludeSystemEvents()})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("Cannot open catch-up subscription, retrying", err, nil)
			sleepCtx(ctx, s.ReconnectDelay)
			continue
		}
		log.Debug("Catch-up subscription open", watermill.LogFields{"from": fmt.Sprint(start)})
		from = s.pump(ctx, log, sub, from, out)
		_ = sub.Close()
		if ctx.Err() == nil {
			sleepCtx(ctx, s.ReconnectDelay)
		}
	}
}

// pump delivers events until the subscription drops or ctx ends, and
// returns the position of the last acked event.
func (s *CatchUpSubscriber) pump(ctx context.Context, log watermill.LoggerAdapter, sub *esdb.Subscription, last *esdb.Position, out chan<- *message.Message) *esdb.Position {
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			if ctx.Err() == nil {
				log.Error("Catch-up subscription dropped, reconnecting after the last acked event", ev.SubscriptionDropped.Error, nil)
			}
			return last
		case ev.EventAppeared != nil:
			e := ev.EventAppeared.Event
			if e == nil {
				continue
			}
			if !deliverInOrder(ctx, out, eventMessage(e), s.NackDelay, log) {
				return last
			}
			p := e.Position
			last = &p
		}
	}
}

// deliverInOrder sends msg and waits for its ack; a nack sends a fresh copy
// after delay. It returns false when ctx ended first.
func deliverInOrder(ctx context.Context, out chan<- *message.Message, msg *message.Message, delay time.Duration, log watermill.LoggerAdapter) bool {
	for attempt := 1; ; attempt++ {
		m := msg
		if attempt > 1 {
			m = msg.Copy() // a message can be acked or nacked only once
		}
		mctx, cancel := context.WithCancel(ctx)
		m.SetContext(mctx)
		select {
		case out <- m:
		case <-ctx.Done():
			cancel()
			return false
		}
		select {
		case <-m.Acked():
			cancel()
			return true
		case <-m.Nacked():
			cancel()
			log.Debug("Message nacked, sending it again", watermill.LogFields{"message_uuid": m.UUID, "attempt": attempt})
			if !sleepCtx(ctx, delay) {
				return false
			}
		case <-ctx.Done():
			cancel()
			return false
		}
	}
}

// sleepCtx waits d or until ctx ends; it reports whether the full d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
