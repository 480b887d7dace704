package local

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
)

// Reshaping: a change of parallelism that keeps the other tasks running
//
// An elastic component (topology.Elastic: a bolt that reads spouts
// only, or a spout whose tasks share their work anew, spout.Resizer, each
// with an autoscale policy that holds its task ids) can change its
// parallelism while the runtime runs.
//
// For a bolt, Reshape starts the component's new tasks that run here, then
// points every local producer at the new set of tasks (under each
// emitter's lock: a spout sends a batch and its end markers at once, so
// each batch goes wholly to the old set or wholly to the new), then
// retires the tasks that left: a leaving task gets no new tuples from
// here, executes what is in its queue, and stops once its queue has
// stayed empty for RetireQuiet (other workers may still send to it until
// they learn the change). Tuples that reach a retired task after that (a
// worker that learned the change later than RetireQuiet) are refused
// (ErrNotLocal): their trees time out and replay, as after any lost
// message.
//
// For a spout, Reshape opens and runs the new tasks that run here, then
// tells every local task of the component its new share (Resize, from the
// task's own loop, before its next NextTuple): the spout hands over what
// it no longer owns once its trees complete, and takes up what it now
// owns once the previous owner let it go (the Kafka spout: its ledger). A
// leaving task gets index -1; it stops once its spout returns ErrStop
// with no tree pending (spoutExec.leave). What a bolt receives never
// depends on how many spout tasks there are, so nothing else changes.
//
// Nothing else stops: no other spout pauses, no tree fails.

// DefaultRetireQuiet is how long a leaving task's queue must stay empty
// before it stops (Options.RetireQuiet).
const DefaultRetireQuiet = 2 * time.Second

// ErrNotRunning: Reshape before Run started the tasks, or after it stopped.
var ErrNotRunning = errors.New("the runtime is not running")

// ErrNotElastic: Reshape of a component whose tasks cannot change alone.
var ErrNotElastic = errors.New("not an elastic component")

