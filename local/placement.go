package local

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gale-stream/gale/acker"
	"github.com/gale-stream/gale/tuple"
)

// Placement runs part of a topology in this process: a cluster worker's
// share. Tasks and ackers that are not local live in other workers; what
// is sent to them goes through Remote, and what they send here comes in
// through Runtime.Deliver, DeliverAcks and DeliverEvent.
type Placement struct {
	// Worker names this process (in task stats).
	Worker string
	// LocalTasks are the task ids that run here.
	LocalTasks map[int]bool
	// LocalAckers are the acker indexes (0..ackers-1) that run here.
	LocalAckers map[int]bool
	// Remote carries messages to the other workers.
	Remote Remote
}

// Remote carries a runtime's messages to tasks in other processes. Tuples
// may block while the receiver is backed up (backpressure across the
// network); Acks and Event should not block for long (they are small and
// bounded by the trees in flight).
type Remote interface {
	Tuples(task int, ts []*tuple.Tuple)
	Acks(acker int, msgs []AckMsg)
	Event(ev acker.Event)
}

// ErrNotLocal: a message for a task or acker that does not run here.
var ErrNotLocal = errors.New("not a task of this worker")

func (r *Runtime) taskLocal(id int) bool {
	return r.place == nil || r.place.LocalTasks[id]
}

func (r *Runtime) ackerLocal(i int) bool {
	return r.place == nil || r.place.LocalAckers[i]
}

// Deliver hands tuples received from another worker to local task task,
// blocking while its queue is full. The tuples' Fields are set from the
// topology (they do not travel).
func (r *Runtime) Deliver(task int, ts []*tuple.Tuple) error {
	if task <= 0 || task >= len(r.tasks) || r.tasks[task].inbox == nil {
		return fmt.Errorf("deliver to task %d: %w", task, ErrNotLocal)
	}
	for _, t := range ts {
		if t.Fields != nil {
			continue
		}
		if t.Stream == tuple.BatchEndStream {
			t.Fields = endFields
			continue
		}
		c := r.comps[t.Component]
		if c == nil {
			return fmt.Errorf("deliver to task %d: a tuple from unknown component %q", task, t.Component)
		}
		f, ok := c.Streams[t.Stream]
		if !ok {
			return fmt.Errorf("deliver to task %d: %q has no stream %q", task, t.Component, t.Stream)
		}
		t.Fields = f
	}
	r.deliver(task, ts)
	return nil
}

// DeliverAcks hands ack messages from another worker to local acker i. It
// does not block: acks are queued until the acker takes them.
func (r *Runtime) DeliverAcks(i int, msgs []AckMsg) error {
	if i < 0 || i >= len(r.ackers) || !r.ackerLocal(i) {
		return fmt.Errorf("deliver acks to acker %d: %w", i, ErrNotLocal)
	}
	r.ackers[i].remote.push(msgs)
	return nil
}

// DeliverEvent hands a tree completion from a remote acker to its local
// spout task.
func (r *Runtime) DeliverEvent(ev acker.Event) error {
	if ev.SpoutTask <= 0 || ev.SpoutTask >= len(r.tasks) || r.tasks[ev.SpoutTask].sp == nil {
		return fmt.Errorf("deliver an event to task %d: %w", ev.SpoutTask, ErrNotLocal)
	}
	r.tasks[ev.SpoutTask].sp.events.push(ev)
	return nil
}

// ackQueue is an unbounded queue of ack batches from other workers: a
// transport must never block on acks (that could close a cycle of
// backpressure between two workers).
type ackQueue struct {
	mu     sync.Mutex
	items  [][]AckMsg
	notify chan struct{}
}

func newAckQueue() *ackQueue { return &ackQueue{notify: make(chan struct{}, 1)} }

func (q *ackQueue) push(b []AckMsg) {
	q.mu.Lock()
	q.items = append(q.items, b)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *ackQueue) drain() [][]AckMsg {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}

// FailPending fails every tree the local spouts have in flight, at once
// rather than at their timeout: after a worker died, the trees that had
// tuples there can never complete, and waiting would hold max spout
// pending full for the whole message timeout. The spouts replay them.
func (r *Runtime) FailPending() {
	for _, s := range r.spouts {
		s.events.push(acker.Event{SpoutTask: s.t.id, Failed: true, TimedOut: true})
		s.wake()
	}
}
