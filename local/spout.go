package local

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/acker"
	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/tuple"
)

type pendingTree struct {
	msgID any
	start int64 // mono() at emit when sampled, else 0
	born  int64 // mono() at emit, in a cluster worker (else 0)
}

// spoutExec runs one spout task: it calls NextTuple while the spout may
// emit (active, under max pending), delivers completions from the ackers
// as Ack/Fail, and flushes its batches.
type spoutExec struct {
	rt      *Runtime
	t       *task
	sp      spout.Spout
	em      *emitter
	coll    *spoutCollector
	events  *eventQueue
	pending map[uint64]pendingTree // owned by the spout goroutine

	npending atomic.Int64
	active   atomic.Bool // cleared by Deactivate
	stopping atomic.Bool // set when draining: no more NextTuple
	quiet    atomic.Bool // stopping observed and buffers flushed
	// idle: the loop saw the spout inactive (or stopping, or done) and
	// calls no NextTuple until that changes: a tree it counts in pending
	// now is the last before the pause (Runtime.SpoutsPaused)
	idle atomic.Bool
	done bool // the spout returned ErrStop
	// resize is the share Reshape asked for last, {tasks, index}, not yet
	// given to the spout (spout.Resizer); leaving: that index is -1 (set
	// under r.shapeMu). The loop keeps what it gave: leavingNow, and left
	// once the spout stopped (ErrStop) while leaving; the task then goes
	// as soon as no tree is pending (leave), closing quit.
	resize     atomic.Pointer[[2]int]
	leaving    atomic.Bool
	leavingNow bool
	left       bool
	quit       chan struct{}
	reshaped   int64 // mono() when Reshape started it (0: Run did)
	maxPend    int
	lastSweep  int64 // mono() at the last sweep of pending trees
	working    int64 // mono() when the loop last stopped waiting
}

// worked adds the time since the loop last stopped waiting (or last
// counted) to the task's busy time.
func (s *spoutExec) worked(now int64) {
	s.t.metrics.Busy.Add(uint64(max(0, now-s.working)))
	s.working = now
}

func (r *Runtime) newSpoutExec(t *task) (*spoutExec, error) {
	sp, err := r.reg.NewSpout(t.comp)
	if err != nil {
		return nil, err
	}
	streams, err := r.outStreams(t)
	if err != nil {
		return nil, err
	}
	s := &spoutExec{rt: r, t: t, sp: sp, events: newEventQueue(), quit: make(chan struct{}),
		pending: map[uint64]pendingTree{}, maxPend: r.topo.Settings.MaxSpoutPending}
	s.em = newEmitter(r, t, streams)
	s.em.inLoop = true // the spout's loop flushes; its collector is used from it
	s.coll = &spoutCollector{s: s}
	s.active.Store(true)
	return s, nil
}

func (s *spoutExec) open() error {
	tc := s.rt.taskContext(s.t)
	if err := s.sp.Open(s.rt.ctx, tc, s.coll); err != nil {
		return fmt.Errorf("open spout %q task %d: %w", s.t.comp.ID, s.t.id, err)
	}
	return nil
}

func (s *spoutExec) wake() {
	select {
	case s.events.notify <- struct{}{}:
	default:
	}
}