// Reshape makes tasks[c] the running tasks of each elastic component c,
// anywhere (ids the topology holds for c: topology.TaskSlots), and runs
// here those of them in local (nil: all of them; a runtime without a
// Placement). Components not in tasks keep theirs. Reshape returns once
// the new tasks run and every local producer sends to them; the leaving
// tasks stop later, in the background. An error leaves the tasks as they
// were; ErrNotRunning (a change asked before Run started the tasks, or
// after it stopped them) may be asked again later.
func (r *Runtime) Reshape(tasks map[string][]int, local map[int]bool) error {
	r.shapeMu.Lock()
	defer r.shapeMu.Unlock()
	slots, _ := topology.TaskSlots(r.topo)
	cur := r.componentTasks()
	next := maps.Clone(cur)
	changed := map[string]bool{}
	for comp, ids := range tasks {
		if !r.topo.Elastic(comp) {
			return fmt.Errorf("reshape %q: %w", comp, ErrNotElastic)
		}
		ids = slices.Sorted(slices.Values(ids))
		if len(ids) == 0 || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			return fmt.Errorf("reshape %q: tasks %v: want at least one, each once", comp, ids)
		}
		for _, id := range ids {
			if !slices.Contains(slots[comp], id) {
				return fmt.Errorf("reshape %q: task %d is not one of its ids %v", comp, id, slots[comp])
			}
		}
		if !slices.Equal(cur[comp], ids) {
			changed[comp] = true
			next[comp] = ids
		}
	}
	// who runs here now
	stay := map[int]bool{}
	for comp, ids := range tasks {
		for _, id := range ids {
			if local == nil || local[id] {
				stay[id] = true
			}
		}
		for _, id := range slots[comp] {
			if r.runningHere(r.tasks[id]) != stay[id] {
				changed[comp] = true
			}
		}
	}
	if len(changed) == 0 {
		return nil
	}
	select {
	case <-r.stop:
		return ErrNotRunning
	default:
	}
	if r.started.Load() == 0 || r.draining {
		return ErrNotRunning
	}
	for comp := range changed {
		if r.comps[comp].Kind != topology.KindSpout {
			continue
		}
		for _, s := range r.spoutExecs() {
			if _, ok := s.sp.(spout.Resizer); s.t.comp.ID == comp && !ok {
				return fmt.Errorf("reshape %q: %T cannot share its work anew: %w", comp, s.sp, ErrNotElastic)
			}
		}
	}
	r.layoutMu.Lock()
	r.compTasks = next
	r.layoutMu.Unlock()
	// the new tasks first, so that nothing is sent to a task not running
	var errs []error
	var started []*spoutExec
	for comp := range changed {
		for _, id := range slots[comp] {
			t := r.tasks[id]
			if !stay[id] {
				continue
			}
			if t.comp.Kind == topology.KindSpout {
				if t.sp.Load() == nil {
					s, err := r.startSpout(t, len(next[comp]), slices.Index(next[comp], id))
					if err != nil {
						errs = append(errs, err)
						continue
					}
					started = append(started, s)
				}
				continue
			}
			if c := r.retiring[id]; c != nil {
				close(c) // staying after all
				delete(r.retiring, id)
				t.away.Store(false)
				continue
			}
			if t.here.Load() {
				continue
			}
			if err := r.startTask(t); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		r.layoutMu.Lock()
		r.compTasks = cur
		r.layoutMu.Unlock()
		for _, s := range started {
			s.leaving.Store(true) // leaves at once: it holds nothing yet
			s.resize.Store(&[2]int{len(cur[s.t.comp.ID]), -1})
		}
		r.runSpouts(started)
		return errors.Join(errs...)
	}
	r.runSpouts(started)
	// the spout tasks that stay share the work anew; those that go hand
	// theirs over, then leave (spoutExec.leave)
	for comp := range changed {
		if r.comps[comp].Kind != topology.KindSpout {
			continue
		}
		for _, id := range slots[comp] {
			t := r.tasks[id]
			s := t.sp.Load()
			if s == nil || slices.Contains(started, s) {
				continue
			}
			idx := slices.Index(next[comp], id)
			if !stay[id] {
				idx = -1
			}
			s.leaving.Store(idx < 0)
			s.resize.Store(&[2]int{len(next[comp]), idx})
			s.wake()
		}
	}
	// a leaving task that runs elsewhere now: what is sent to it from
	// here goes there
	for comp := range changed {
		for _, id := range slots[comp] {
			if t := r.tasks[id]; t.comp.Kind == topology.KindBolt && t.here.Load() && !stay[id] && slices.Contains(tasks[comp], id) {
				t.away.Store(true)
			}
		}
	}
	// every local producer now sends to the new tasks
	for _, t := range r.tasks[1:] {
		if !t.here.Load() {
			continue
		}
		var em *emitter
		switch {
		case t.sp.Load() != nil:
			em = t.sp.Load().em
		case t.bo.Load() != nil:
			em = t.bo.Load().em
		}
		if em == nil || !feeds(r.topo, t.comp.ID, changed) {
			continue
		}
		streams, err := r.outStreams(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		em.mu.Lock()
		em.flushAllLocked() // what is buffered goes where it was routed
		em.streams, em.def = streams, streams["default"]
		em.setEndTargets()
		em.mu.Unlock()
	}
	// the leaving bolt tasks stop once their queues stay empty
	for comp := range changed {
		for _, id := range slots[comp] {
			if t := r.tasks[id]; t.comp.Kind == topology.KindBolt && t.here.Load() && !stay[id] && r.retiring[id] == nil {
				r.retire(t)
			}
		}
	}
	r.log.Info("reshaped", "tasks", tasks)
	return errors.Join(errs...)
}

// feeds reports whether component c is read by one of the components in
// set.
func feeds(topo *topology.Topology, c string, set map[string]bool) bool {
	for _, b := range topo.Bolts {
		if !set[b.ID] {
			continue
		}
		for _, in := range b.Inputs {
			if in.Component == c {
				return true
			}
		}
	}
	return false
}

// runningHere reports whether task t runs here and stays: not a bolt task
// retiring, nor a spout task leaving.
func (r *Runtime) runningHere(t *task) bool {
	if !t.here.Load() || r.retiring[t.id] != nil {
		return false
	}
	s := t.sp.Load()
	return s == nil || !s.leaving.Load()
}

// startSpout opens spout task t here, the index-th of tasks, while the
// runtime runs; runSpouts then runs it. r.shapeMu is held.
func (r *Runtime) startSpout(t *task, tasks, index int) (*spoutExec, error) {
	s, err := r.newSpoutExec(t)
	if err != nil {
		return nil, err
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	s.active.Store(!r.spoutsOff.Load())
	s.resize.Store(&[2]int{tasks, index}) // before its first NextTuple
	s.reshaped = mono()
	return s, nil
}

// runSpouts runs spout tasks opened by startSpout. r.shapeMu is held.
func (r *Runtime) runSpouts(started []*spoutExec) {
	if len(started) == 0 {
		return
	}
	r.layoutMu.Lock()
	r.spouts = append(slices.Clone(r.spouts), started...)
	r.layoutMu.Unlock()
	for _, s := range started {
		// again, now that it is listed: a Deactivate meanwhile either saw
		// it in the list or stored its wish before this reads it
		s.active.Store(!r.spoutsOff.Load())
		s.t.sp.Store(s)
		s.t.here.Store(true)
		r.spoutsWG.Add(1)
		go s.run()
		r.startFlusher(s.em, s.quit)
	}
}

// startTask starts bolt task t here while the runtime runs. r.shapeMu is
// held.
func (r *Runtime) startTask(t *task) error {
	bo, err := r.newBoltExec(t)
	if err != nil {
		return err
	}
	if err := bo.prepare(); err != nil {
		return err
	}
	t.bo.Store(bo)
	t.away.Store(false)
	r.boltsWG.Add(1)
	go bo.run()
	r.startFlusher(bo.em, bo.quit)
	t.here.Store(true)
	return nil
}

// retire stops task t once its queue stayed empty for RetireQuiet, unless
// a Reshape keeps it meanwhile (closing its r.retiring channel). r.shapeMu
// is held.
func (r *Runtime) retire(t *task) {
	kept := make(chan struct{})
	if r.retiring == nil {
		r.retiring = map[int]chan struct{}{}
	}
	r.retiring[t.id] = kept
	bo := t.bo.Load()
	go func() {
		tick := time.NewTicker(r.retireQuiet / 10)
		defer tick.Stop()
		quietSince := time.Now()
		for {
			select {
			case <-r.stop:
				return
			case <-kept:
				return
			case now := <-tick.C:
				if len(t.inbox) > 0 {
					quietSince = now
				}
				if now.Sub(quietSince) < r.retireQuiet {
					continue
				}
			}
			r.shapeMu.Lock()
			select {
			case <-kept:
			default:
				delete(r.retiring, t.id)
				t.here.Store(false)
				t.away.Store(false)
				close(bo.quit)
				r.log.Info("task retired", "component", t.comp.ID, "task", t.id)
			}
			r.shapeMu.Unlock()
			return
		}
	}()
}

// Local returns how many tasks run here.
func (r *Runtime) Local() int {
	n := 0
	for _, t := range r.tasks[1:] {
		if t.here.Load() {
			n++
		}
	}
	return n
}
