package local

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/acker"
	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/grouping"
	"github.com/gale-stream/gale/internal/tuplestate"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Batch coordination (spout.BatchSender, bolt.BatchBolt).
//
// A spout sends a batch's tuples as one tree, then an end marker to every
// task downstream saying how many of the batch's tuples it sent that task.
// A bolt task counts the batch's tuples it executes and the markers it
// receives; it has finished the batch when every upstream task that takes
// part in the batch has sent its marker and it has executed as many tuples
// as the markers announced. It then calls FinishBatch (batch-aware bolts)
// and sends its own markers downstream, counting what it emitted. The
// markers are tuples of the batch's tree, so the tree completes only when
// every task has finished the batch, and a marker that is lost (or a count
// that never adds up) times the tree out and replays the batch.
//
// Which upstream tasks take part: the one spout task that sent the batch,
// and every task of every bolt downstream of that spout (each of them gets
// markers from all its upstream tasks, so each finishes and forwards).
// The tasks of an elastic bolt (topology.Elastic) may change while a
// batch is on its way, so their number is not fixed: the spout sends the
// batch and its markers at once, each marker to a task of an elastic bolt
// saying how many of that bolt's tasks got one ("of"); those tasks pass
// the number on in their own markers, and a task downstream needs that
// many markers from the elastic bolt for this batch.

// Batches that stay on their spout's worker
//
// A sink that reads a spout alone, with the batch grouping, gets each
// batch from one task only: the spout task that sent it. That task sends
// it to a task of the sink in its own process when there is one (BatchOwner
// over those), so a Kafka -> files pipeline on several workers moves no
// records between them. Which task got the batch is then known only to the
// spout's process: a sink task is the batch's owner (Batch.Owner: it
// writes the batch, even empty) when the batch's tuples reached it, or,
// for a batch the spout sent without tuples (BatchMeta.Records == 0, which
// SendBatch sets), when BatchOwner over every task of the sink names it.
// No two tasks can then write one batch: a batch with tuples went to one
// task, and an empty one has one owner whatever the placement.

// localBatches reports whether bolt b's batches stay on their spout's
// worker: it reads one input, from a spout, with the batch grouping, and
// "topology.batch.local" is not false.
func (r *Runtime) localBatches(b *topology.Component) bool {
	if !r.topo.Settings.BatchLocal || len(b.Inputs) != 1 || b.Inputs[0].Grouping != topology.BatchGrouping {
		return false
	}
	c := r.comps[b.Inputs[0].Component]
	return c != nil && c.Kind == topology.KindSpout
}

// batchKey is one attempt of one batch: the batch id and the root of its
// tuple tree (0 without acking).
type batchKey struct {
	id   string
	root uint64
}

// endFields are the fields of an end marker: the tuples of the batch the
// sender sent to this task, the batch, whether its attempt failed, and
// for a marker of (or to) an elastic bolt's task, how many of that bolt's
// tasks take part in the batch (0 otherwise).
var endFields = tuple.Fields{"count", "meta", "failed", "of"}

// keyOf returns the attempt a tuple of a batch belongs to.
func keyOf(t *tuple.Tuple) batchKey {
	return batchKey{id: t.BatchID, root: t.Attempt()}
}