func (s *spoutExec) run() {
	defer s.rt.spoutsWG.Done()
	defer func() {
		if err := s.sp.Close(); err != nil {
			s.rt.reportError(s.t, fmt.Errorf("close: %w", err))
		}
	}()
	var evs []acker.Event
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	idle := 0
	sinceFlush := 0
	// false: a topology that starts active activates its spouts before
	// the first NextTuple, as Storm's SpoutExecutor does
	wasActive := false
	s.working = mono()
	for {
		select {
		case <-s.rt.stop:
			return
		default:
		}
		evs = s.events.drain(evs)
		for _, ev := range evs {
			s.complete(ev)
		}
		if rs := s.resize.Swap(nil); rs != nil {
			s.applyResize(rs[0], rs[1])
		}
		if s.left && len(s.pending) == 0 && s.leave() {
			return
		}
		if a := s.active.Load(); a != wasActive {
			wasActive = a
			s.activation(a)
		}
		stopping := s.stopping.Load()
		s.idle.Store(stopping || s.done || !wasActive)
		heldBack := false
		if !stopping && !s.done && wasActive && (s.maxPend == 0 || len(s.pending) < s.maxPend) {
			n := s.next()
			if p, ok := s.sp.(spout.Pacer); ok {
				waited, held := p.LastNextTuple()
				s.working += int64(waited) // not busy
				heldBack = held && n == 0
			}
			if n > 0 {
				idle = 0
				sinceFlush += n
				if sinceFlush >= s.rt.batchSize {
					s.flush()
					sinceFlush = 0
					s.worked(mono())
				}
				continue
			}
			idle++
		} else {
			idle = 1
		}
		// nothing to emit now: flush what is buffered, then wait for an
		// ack, a wake-up, or a short back-off
		s.flush()
		sinceFlush = 0
		if stopping || s.done {
			s.quiet.Store(true)
		}
		s.sweep()
		wait := time.Duration(min(idle, 10)) * 100 * time.Microsecond
		pendingFull := s.maxPend > 0 && len(s.pending) >= s.maxPend
		throttled := heldBack || pendingFull
		if stopping || s.done || !wasActive || pendingFull {
			wait = 100 * time.Millisecond // only an event can change things
		}
		began := mono()
		s.worked(began)
		timer.Reset(wait)
		select {
		case <-s.events.notify:
		case <-timer.C:
		case <-s.rt.stop:
			return
		}
		s.working = mono()
		if throttled && wasActive && !stopping && !s.done {
			s.t.metrics.Throttled.Add(uint64(s.working - began))
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// sweep fails the trees pending far beyond the message timeout. In one
// process the ackers report every timeout; in a cluster an acker may die
// with its worker, and its trees would otherwise stay pending for ever
// (and hold max spout pending full). Like Storm's spout-side timeouts.
func (s *spoutExec) sweep() {
	if s.rt.place == nil || len(s.pending) == 0 {
		return
	}
	now := mono()
	if now-s.lastSweep < int64(time.Second) {
		return
	}
	s.lastSweep = now
	limit := int64(s.rt.timeout) * 3 / 2 // the acker reports by 4/3 of it
	for root, p := range s.pending {
		if p.born != 0 && now-p.born > limit {
			s.complete(acker.Event{Root: root, SpoutTask: s.t.id, Failed: true, TimedOut: true})
		}
	}
}

func (s *spoutExec) flush() {
	s.em.mu.Lock()
	s.em.flushAllLocked()
	s.em.mu.Unlock()
}

// next calls NextTuple once and returns the number of emits it made.
func (s *spoutExec) next() (n int) {
	before := s.coll.emits
	defer func() {
		if p := recover(); p != nil {
			s.t.metrics.Panics.Add(1)
			s.rt.reportError(s.t, fmt.Errorf("NextTuple: %w: %v\n%s", ErrPanic, p, debug.Stack()))
		}
		n = s.coll.emits - before
	}()
	if err := s.sp.NextTuple(s.rt.ctx); err != nil {
		if errors.Is(err, spout.ErrStop) {
			s.finish()
			return
		}
		s.rt.reportError(s.t, fmt.Errorf("NextTuple: %w", err))
	}
	return
}

// finish records that this spout task stopped by itself.
func (s *spoutExec) finish() {
	if s.done {
		return
	}
	s.done = true
	if s.leavingNow {
		s.left = true // it leaves (leave), it did not finish
		return
	}
	// in a cluster worker (a placement) the run goes on when the local
	// spouts are done: other workers' trees still need this worker's
	// bolts and ackers; the cluster stops it
	if int(s.rt.nDone.Add(1)) == len(s.rt.spoutExecs()) && s.rt.place == nil {
		s.rt.finishOnce.Do(func() { close(s.rt.finished) })
	}
}

// shared reports whether the trees of this task's id may also have been
// emitted by another instance of it, on another worker: it leaves (the
// task may have moved there), or Reshape started it less than twice the
// message timeout ago (it may have moved here). Their completions then go
// both here and to the Remote (which sends them where the other
// instance runs, if any; each instance ignores the trees it does not
// know).
func (s *spoutExec) shared(r *Runtime) bool {
	return s.leaving.Load() || s.reshaped != 0 && mono()-s.reshaped < 2*int64(r.timeout)
}

// applyResize gives the spout its new share (spout.Resizer): tasks
// tasks, this one the index-th, or leaving with index -1.
func (s *spoutExec) applyResize(tasks, index int) {
	rz, ok := s.sp.(spout.Resizer)
	if !ok {
		s.rt.reportError(s.t, fmt.Errorf("resize to %d tasks: %T: %w", tasks, s.sp, ErrNotElastic))
		return
	}
	s.leavingNow = index < 0
	if !s.leavingNow && s.left {
		s.left, s.done = false, false // asked to stay before it went
	}
	defer s.recoverTo("Resize")
	rz.Resize(tasks, index)
}

// leave stops this task, which left its component (its spout stopped
// while leaving, no tree pending), unless Reshape asked it to stay
// meanwhile; it reports whether it did.
func (s *spoutExec) leave() bool {
	r := s.rt
	r.shapeMu.Lock()
	defer r.shapeMu.Unlock()
	if s.resize.Load() != nil {
		return false // a newer share: given at the next turn
	}
	s.flush()
	r.layoutMu.Lock()
	r.spouts = slices.DeleteFunc(slices.Clone(r.spouts), func(x *spoutExec) bool { return x == s })
	left := len(r.spouts)
	r.layoutMu.Unlock()
	s.t.here.Store(false)
	s.t.sp.CompareAndSwap(s, nil)
	close(s.quit)
	if r.place == nil && left > 0 && int(r.nDone.Load()) == left {
		r.finishOnce.Do(func() { close(r.finished) })
	}
	r.log.Info("spout task left", "component", s.t.comp.ID, "task", s.t.id)
	return true
}

func (s *spoutExec) activation(active bool) {
	a, ok := s.sp.(spout.Activator)
	if !ok {
		return
	}
	defer s.recoverTo("Activate/Deactivate")
	if active {
		a.Activate()
	} else {
		a.Deactivate()
	}
}

func (s *spoutExec) recoverTo(what string) {
	if p := recover(); p != nil {
		s.t.metrics.Panics.Add(1)
		s.rt.reportError(s.t, fmt.Errorf("%s: %w: %v", what, ErrPanic, p))
	}
}

// complete delivers one tree completion to the spout. Root 0 fails every
// pending tree (Runtime.FailPending).
func (s *spoutExec) complete(ev acker.Event) {
	if ev.Root == 0 {
		for root := range s.pending {
			s.complete(acker.Event{Root: root, SpoutTask: ev.SpoutTask, Failed: true, TimedOut: true})
		}
		return
	}
	p, ok := s.pending[ev.Root]
	if !ok {
		return // a late duplicate; already reported
	}
	delete(s.pending, ev.Root)
	s.npending.Add(-1)
	m := s.t.metrics
	if ev.Failed {
		m.Failed.Add(1)
		if ev.TimedOut {
			m.TimedOut.Add(1)
		}
		defer s.recoverTo("Fail")
		s.sp.Fail(p.msgID)
		return
	}
	m.Acked.Add(1)
	if p.start != 0 {
		m.complete.Record(time.Duration(mono() - p.start))
	}
	defer s.recoverTo("Ack")
	s.sp.Ack(p.msgID)
}

// spoutCollector is the spout.Collector of one spout task.
type spoutCollector struct {
	s     *spoutExec
	emits int
	seq   uint64
}

var (
	_ spout.Collector  = (*spoutCollector)(nil)
	_ spout.TreeSender = (*spoutCollector)(nil)
)

// SendTree emits msgs as one tuple tree; see spout.TreeSender.
func (c *spoutCollector) SendTree(msgID any, msgs []spout.Message) {
	s := c.s
	c.emits += len(msgs)
	root := acker.NewID()
	var xor uint64
	var errs []error
	s.em.mu.Lock()
	for i := range msgs {
		m := &msgs[i]
		x, _, err := s.em.emitLocked(&emission{stream: m.Stream, values: m.Values, direct: m.DirectTask,
			id: m.ID, batchID: m.BatchID, root: root})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		xor ^= x
	}
	c.track(root, msgID, xor)
	s.em.mu.Unlock()
	for _, err := range errs {
		s.rt.reportError(s.t, err)
	}
}

// track registers a new tree and tells its acker (the caller holds em.mu).
func (c *spoutCollector) track(root uint64, msgID any, xor uint64) {
	s := c.s
	var start int64
	if c.seq&sampleMask == 0 {
		start = mono()
	}
	c.seq++
	pt := pendingTree{msgID: msgID, start: start}
	if s.rt.place != nil {
		pt.born = mono()
	}
	s.pending[root] = pt
	s.npending.Add(1)
	if s.rt.acking {
		s.em.bufferAck(codec.Ack{Kind: codec.AckInit, Task: s.t.id, Root: root, Val: xor})
	} else {
		// no ackers: the tree counts as acked once emitted
		s.events.push(acker.Event{Root: root, SpoutTask: s.t.id})
	}
}

func (c *spoutCollector) Emit(values tuple.Values, msgID any) {
	c.send(&emission{values: values}, msgID)
}

func (c *spoutCollector) EmitTo(stream string, values tuple.Values, msgID any) {
	c.send(&emission{stream: stream, values: values}, msgID)
}

func (c *spoutCollector) EmitDirect(task int, stream string, values tuple.Values, msgID any) {
	c.send(&emission{stream: stream, values: values, direct: task}, msgID)
}

func (c *spoutCollector) Send(m spout.Message) []int {
	return c.send(&emission{stream: m.Stream, values: m.Values, direct: m.DirectTask,
		id: m.ID, batchID: m.BatchID, needIDs: m.NeedTaskIDs}, m.MsgID)
}

func (c *spoutCollector) ReportError(err error) { c.s.rt.reportError(c.s.t, err) }

func (c *spoutCollector) send(m *emission, msgID any) []int {
	s := c.s
	c.emits++
	reliable := msgID != nil
	if reliable {
		m.root = acker.NewID()
	}
	s.em.mu.Lock()
	xor, tasks, err := s.em.emitLocked(m)
	if err == nil && reliable {
		c.track(m.root, msgID, xor)
	}
	s.em.mu.Unlock()
	if err != nil {
		s.rt.reportError(s.t, err)
	}
	return tasks
}
