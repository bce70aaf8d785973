package eventstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"backupd/domain"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// PersistentConfig configures a persistent subscription group on $all.
type PersistentConfig struct {
	// Group names the consumer group; every process subscribing with the
	// same group shares its messages (each goes to one of them). When
	// empty, the topic given to Subscribe is the group.
	Group string
	// EventTypes are the only event types the server sends (exact names,
	// such as "BackupRequested.v1"). Required.
	EventTypes []string
	// MessageTimeout is how long the server waits for an ack before sending
	// the message again (to any consumer). 0 means 30 s: EventStoreDB would
	// read 0 as "time out at the next tick", which redelivers everything.
	MessageTimeout time.Duration
	// MaxRetryCount is how many times a message is retried (nacks and
	// timeouts) before the server parks it. 0 means 10.
	MaxRetryCount int
	// BufferSize is how many unacked messages one consumer holds at once.
	// 0 means 10.
	BufferSize int
}

func (c PersistentConfig) withDefaults() PersistentConfig {
	if c.MessageTimeout == 0 {
		c.MessageTimeout = 30 * time.Second
	}
	if c.MaxRetryCount == 0 {
		c.MaxRetryCount = 10
	}
	if c.BufferSize == 0 {
		c.BufferSize = 10
	}
	return c
}

// Validate says in plain words what is wrong with the configuration.
func (c PersistentConfig) Validate() error {
	var errs []error
	if len(c.EventTypes) == 0 {
		errs = append(errs, errors.New("event types: name at least one event type"))
	}
	known := map[string]bool{}
	for _, t := range domain.EventTypes() {
		known[t] = true
	}
	for _, t := range c.EventTypes {
		if !known[t] {
			errs = append(errs, fmt.Errorf("event types: %q is not an event type of this binary", t))
		}
	}
	if c.MessageTimeout < 0 || c.MessageTimeout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("message timeout: %s is not between 0 and 24h", c.MessageTimeout))
	}
	if c.MaxRetryCount < 0 {
		errs = append(errs, fmt.Errorf("max retry count: %d is negative", c.MaxRetryCount))
	}
	if c.BufferSize < 0 || c.BufferSize > 10_000 {
		errs = append(errs, fmt.Errorf("buffer size: %d is not between 0 and 10000", c.BufferSize))
	}
	return errors.Join(errs...)
}

// eventTypesFilter selects exactly the listed types. Prefix filters would
// also match "X.v10" for "X.v1", hence an anchored regex (valid for both
// .NET's and Go's regex syntax).
func eventTypesFilter(types []string) *esdb.SubscriptionFilter {
	quoted := make([]string, len(types))
	for i, t := range types {
		quoted[i] = regexp.QuoteMeta(t)
	}
	return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: "^(" + strings.Join(quoted, "|") + ")$"}
}

// PersistentSubscriber is a Watermill subscriber over an EventStoreDB
// persistent subscription to $all: competing consumers. Several processes
// (or several Subscribe calls) on the same group share the messages; each is
// delivered to one consumer at a time, and redelivered (to any consumer)
// when it is nacked or not acked within MessageTimeout. After MaxRetryCount
// retries the server parks it (the poison queue: `$persistentsubscription-
// $all::<group>-parked`).
//
// Messages are handed out as they arrive, up to BufferSize unacked at once,
// so a slow handler does not make the others time out; there is no ordering
// between them.
type PersistentSubscriber struct {
	store  *Store
	cfg    PersistentConfig
	logger watermill.LoggerAdapter

	// ReconnectDelay is the pause before re-joining the group after a drop.
	ReconnectDelay time.Duration

	subs subscriptions
}

// NewPersistentSubscriber returns a subscriber for cfg's group. The
// configuration is checked by Subscribe (see PersistentConfig.Validate).
func NewPersistentSubscriber(store *Store, cfg PersistentConfig, logger watermill.LoggerAdapter) *PersistentSubscriber {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	s := &PersistentSubscriber{store: store, cfg: cfg, logger: logger, ReconnectDelay: time.Second}
	s.subs.init()
	return s
}

// group is the consumer group for topic.
func (s *PersistentSubscriber) group(topic string) (string, error) {
	switch {
	case s.cfg.Group == "" && topic == "":
		return "", errors.New("eventstore: persistent subscription needs a group name")
	case s.cfg.Group == "":
		return topic, nil
	case topic != "" && topic != s.cfg.Group:
		return "", fmt.Errorf("eventstore: topic %q differs from the configured group %q", topic, s.cfg.Group)
	}
	return s.cfg.Group, nil
}

