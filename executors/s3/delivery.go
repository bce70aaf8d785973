package s3

import (
	"encoding/json"
	"sync"
)

// delivery is one durable callback waiting to run.
type delivery struct {
	mark  any
	state json.RawMessage
}

// deliveryQueue runs callbacks on one goroutine, in the order they were
// pushed, so a slow callback never holds up part uploads and two parts
// finishing together can never report their marks out of order.
type deliveryQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	items   []delivery
	pushed  int
	done    int
	stopped bool
	exited  chan struct{}
}

func (q *deliveryQueue) start(run func(delivery)) {
	q.cond = sync.NewCond(&q.mu)
	q.exited = make(chan struct{})
	go func() {
		defer close(q.exited)
		q.mu.Lock()
		defer q.mu.Unlock()
		for {
			for len(q.items) == 0 && !q.stopped {
				q.cond.Wait()
			}
			if len(q.items) == 0 {
				return
			}
			batch := q.items
			q.items = nil
			q.mu.Unlock()
			for _, d := range batch {
				run(d)
			}
			q.mu.Lock()
			q.done += len(batch)
			q.cond.Broadcast()
		}
	}()
}

func (q *deliveryQueue) push(d delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return // the upload ended: nobody waits for this state any more
	}
	q.items = append(q.items, d)
	q.pushed++
	q.cond.Broadcast()
}

// wait returns when every pushed callback has run.
func (q *deliveryQueue) wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.done < q.pushed {
		q.cond.Wait()
	}
}

// stop lets the goroutine run what is queued, then end.
func (q *deliveryQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.cond.Broadcast()
	q.mu.Unlock()
	<-q.exited
}
