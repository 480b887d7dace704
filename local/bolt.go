package local

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/tuple"
)

// boltExec runs one bolt task: it executes the batches of its queue one
// tuple at a time and flushes what the bolt emitted after each batch.
type boltExec struct {
	rt      *Runtime
	t       *task
	b       bolt.Bolt
	em      *emitter
	coll    *boltCollector
	seq     uint64
	batches batches // batch coordination (batch.go)
	// localBatches: the batches come from a spout that sends each to a
	// task on its own worker (Runtime.localBatches)
	localBatches bool
	// quit, closed, retires the task alone (reshape.go)
	quit chan struct{}
}

func (r *Runtime) newBoltExec(t *task) (*boltExec, error) {
	b, err := r.reg.NewBolt(t.comp)
	if err != nil {
		return nil, err
	}
	streams, err := r.outStreams(t)
	if err != nil {
		return nil, err
	}
	e := &boltExec{rt: r, t: t, b: b, localBatches: r.localBatches(t.comp), quit: make(chan struct{})}
	e.batches.needed, e.batches.elastic = r.endsNeeded[t.comp.ID], r.endsElastic[t.comp.ID]
	e.em = newEmitter(r, t, streams)
	e.em.countBatches = true
	e.coll = &boltCollector{e: e}
	return e, nil
}

func (e *boltExec) prepare() error {
	if err := e.b.Prepare(e.rt.ctx, e.rt.taskContext(e.t), e.coll); err != nil {
		return fmt.Errorf("prepare bolt %q task %d: %w", e.t.comp.ID, e.t.id, err)
	}
	return nil
}

func (e *boltExec) run() {
	defer e.rt.boltsWG.Done()
	defer func() {
		if err := e.b.Cleanup(); err != nil {
			e.rt.reportError(e.t, fmt.Errorf("cleanup: %w", err))
		}
	}()
	var tick <-chan time.Time
	if d := time.Duration(e.t.comp.Tick); d > 0 {
		tk := time.NewTicker(d)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case batch := <-e.t.inbox:
			e.process(batch)
		case <-e.quit:
			// retired: what came before the routing changed everywhere
			// is executed first
			for {
				select {
				case batch := <-e.t.inbox:
					e.process(batch)
				default:
					return
				}
			}
		case now := <-tick:
			e.em.setInLoop(true)
			tt := &tuple.Tuple{Values: tuple.Values{now.Unix()}, Fields: tuple.Fields{"time"},
				Stream: tuple.TickStream, Component: tuple.SystemComponent}
			stateOf(tt).Done = true // acking a tick does nothing
			e.execute(tt)
			e.t.metrics.Executed.Add(1)
			e.em.setInLoop(false)
		case <-e.rt.stop:
			return
		}
	}
}

// process executes one batch of the task's queue.
func (e *boltExec) process(batch []*tuple.Tuple) {
	e.em.setInLoop(true)
	markers := 0
	for _, t := range batch {
		switch {
		case t.BatchID == "":
			e.execute(t)
		case t.Stream == tuple.BatchEndStream:
			markers++
			e.batchEnd(t)
		default:
			e.execute(t)
			e.batchTuple(t)
		}
	}
	e.t.metrics.Executed.Add(uint64(len(batch) - markers))
	e.em.setInLoop(false) // flushes the batch's emits and acks
	e.rt.inflight.Add(-int64(len(batch)))
}

func (e *boltExec) execute(t *tuple.Tuple) {
	m := e.t.metrics
	sample := e.seq&sampleMask == 0
	e.seq++
	var start time.Time
	if sample {
		start = time.Now()
		stateOf(t).Born = mono()
	}
	err := e.safeExecute(t)
	if sample {
		m.exec.Record(time.Since(start))
	}
	if err != nil {
		e.rt.reportError(e.t, err)
		e.coll.Fail(t) // no-op when the bolt already acked or failed it
	}
}

func (e *boltExec) safeExecute(t *tuple.Tuple) (err error) {
	defer func() {
		if p := recover(); p != nil {
			e.t.metrics.Panics.Add(1)
			err = fmt.Errorf("execute tuple from %s/%s: %w: %v\n%s", t.Component, t.Stream, ErrPanic, p, debug.Stack())
		}
	}()
	return e.b.Execute(e.rt.ctx, t)
}

// boltCollector is the bolt.Collector of one bolt task.
type boltCollector struct {
	e       *boltExec
	anchor1 [1]*tuple.Tuple
}

