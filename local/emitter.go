package local

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/gale-stream/gale/acker"
	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/internal/grouping"
	"github.com/gale-stream/gale/internal/tuplestate"
	"github.com/gale-stream/gale/tuple"
)

// outStream is one output stream of a task with its subscribers.
type outStream struct {
	id     string
	fields tuple.Fields
	subs   []outSub
}

type outSub struct {
	consumer string
	direct   bool
	targets  []int
	grouper  grouping.Grouper
	byBatch  grouping.BatchChooser // the "batch" grouping's grouper, else nil
}

// emitter is the sending half shared by a task's collector: it routes
// emits to target tasks, anchors them, and batches tuples per target task
// and ack messages per acker task. It is owned by one task; its methods
// lock mu so that collectors may be used from other goroutines too.
type emitter struct {
	rt   *Runtime
	task *task

	mu      sync.Mutex // guards every field below
	inLoop  bool       // the task's own loop will flush at the end of its batch
	streams map[string]*outStream
	def     *outStream       // streams["default"], or nil
	bufs    [][]*tuple.Tuple // by target task id
	dirty   []int            // task ids whose bufs are non-empty
	acks    [][]codec.Ack    // by acker index
	ackDirt []int
	scratch []int // targets of the current emit
	// counts not yet published to the task's metrics (published at each
	// flush: atomics per tuple cost more than the work they count)
	nEmitted, nTransferred, nAcked, nFailed uint64
	slab                                    []tuple.Tuple
	aslab                                   []tuplestate.Anchor
	sendAck                                 func(root, val uint64)
	sendFl                                  func(root, val uint64)

	// the timer flush (flush.go)
	kick chan struct{} // cap 1, nil without a flusher
	gen  uint64        // flushAllLocked calls so far

	// batch coordination (batch.go)
	countBatches bool                 // count emits of batch tuples per target
	endTargets   []int                // every task reading this task's streams
	endOf        []int64              // a spout's only: each end target's "of" (Runtime.endsOf)
	bcounts      map[batchKey][]int32 // tuples sent, by batch attempt and target
	lastKey      batchKey             // cache of the last bcounts entry
	lastCounts   []int32
}

func newEmitter(rt *Runtime, t *task, streams map[string]*outStream) *emitter {
	e := &emitter{
		rt:      rt,
		task:    t,
		streams: streams,
		bufs:    make([][]*tuple.Tuple, len(rt.tasks)),
		acks:    make([][]codec.Ack, len(rt.ackers)),
	}
	e.def = streams[tuple.DefaultStream]
	e.setEndTargets()
	if rt.topo.Settings.FlushInterval > 0 {
		e.kick = make(chan struct{}, 1)
	}
	e.sendAck = func(root, val uint64) { e.bufferAck(codec.Ack{Kind: codec.AckAck, Root: root, Val: val}) }
	e.sendFl = func(root, val uint64) { e.bufferAck(codec.Ack{Kind: codec.AckFail, Root: root, Val: val}) }
	return e
}

// newTuple hands out tuples from a slab: one allocation per 64 tuples.
func (e *emitter) newTuple() *tuple.Tuple {
	if len(e.slab) == 0 {
		e.slab = make([]tuple.Tuple, 64)
	}
	t := &e.slab[0]
	e.slab = e.slab[1:]
	return t
}

func (e *emitter) anchorBuf(n int) []tuplestate.Anchor {
	if len(e.aslab) < n {
		e.aslab = make([]tuplestate.Anchor, max(128, n))
	}
	b := e.aslab[:0:n]
	e.aslab = e.aslab[n:]
	return b
}

// emission is one emit from a spout or a bolt.
type emission struct {
	stream  string
	values  tuple.Values
	direct  int
	id      string
	batchID string
	root    uint64         // spouts: the tree root (0: untracked)
	anchors []*tuple.Tuple // bolts
	needIDs bool
}

// emit routes one emission; it returns the xor of the new edges (for a
// spout's ack init) and, when asked, the target task ids. The caller holds
// e.mu.
func (e *emitter) emitLocked(m *emission) (xor uint64, tasks []int, err error) {
	var os *outStream
	if m.stream == "" || m.stream == tuple.DefaultStream {
		m.stream, os = tuple.DefaultStream, e.def
	} else {
		os = e.streams[m.stream]
	}
	if os == nil {
		return 0, nil, fmt.Errorf("emit on stream %q: %w", m.stream, ErrUndeclaredStream)
	}
	if len(m.values) != len(os.fields) {
		return 0, nil, fmt.Errorf("emit on stream %q: %d values for fields %v: %w", m.stream, len(m.values), os.fields, ErrFieldCount)
	}
	tracked := e.rt.acking && (m.root != 0 || len(m.anchors) > 0)
	var id, batch string
	if m.root == 0 && len(m.anchors) == 1 && m.anchors[0].BatchID != "" {
		// derive a deterministic id for tuples of a batch: parent id + the
		// index of this child among the parent's children
		a := m.anchors[0]
		batch = a.BatchID
		st := stateOf(a)
		if m.id != "" {
			id = m.id
		} else {
			id = a.ID + "/" + strconv.Itoa(int(st.Children))
		}
		st.Children++
	} else {
		id, batch = m.id, m.batchID
	}

	targets := e.scratch[:0]
	for i := range os.subs {
		s := &os.subs[i]
		switch {
		case m.direct > 0 && s.direct:
			if err := grouping.CheckDirect(s.targets, m.direct); err != nil {
				return 0, nil, fmt.Errorf("emit direct to task %d of %q: %w", m.direct, s.consumer, err)
			}
			targets = append(targets, m.direct)
		case m.direct > 0 || s.direct:
			// a direct emit reaches only direct subscribers, and the other
			// way round, as in Storm
		case s.byBatch != nil && batch != "":
			targets = s.byBatch.ChooseBatch(targets, batch)
		default:
			targets = s.grouper.Choose(targets, m.values)
		}
	}
	e.scratch = targets
	e.nEmitted++
	e.nTransferred += uint64(len(targets))

	for _, target := range targets {
		t := e.newTuple()
		t.Values = m.values
		t.Fields = os.fields
		t.Stream = m.stream
		t.Component = e.task.comp.ID
		t.Task = e.task.id
		t.ID = id
		t.BatchID = batch
		if tracked {
			edge := tuplestate.NewID()
			if m.root != 0 {
				stateOf(t).Anchors = append(e.anchorBuf(1), tuplestate.Anchor{Root: m.root, Edge: edge})
				xor ^= edge
			} else {
				stateOf(t).Anchors = tuplestate.Anchors(e.anchorBuf(rootsOf(m.anchors)), m.anchors, stateOf, edge)
			}
		}
		if batch != "" && e.countBatches {
			e.countBatchLocked(keyOf(t), target)
		}
		if e.rt.debug {
			e.rt.log.Debug("emit", "component", e.task.comp.ID, "task", e.task.id, "stream", m.stream, "to", target, "values", m.values)
		}
		e.bufferLocked(target, t)
	}
	if m.needIDs {
		tasks = append([]int(nil), targets...)
	}
	return xor, tasks, nil
}