// endsNeeded computes, for each bolt and each spout, how many end markers
// a task of the bolt must receive for a batch sent by that spout: one from
// the spout if the bolt reads it, plus one per task of each bolt it reads
// that lies downstream of the spout; but for an elastic bolt it reads,
// elastic lists the bolt instead (its markers say how many: "of").
func endsNeeded(topo *topology.Topology, compTasks map[string][]int) (static map[string]map[string]int, elastic map[string]map[string][]string) {
	consumers := map[string][]string{}
	for _, b := range topo.Bolts {
		for _, in := range b.Inputs {
			if !slices.Contains(consumers[in.Component], b.ID) {
				consumers[in.Component] = append(consumers[in.Component], b.ID)
			}
		}
	}
	out := map[string]map[string]int{}
	elastic = map[string]map[string][]string{}
	for _, s := range topo.Spouts {
		reach := map[string]bool{s.ID: true}
		queue := []string{s.ID}
		for len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			for _, b := range consumers[c] {
				if !reach[b] {
					reach[b] = true
					queue = append(queue, b)
				}
			}
		}
		for _, b := range topo.Bolts {
			seen := map[string]bool{}
			for _, in := range b.Inputs {
				c := in.Component
				if seen[c] || !reach[c] {
					continue
				}
				seen[c] = true
				n := len(compTasks[c])
				if c == s.ID {
					n = 1 // only the spout task that sent the batch
				} else if topo.Elastic(c) {
					n = 0
					if elastic[b.ID] == nil {
						elastic[b.ID] = map[string][]string{}
					}
					elastic[b.ID][s.ID] = append(elastic[b.ID][s.ID], c)
				}
				if out[b.ID] == nil {
					out[b.ID] = map[string]int{}
				}
				out[b.ID][s.ID] += n
			}
		}
	}
	return out, elastic
}

// setEndTargets sets the tasks the emitter sends end markers to, from its
// streams, and for a spout's, what each marker says of its task's
// component ("of": endsOf). e.mu is held, or the emitter is not in use yet.
func (e *emitter) setEndTargets() {
	e.endTargets = endTargetsOf(e.streams)
	if e.task.comp.Kind == topology.KindSpout {
		e.endOf = e.rt.endsOf(e.endTargets)
	}
}

// endsOf returns, for each of targets (an emitter's endTargets), the
// number of targets of its component when that is an elastic bolt, else
// 0: the "of" of a spout's markers.
func (r *Runtime) endsOf(targets []int) []int64 {
	n := map[string]int64{}
	for _, id := range targets {
		n[r.tasks[id].comp.ID]++
	}
	of := make([]int64, len(targets))
	for i, id := range targets {
		if c := r.tasks[id].comp; c.Kind == topology.KindBolt && r.topo.Elastic(c.ID) {
			of[i] = n[c.ID]
		}
	}
	return of
}