// EnsureGroup creates the group on $all if it does not exist. It starts at
// the beginning of $all (inclusive), so a request written before the first
// worker ever ran is not lost. An existing group is left as it is
// (EventStoreDB cannot change a group's filter; delete the group to change
// its event types).
func (s *PersistentSubscriber) EnsureGroup(ctx context.Context, group string) error {
	cfg := s.cfg.withDefaults()
	settings := esdb.SubscriptionSettingsDefault()
	settings.MaxRetryCount = int32(cfg.MaxRetryCount)
	settings.MessageTimeout = int32(cfg.MessageTimeout / time.Millisecond)
	settings.ConsumerStrategyName = esdb.ConsumerStrategyRoundRobin
	err := s.store.client.CreatePersistentSubscriptionToAll(ctx, group, esdb.PersistentAllSubscriptionOptions{
		Settings: &settings, StartFrom: esdb.Start{}, Filter: eventTypesFilter(cfg.EventTypes),
	})
	var esErr *esdb.Error
	if errors.As(err, &esErr) && esErr.Code() == esdb.ErrorCodeResourceAlreadyExists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("eventstore: create persistent subscription %s: %w", group, err)
	}
	return nil
}

// Subscribe joins the group (creating it when missing) and returns its
// messages. The channel is closed when ctx ends or Close is called.
func (s *PersistentSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if err := s.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("eventstore: persistent subscription: %w", err)
	}
	group, err := s.group(topic)
	if err != nil {
		return nil, err
	}
	ensureGroup := func(ctx context.Context) error { return s.EnsureGroup(ctx, group) }
	return s.subs.open(ctx, ensureGroup, func(ctx context.Context, out chan<- *message.Message) {
		s.run(ctx, group, out)
	})
}

// Close leaves every group and waits until the channels are closed.
func (s *PersistentSubscriber) Close() error {
	s.subs.close()
	return nil
}

func (s *PersistentSubscriber) run(ctx context.Context, group string, out chan<- *message.Message) {
	log := s.logger.With(watermill.LogFields{"group": group})
	cfg := s.cfg.withDefaults()
	for ctx.Err() == nil {
		sub, err := s.store.client.SubscribeToPersistentSubscriptionToAll(ctx, group, esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: uint32(cfg.BufferSize)})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("Cannot join persistent subscription, retrying", err, nil)
			var esErr *esdb.Error
			if errors.As(err, &esErr) && esErr.Code() == esdb.ErrorCodeResourceNotFound {
				// Someone deleted the group: recreate it rather than wait for ever.
				if err := s.EnsureGroup(ctx, group); err != nil {
					log.Error("Cannot recreate persistent subscription", err, nil)
				}
			}
			sleepCtx(ctx, s.ReconnectDelay)
			continue
		}
		s.pump(ctx, log, sub, out)
		if ctx.Err() == nil {
			sleepCtx(ctx, s.ReconnectDelay)
		}
	}
}

// pump hands out messages until the subscription drops or ctx ends, then
// closes the subscription. Each message's ack or nack is forwarded to the
// server by its own goroutine; a handler still busy when the subscription
// drops keeps its context (its settle then fails and the server sends the
// message again after the timeout: delivery is at least once).
func (s *PersistentSubscriber) pump(ctx context.Context, log watermill.LoggerAdapter, sub *esdb.PersistentSubscription, out chan<- *message.Message) {
	var sendMu sync.Mutex // a gRPC stream takes one Send (or CloseSend) at a time
	defer func() {
		sendMu.Lock()
		_ = sub.Close()
		sendMu.Unlock()
	}()
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			if ctx.Err() == nil {
				log.Error("Persistent subscription dropped, rejoining", ev.SubscriptionDropped.Error, nil)
			}
			return
		case ev.EventAppeared != nil:
			resolved := ev.EventAppeared.Event
			e := resolved.Event
			if e == nil {
				e = resolved.OriginalEvent()
			}
			msg := eventMessage(e)
			msg.Metadata.Set(MsgRetryCount, strconv.Itoa(ev.EventAppeared.RetryCount))
			mctx, mcancel := context.WithCancel(ctx)
			msg.SetContext(mctx)
			select {
			case out <- msg:
			case <-ctx.Done():
				mcancel()
				return // not acked: the server sends it again after the timeout
			}
			s.subs.spawn(func() {
				defer mcancel()
				var err error
				select {
				case <-msg.Acked():
					sendMu.Lock()
					err = sub.Ack(resolved)
					sendMu.Unlock()
				case <-msg.Nacked():
					sendMu.Lock()
					err = sub.Nack("handler failed", esdb.NackActionRetry, resolved)
					sendMu.Unlock()
				case <-ctx.Done():
					return // the server sends it again after the timeout
				}
				if err != nil && ctx.Err() == nil {
					log.Error("Cannot settle message; the server will send it again", err, watermill.LogFields{"message_uuid": msg.UUID})
				}
			})
		}
	}
}
