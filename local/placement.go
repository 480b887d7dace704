package local

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gale-stream/gale/acker"
	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/tuple"
)

// Placement runs part of a topology in this process: a cluster worker's
// share. Tasks and acker tasks that are not local run in other workers;
// what is sent to them goes through Remote as messages (opaque bytes for
// the carrier), and what they send here comes in through Runtime.Receive.
type Placement struct {
	// Worker names this process (in task stats).
	Worker string
	// LocalTasks are the task ids that run here (see Runtime.Tasks).
	LocalTasks map[int]bool
	// LocalAckers are the acker indexes (0..ackers-1) that run here.
	LocalAckers map[int]bool
	// Remote carries messages to the other workers.
	Remote Remote
}

// Remote carries a runtime's messages to the tasks of other processes;
// the receiving process hands each to its Runtime.Receive. A message
// belongs to the callee once passed.
type Remote interface {
	// SendTask sends msg to the worker that runs task: tuples for a bolt
	// task, or a tree's completion for a spout task. It may block while
	// the receiver is backed up (backpressure across the network).
	SendTask(task int, msg []byte)
	// SendAcker sends msg, acks, to the worker that runs acker i. It
	// should not block for long: acks are small, bounded by the trees in
	// flight, and a blocked ack could close a cycle of backpressure.
	SendAcker(i int, msg []byte)
}

// ErrNotLocal: a message for a task or acker that does not run here.
var ErrNotLocal = errors.New("not a task of this worker")

func (r *Runtime) taskLocal(id int) bool {
	return r.place == nil || r.place.LocalTasks[id]
}

func (r *Runtime) ackerLocal(i int) bool {
	return r.place == nil || r.place.LocalAckers[i]
}

// Receive hands a message from another worker's runtime of the same
// topology to its local target: tuples to a bolt task's queue (blocking
// while it is full), acks to an acker (never blocking), a completion to a
// spout task. A message for a target that does not run here is an error
// wrapping ErrNotLocal (a carrier may keep it for a runtime about to
// start); a malformed one wraps codec.ErrMessage or a codec decode error.
// Receive does not keep msg.
func (r *Runtime) Receive(msg []byte) error {
	// the target first: a message for a task that does not run here is
	// not decoded (it may be kept, undecoded, for a runtime about to start)
	kind, target, err := codec.PeekMessage(msg)
	if err != nil {
		return err
	}
	switch kind {
	case codec.MessageTuples:
		if target <= 0 || target >= len(r.tasks) || !r.tasks[target].here.Load() || r.tasks[target].inbox == nil {
			return fmt.Errorf("deliver to task %d: %w", target, ErrNotLocal)
		}
	case codec.MessageAcks:
		if target < 0 || target >= len(r.ackers) || !r.ackerLocal(target) {
			return fmt.Errorf("deliver acks to acker %d: %w", target, ErrNotLocal)
		}
	}
	m, err := codec.DecodeMessage(msg)
	if err != nil {
		return err
	}
	switch m.Kind {
	case codec.MessageEvent:
		return r.deliverEvents(m.Target, m.Events)
	case codec.MessageAcks:
		return r.deliverAcks(m.Target, m.Acks)
	}
	return r.deliverRemote(m.Target, m.Tuples)
}

// deliverRemote hands tuples received from another worker to local task
// task, blocking while its queue is full. The tuples' Fields are set from
// the topology (they do not travel).
func (r *Runtime) deliverRemote(task int, ts []*tuple.Tuple) error {
	if task <= 0 || task >= len(r.tasks) || !r.tasks[task].here.Load() || r.tasks[task].inbox == nil {
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
			return fmt.Errorf("deliver to task %d: a tuple from unknown component %q: %w", task, t.Component, codec.ErrMessage)
		}
		f, ok := c.Streams[t.Stream]
		if !ok {
			return fmt.Errorf("deliver to task %d: %q has no stream %q: %w", task, t.Component, t.Stream, codec.ErrMessage)
		}
		t.Fields = f
	}
	// here even when it moved away (reshape.go): a late message is
	// executed where it was sent
	r.enqueue(r.tasks[task], ts)
	return nil
}

// deliverAcks hands ack messages from another worker to local acker i. It
// does not block: acks are queued until the acker takes them.
func (r *Runtime) deliverAcks(i int, msgs []codec.Ack) error {
	if i < 0 || i >= len(r.ackers) || !r.ackerLocal(i) {
		return fmt.Errorf("deliver acks to acker %d: %w", i, ErrNotLocal)
	}
	r.ackers[i].remote.push(msgs)
	return nil
}

// deliverEvents hands tree completions from a remote acker to their local
// spout task.
func (r *Runtime) deliverEvents(task int, evs []acker.Event) error {
	var sp *spoutExec
	if task > 0 && task < len(r.tasks) {
		sp = r.tasks[task].sp.Load()
	}
	if sp == nil {
		return fmt.Errorf("deliver events to task %d: %w", task, ErrNotLocal)
	}
	sp.events.pushAll(evs)
	return nil
}

// ackQueue is an unbounded queue of ack batches from other workers: a
// transport must never block on acks (that could close a cycle of
// backpressure between two workers). It is bounded in practice by the
// trees in flight (max spout pending).
type ackQueue struct {
	mu     sync.Mutex
	items  [][]codec.Ack
	notify chan struct{}
}

func newAckQueue() *ackQueue { return &ackQueue{notify: make(chan struct{}, 1)} }

func (q *ackQueue) push(b []codec.Ack) {
	q.mu.Lock()
	q.items = append(q.items, b)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *ackQueue) drain() [][]codec.Ack {
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
	for _, s := range r.spoutExecs() {
		s.events.push(acker.Event{SpoutTask: s.t.id, Failed: true, TimedOut: true})
		s.wake()
	}
}
