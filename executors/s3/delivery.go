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

// deliveryQueue runs callbacks one at a time, in the order they were
// pushed, on a goroutine that exists only while there is work (an upload
// left suspended holds none), so a slow callback never holds up part
// uploads and two parts finishing together never report out of order.
type deliveryQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	run     func(delivery)
	items   []delivery
	pushed  int
	done    int
	running bool
	stopped bool
}

func newDeliveryQueue(run func(delivery)) *deliveryQueue {
	q := &deliveryQueue{run: run}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *deliveryQueue) push(d delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return // the upload ended: nobody waits for this state any more
	}
	q.items = append(q.items, d)
	q.pushed++
	if !q.running {
		q.running = true
		go q.drain()
	}
}

func (q *deliveryQueue) drain() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) > 0 {
		batch := q.items
		q.items = nil
		q.mu.Unlock()
		for _, d := range batch {
			q.run(d)
		}
		q.mu.Lock()
		q.done += len(batch)
		q.cond.Broadcast()
	}
	q.running = false
}

// wait returns when every pushed callback has run.
func (q *deliveryQueue) wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.done < q.pushed {
		q.cond.Wait()
	}
}

// stop drops callbacks pushed from now on and waits for the queued ones.
func (q *deliveryQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	q.wait()
}