var _ bolt.Collector = (*boltCollector)(nil)

func (c *boltCollector) Emit(anchor *tuple.Tuple, values tuple.Values) {
	em := c.e.em
	em.mu.Lock()
	var anchors []*tuple.Tuple
	if anchor != nil {
		c.anchor1[0] = anchor
		anchors = c.anchor1[:]
	}
	_, _, err := em.emitLocked(&emission{values: values, anchors: anchors})
	em.afterCallLocked()
	em.mu.Unlock()
	if err != nil {
		c.e.rt.reportError(c.e.t, err)
	}
}

func (c *boltCollector) EmitTo(stream string, anchors []*tuple.Tuple, values tuple.Values) {
	c.Send(bolt.Message{Stream: stream, Anchors: anchors, Values: values})
}

func (c *boltCollector) EmitDirect(task int, stream string, anchors []*tuple.Tuple, values tuple.Values) {
	c.Send(bolt.Message{Stream: stream, Anchors: anchors, Values: values, DirectTask: task})
}

func (c *boltCollector) Send(m bolt.Message) []int {
	em := c.e.em
	em.mu.Lock()
	_, tasks, err := em.emitLocked(&emission{stream: m.Stream, values: m.Values, anchors: m.Anchors,
		direct: m.DirectTask, id: m.ID, needIDs: m.NeedTaskIDs})
	em.afterCallLocked()
	em.mu.Unlock()
	if err != nil {
		c.e.rt.reportError(c.e.t, err)
	}
	return tasks
}

func (c *boltCollector) Ack(t *tuple.Tuple) {
	em := c.e.em
	em.mu.Lock()
	if c.settleLocked(t, true) {
		em.afterCallLocked()
	}
	em.mu.Unlock()
}

func (c *boltCollector) Fail(t *tuple.Tuple) {
	em := c.e.em
	em.mu.Lock()
	if c.settleLocked(t, false) {
		em.afterCallLocked()
	}
	em.mu.Unlock()
}

// settleChunk bounds the tuples SettleAll settles under one hold of the
// emitter's lock (and, outside the task's loop, per flush).
const settleChunk = 1024

// SettleAll acks (ok) or fails every tuple of ts, as Ack or Fail on each
// would, holding the emitter's lock and flushing once per settleChunk
// tuples: a sink settling a batch of 10,000 tuples from its writer
// goroutine flushed (and sent the acker a message) for each of them.
func (c *boltCollector) SettleAll(ok bool, ts []*tuple.Tuple) {
	em := c.e.em
	for len(ts) > 0 {
		n := min(len(ts), settleChunk)
		em.mu.Lock()
		settled := false
		for _, t := range ts[:n] {
			settled = c.settleLocked(t, ok) || settled
		}
		if settled {
			em.afterCallLocked()
		}
		em.mu.Unlock()
		ts = ts[n:]
	}
}

// settleLocked acks (ok) or fails t unless it was settled already,
// reporting whether it did.
func (c *boltCollector) settleLocked(t *tuple.Tuple, ok bool) bool {
	em := c.e.em
	st := stateOf(t)
	if st.Done {
		return false
	}
	st.Done = true
	switch {
	case ok:
		em.nAcked++
		if st.Born != 0 {
			c.e.t.metrics.process.Record(time.Duration(mono() - st.Born))
		}
		if c.e.rt.acking && len(st.Anchors) > 0 {
			st.AckOps(em.sendAck)
		}
	default:
		em.nFailed++
		if em.inLoop && t.BatchID != "" && t.Stream != tuple.BatchEndStream {
			// the attempt of t's batch fails: its FinishBatch is skipped
			c.e.batches.failed = append(c.e.batches.failed, keyOf(t))
			c.e.batches.nFailed.Store(int32(len(c.e.batches.failed)))
		}
		if c.e.rt.acking && len(st.Anchors) > 0 {
			st.FailOps(em.sendFl)
		}
	}
	return true
}

func (c *boltCollector) ResetTimeout(t *tuple.Tuple) {
	em := c.e.em
	em.mu.Lock()
	if c.e.rt.acking {
		for _, a := range stateOf(t).Anchors {
			em.bufferAck(codec.Ack{Kind: codec.AckReset, Root: a.Root})
		}
		em.afterCallLocked()
	}
	em.mu.Unlock()
}

func (c *boltCollector) ReportError(err error) { c.e.rt.reportError(c.e.t, err) }
