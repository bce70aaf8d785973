package eventstore

import (
	"context"
	"errors"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// subscriptions is the lifecycle both Watermill subscribers share: every
// goroutine a Subscribe started is tracked, so that Close can end them all
// and return only once their channels are closed (Watermill's router expects
// no message after Close).
type subscriptions struct {
	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

func (s *subscriptions) init() { s.closing = make(chan struct{}) }

// open starts run in its own goroutine and returns the channel it sends on.
// prepare runs first, under the lock, so that a Close cannot slip in between
// it and the start. run's context ends when ctx ends or Close is called; the
// channel is closed when run returns.
func (s *subscriptions) open(ctx context.Context, prepare func(context.Context) error, run func(context.Context, chan<- *message.Message)) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("eventstore: subscriber is closed")
	}
	if err := prepare(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer cancel()
		go func() {
			select {
			case <-s.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		run(ctx, out)
	}()
	return out, nil
}

// spawn runs f in a goroutine that Close waits for.
func (s *subscriptions) spawn(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// close ends every subscription and waits until their goroutines are done.
func (s *subscriptions) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	s.wg.Wait()
}