func rootsOf(anchors []*tuple.Tuple) int {
	n := 0
	for _, a := range anchors {
		n += len(stateOf(a).Anchors)
	}
	return n
}

func (e *emitter) bufferLocked(target int, t *tuple.Tuple) {
	b := e.bufs[target]
	if b == nil {
		if len(e.dirty) == 0 && len(e.ackDirt) == 0 {
			e.kickLocked() // the first item since the last flush
		}
		b = make([]*tuple.Tuple, 0, e.rt.batchSize)
		e.dirty = append(e.dirty, target)
	}
	b = append(b, t)
	e.bufs[target] = b
	if len(b) >= e.rt.batchSize {
		e.flushTaskLocked(target)
	}
}

func (e *emitter) bufferAck(m codec.Ack) {
	i := acker.TaskIndex(m.Root, len(e.rt.ackers))
	b := e.acks[i]
	if b == nil {
		if len(e.dirty) == 0 && len(e.ackDirt) == 0 {
			e.kickLocked() // the first item since the last flush
		}
		b = make([]codec.Ack, 0, e.rt.batchSize)
		e.ackDirt = append(e.ackDirt, i)
	}
	if n := len(b); n > 0 && b[n-1].Kind == m.Kind && b[n-1].Root == m.Root && b[n-1].Task == m.Task &&
		(m.Kind == codec.AckAck || m.Kind == codec.AckFail) {
		// the same tree as the last: one XOR of both, as the acker would
		// apply them one after the other (a batch's tuples settled together
		// share their tree)
		b[n-1].Val ^= m.Val
		return
	}
	b = append(b, m)
	e.acks[i] = b
	if len(b) >= e.rt.batchSize {
		e.flushAckLocked(i)
	}
}

// flushTaskLocked sends the buffered tuples of one target task, blocking
// while its queue is full (backpressure) unless the runtime stops.
func (e *emitter) flushTaskLocked(target int) {
	b := e.bufs[target]
	if len(b) == 0 {
		return
	}
	// the receiver owns b now; the next batch gets a buffer of full size
	// (target stays in dirty until flushAllLocked, which skips empty ones)
	e.bufs[target] = make([]*tuple.Tuple, 0, e.rt.batchSize)
	e.rt.deliver(target, b)
}

func (e *emitter) flushAckLocked(i int) {
	b := e.acks[i]
	if len(b) == 0 {
		return
	}
	e.acks[i] = make([]codec.Ack, 0, e.rt.batchSize)
	e.rt.ackers[i].send(b, e.rt.stop)
}

// publishLocked adds the counts gathered since the last flush to the
// task's metrics.
func (e *emitter) publishLocked() {
	m := e.task.metrics
	if e.nEmitted != 0 {
		m.Emitted.Add(e.nEmitted)
		m.Transferred.Add(e.nTransferred)
		e.nEmitted, e.nTransferred = 0, 0
	}
	if e.nAcked != 0 {
		m.Acked.Add(e.nAcked)
		e.nAcked = 0
	}
	if e.nFailed != 0 {
		m.Failed.Add(e.nFailed)
		e.nFailed = 0
	}
}

// flushAllLocked sends everything buffered and publishes the counts.
func (e *emitter) flushAllLocked() {
	e.gen++
	e.publishLocked()
	for _, target := range e.dirty {
		e.flushTaskLocked(target)
		e.bufs[target] = nil
	}
	e.dirty = e.dirty[:0]
	for _, i := range e.ackDirt {
		e.flushAckLocked(i)
		e.acks[i] = nil
	}
	e.ackDirt = e.ackDirt[:0]
}

// afterCall flushes when the call came from outside the task's own loop
// (a sink acking from its writer goroutine), since no loop will do it.
func (e *emitter) afterCallLocked() {
	if !e.inLoop {
		e.flushAllLocked()
	}
}

func (e *emitter) setInLoop(v bool) {
	e.mu.Lock()
	e.inLoop = v
	if !v {
		e.flushAllLocked()
	}
	e.mu.Unlock()
}

// stateOf is a tuple's engine state (acking, ids, latency), unexported in
// package tuple so that components cannot touch it.
func stateOf(t *tuple.Tuple) *tuplestate.State {
	if t == nil {
		return nil
	}
	return tuplestate.Of(t)
}