// endTargetsOf lists every task that reads any stream of the emitter, once.
func endTargetsOf(streams map[string]*outStream) []int {
	var ts []int
	for _, os := range streams {
		for _, s := range os.subs {
			ts = append(ts, s.targets...)
		}
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// countBatchLocked counts one tuple of batch attempt k sent to target.
func (e *emitter) countBatchLocked(k batchKey, target int) {
	if e.lastCounts == nil || e.lastKey != k {
		c := e.bcounts[k]
		if c == nil {
			if e.bcounts == nil {
				e.bcounts = map[batchKey][]int32{}
			}
			c = make([]int32, len(e.rt.tasks))
			e.bcounts[k] = c
		}
		e.lastKey, e.lastCounts = k, c
	}
	e.lastCounts[target]++
}

// forgetBatchLocked drops the counts of k.
func (e *emitter) forgetBatchLocked(k batchKey) {
	delete(e.bcounts, k)
	if e.lastKey == k {
		e.lastCounts = nil
	}
}

// newEndsLocked makes the end markers of a batch attempt, one per task
// downstream, anchored to the tree: to root (a spout; xor returns the new
// edges for the ack init) or to the markers the task received (a bolt).
// Anchoring happens now; counts are filled in by sendEndsLocked, after any
// emit of FinishBatch. of is what a bolt's markers say of its tasks taking
// part (an elastic bolt's: what its spout's marker said; 0 otherwise); a
// spout's say it of each elastic bolt (endOf).
func (e *emitter) newEndsLocked(k batchKey, meta *tuple.BatchMeta, root uint64, anchors []*tuple.Tuple, of int64) (ends []*tuple.Tuple, xor uint64) {
	tracked := e.rt.acking && (root != 0 || len(anchors) > 0)
	spout := e.task.comp.Kind == topology.KindSpout
	for i := range e.endTargets {
		if spout {
			of = e.endOf[i]
		}
		t := &tuple.Tuple{Fields: endFields, Stream: tuple.BatchEndStream, Component: e.task.comp.ID,
			Task: e.task.id, BatchID: k.id, Values: tuple.Values{int64(0), meta, false, of}}
		if tracked {
			edge := tuplestate.NewID()
			if root != 0 {
				stateOf(t).Anchors = []tuplestate.Anchor{{Root: root, Edge: edge}}
				xor ^= edge
			} else {
				stateOf(t).Anchors = tuplestate.Anchors(nil, anchors, stateOf, edge)
			}
		}
		ends = append(ends, t)
	}
	return ends, xor
}

// sendEndsLocked fills in each marker's count of k's tuples sent to its
// task, and whether the attempt is known to have failed, and sends them.
func (e *emitter) sendEndsLocked(k batchKey, ends []*tuple.Tuple, failed bool) {
	counts := e.bcounts[k]
	e.forgetBatchLocked(k)
	for i, target := range e.endTargets {
		if counts != nil {
			ends[i].Values[0] = int64(counts[target])
		}
		ends[i].Values[2] = failed
		e.bufferLocked(target, ends[i])
	}
}

// SendBatch emits msgs as one tuple tree, then the batch's end markers;
// see spout.BatchSender.
func (c *spoutCollector) SendBatch(msgID any, meta *tuple.BatchMeta, msgs []spout.Message) {
	s := c.s
	c.emits += len(msgs)
	root := acker.NewID()
	meta.Origin = s.t.comp.ID
	var xor uint64
	var errs []error
	em := s.em
	em.mu.Lock()
	em.countBatches = true
	for i := range msgs {
		m := &msgs[i]
		if m.BatchID != meta.ID {
			errs = append(errs, fmt.Errorf("SendBatch %s: a message of batch %q: %w", meta.ID, m.BatchID, ErrBatchMismatch))
			continue
		}
		x, _, err := em.emitLocked(&emission{stream: m.Stream, values: m.Values, direct: m.DirectTask,
			id: m.ID, batchID: m.BatchID, root: root})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		xor ^= x
	}
	em.countBatches = false
	// the tuples sent, whatever the spout said: an empty batch's owner is
	// chosen on it (Batch.Owner)
	meta.Records = len(msgs) - len(errs)
	// without acking the tuples carry no anchors, so receivers see root 0
	k := batchKey{id: meta.ID}
	if s.rt.acking {
		k.root = root
	}
	ends, x := em.newEndsLocked(k, meta, root, nil, 0)
	xor ^= x
	em.sendEndsLocked(k, ends, false)
	c.track(root, msgID, xor)
	em.mu.Unlock()
	for _, err := range errs {
		s.rt.reportError(s.t, err)
	}
}

// ErrBatchMismatch: a message given to SendBatch is not of its batch.
var ErrBatchMismatch = errors.New("message does not belong to the batch")

// batchState is a bolt task's view of one batch attempt.
type batchState struct {
	key      batchKey
	meta     *tuple.BatchMeta
	executed int64 // the batch's tuples executed here
	expected int64 // the sum of the markers' counts
	// of: what the markers of each elastic bolt said of its tasks taking
	// part (endFields)
	of   map[string]int64
	ends []*tuple.Tuple
	born time.Time
	// failed: a tuple of the attempt was failed here or upstream; the
	// attempt will be replayed, so FinishBatch is skipped
	failed bool
}

// batches is the batch bookkeeping of one bolt task.
type batches struct {
	needed map[string]int // end markers needed, by origin spout
	// elastic: the elastic bolts read, by origin spout, whose markers
	// say how many more are needed
	elastic   map[string][]string
	byKey     map[batchKey]*batchState
	last      *batchState
	lastSweep time.Time
	// failed: attempts whose tuples the bolt failed (boltCollector.Fail)
	// while its loop ran. Under the emitter's lock: a sink's writer
	// goroutine may fail tuples while the loop runs; nFailed is its
	// length, read by the loop for each tuple without the lock.
	failed  []batchKey
	nFailed atomic.Int32
}

func (e *boltExec) batchState(k batchKey) *batchState {
	bs := &e.batches
	if st := bs.last; st != nil && st.key == k {
		return st
	}
	st := bs.byKey[k]
	if st == nil {
		if bs.byKey == nil {
			bs.byKey = map[batchKey]*batchState{}
		}
		// Attempts of one batch may overlap (a replay starts while the
		// failed attempt's tuples are still in flight); each finishes on
		// its own. An attempt that can never finish (a tuple or marker
		// lost with a worker) is expired long after its tree timed out.
		now := time.Now()
		if now.Sub(bs.lastSweep) > e.rt.timeout {
			bs.lastSweep = now
			for _, s := range bs.byKey {
				if now.Sub(s.born) > 2*e.rt.timeout {
					e.expireBatch(s)
				}
			}
		}
		st = &batchState{key: k, born: now}
		bs.byKey[k] = st
	}
	bs.last = st
	return st
}

// expireBatch forgets an attempt that cannot finish; a batch-aware bolt
// gets FinishBatch with Failed set, to release what it holds.
func (e *boltExec) expireBatch(st *batchState) {
	e.untrack(st.key)
	e.em.mu.Lock()
	e.em.forgetBatchLocked(st.key)
	e.em.mu.Unlock()
	if bb, ok := e.b.(bolt.BatchBolt); ok {
		meta := st.meta
		if meta == nil {
			meta = &tuple.BatchMeta{ID: st.key.id}
		}
		b := &bolt.Batch{Meta: meta, Attempt: st.key.root, Executed: int(st.executed), End: st.ends, Failed: true}
		if err := e.safeFinish(bb, b); err != nil {
			e.rt.reportError(e.t, err)
		}
	}
	for _, m := range st.ends {
		e.coll.Fail(m)
	}
}

// untrack removes the state of k.
func (e *boltExec) untrack(k batchKey) {
	bs := &e.batches
	delete(bs.byKey, k)
	if bs.last != nil && bs.last.key == k {
		bs.last = nil
	}
}

// batchTuple counts an executed tuple of a batch.
func (e *boltExec) batchTuple(t *tuple.Tuple) {
	st := e.batchState(keyOf(t))
	st.executed++
	if e.batches.nFailed.Load() > 0 {
		e.em.mu.Lock()
		for _, k := range e.batches.failed {
			if s := e.batches.byKey[k]; s != nil {
				s.failed = true
			}
		}
		e.batches.failed = e.batches.failed[:0]
		e.batches.nFailed.Store(0)
		e.em.mu.Unlock()
	}
	e.maybeFinish(st)
}

// batchEnd takes in an end marker.
func (e *boltExec) batchEnd(t *tuple.Tuple) {
	var meta *tuple.BatchMeta
	if len(t.Values) >= 3 {
		meta, _ = t.Values[1].(*tuple.BatchMeta)
	}
	if meta == nil {
		e.rt.reportError(e.t, fmt.Errorf("batch %s: end marker from task %d without meta", t.BatchID, t.Task))
		e.coll.Fail(t)
		return
	}
	st := e.batchState(keyOf(t))
	n, _ := t.Values[0].(int64)
	st.meta = meta
	st.expected += n
	// a worker of an older version sends no "of"
	if of, _ := t.Value(3).(int64); of > 0 {
		if st.of == nil {
			st.of = map[string]int64{}
		}
		st.of[t.Component] = of
	}
	if failed, _ := t.Values[2].(bool); failed {
		st.failed = true
	}
	st.ends = append(st.ends, t)
	e.maybeFinish(st)
}

func (e *boltExec) maybeFinish(st *batchState) {
	if st.meta == nil {
		return
	}
	need := e.batches.needed[st.meta.Origin]
	for _, c := range e.batches.elastic[st.meta.Origin] {
		of, ok := st.of[c]
		if !ok {
			return // no marker of c yet: how many is not known
		}
		need += int(of)
	}
	if len(st.ends) < need || st.executed < st.expected {
		return
	}
	e.untrack(st.key)
	if len(st.ends) > need || st.executed > st.expected {
		// more than announced: a bug upstream or a duplicate; the batch's
		// content here is not what was sent, so fail it for a replay
		e.rt.reportError(e.t, fmt.Errorf("batch %s: %d tuples executed for %d announced, %d end markers for %d expected: %w",
			st.key.id, st.executed, st.expected, len(st.ends), need, ErrBatchCount))
		e.em.mu.Lock()
		e.em.forgetBatchLocked(st.key)
		e.em.mu.Unlock()
		for _, m := range st.ends {
			e.coll.Fail(m)
		}
		return
	}
	e.finishBatch(st)
}

// owns reports whether this task is the owner of the batch attempt st
// (bolt.Batch.Owner): the one the batch grouping sent it to.
func (e *boltExec) owns(st *batchState) bool {
	owner := grouping.BatchOwner(e.rt.componentTasks()[e.t.comp.ID], st.key.id) == e.t.id
	if !e.localBatches {
		return owner
	}
	// sent to a task on the spout's worker: the one that got its tuples,
	// or for an empty batch BatchOwner's
	return st.expected > 0 || st.meta != nil && st.meta.Records == 0 && owner
}

// ErrBatchCount: a task received more of a batch than was sent to it.
var ErrBatchCount = errors.New("batch count mismatch")

func (e *boltExec) finishBatch(st *batchState) {
	em := e.em
	em.mu.Lock()
	fwd, _ := em.newEndsLocked(st.key, st.meta, 0, st.ends, st.of[st.meta.Origin])
	em.mu.Unlock()
	bb, isBatchBolt := e.b.(bolt.BatchBolt)
	if isBatchBolt {
		b := &bolt.Batch{Meta: st.meta, Attempt: st.key.root, Executed: int(st.executed), End: st.ends,
			Owner:  e.owns(st),
			Failed: st.failed}
		if err := e.safeFinish(bb, b); err != nil {
			e.rt.reportError(e.t, err)
			for _, m := range st.ends {
				e.coll.Fail(m) // no-op for markers already acked or failed
			}
			st.failed = true
		}
		// tuples of the attempt the bolt failed in FinishBatch (a stateful
		// bolt that could not apply it): downstream must know too
		em.mu.Lock()
		e.batches.failed = slices.DeleteFunc(e.batches.failed, func(k batchKey) bool {
			if k == st.key {
				st.failed = true
				return true
			}
			return false
		})
		e.batches.nFailed.Store(int32(len(e.batches.failed)))
		em.mu.Unlock()
	}
	// a failed attempt is reported downstream, so that no bolt there
	// writes a partial batch
	em.mu.Lock()
	em.sendEndsLocked(st.key, fwd, st.failed)
	em.mu.Unlock()
	if !isBatchBolt {
		for _, m := range st.ends {
			if st.failed {
				e.coll.Fail(m)
			} else {
				e.coll.Ack(m)
			}
		}
	}
}

func (e *boltExec) safeFinish(bb bolt.BatchBolt, b *bolt.Batch) (err error) {
	defer func() {
		if p := recover(); p != nil {
			e.t.metrics.Panics.Add(1)
			err = fmt.Errorf("FinishBatch %s: %w: %v", b.Meta.ID, ErrPanic, p)
		}
	}()
	if err := bb.FinishBatch(e.rt.ctx, b); err != nil {
		return fmt.Errorf("FinishBatch %s: %w", b.Meta.ID, err)
	}
	return nil
}
