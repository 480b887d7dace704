package local

import (
	"sync"

	"github.com/gale-stream/gale/acker"
)

// eventQueue carries tree completions from acker tasks to a spout task. It
// is unbounded on purpose: an acker must never block on a spout (the spout
// may itself be blocked on a full bolt queue, and the bolt on the acker),
// and its length is bounded anyway by the spout's pending trees.
type eventQueue struct {
	mu     sync.Mutex // guards items
	items  []acker.Event
	notify chan struct{} // capacity 1: "items may be non-empty"
}

func newEventQueue() *eventQueue {
	return &eventQueue{notify: make(chan struct{}, 1)}
}

func (q *eventQueue) push(ev acker.Event) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	q.wake()
}

// pushAll queues the completions of one message from a remote acker.
func (q *eventQueue) pushAll(evs []acker.Event) {
	q.mu.Lock()
	q.items = append(q.items, evs...)
	q.mu.Unlock()
	q.wake()
}

func (q *eventQueue) wake() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// drain moves the queued events into dst (reset to length 0) and returns it.
func (q *eventQueue) drain(dst []acker.Event) []acker.Event {
	q.mu.Lock()
	dst = append(dst[:0], q.items...)
	q.items = q.items[:0]
	q.mu.Unlock()
	return dst
}
