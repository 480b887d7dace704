package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/acker"
	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/internal/grouping"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Options configure a Runtime.
type Options struct {
	// Logger receives the engine's logs; nil means slog.Default().
	Logger *slog.Logger
	// DrainTimeout bounds how long Run waits, once asked to stop, for the
	// trees in flight to complete (default 30 s). Trees still pending then
	// are replayed by their source on the next run.
	DrainTimeout time.Duration
	// Placement, when set, runs only part of the topology here (a cluster
	// worker): Run then keeps going until its context ends, even with no
	// local spout.
	Placement *Placement
	// RetireQuiet is how long the queue of a task that Reshape stopped
	// must stay empty before the task stops (default DefaultRetireQuiet).
	RetireQuiet time.Duration
}

// Factory builds the components of a topology: the catalog a topology was
// validated against (topology.Topology.Catalog) must be one, as a
// *registry.Registry is.
type Factory interface {
	NewSpout(c *topology.Component) (spout.Spout, error)
	NewBolt(c *topology.Component) (bolt.Bolt, error)
}

var _ Factory = (*registry.Registry)(nil)

// task is one running instance of a component.
type task struct {
	id      int
	index   int
	comp    *topology.Component
	metrics *taskMetrics
	inbox   chan []*tuple.Tuple       // bolts only
	sp      atomic.Pointer[spoutExec] // replaced when Reshape starts the task again; nil once it left
	bo      atomic.Pointer[boltExec]  // replaced when Reshape starts the task again
	// here: the task runs in this process (its inbox is read), else in
	// another worker (Remote) or, for an id held for an elastic
	// component's parallelism, nowhere (reshape.go)
	here atomic.Bool
	// away: the task moved to another worker and retires here: what this
	// process sends to it goes there (reshape.go)
	away atomic.Bool
}

// status asks the task's spout or bolt for its own status.
func (t *task) status() *TaskStatus {
	var r StatusReporter
	if sp := t.sp.Load(); sp != nil {
		r, _ = sp.sp.(StatusReporter)
	} else if bo := t.bo.Load(); bo != nil {
		r, _ = bo.b.(StatusReporter)
	}
	if r == nil {
		return nil
	}
	st := r.TaskStatus()
	if st.Partitions == nil && st.Sink == nil {
		return nil
	}
	return &st
}

// Runtime runs one topology in this process. Create it with New, run it
// with Run; Stats, Activate and Deactivate may be called from any goroutine
// while it runs.
type Runtime struct {
	topo      *topology.Topology
	reg       Factory
	log       *slog.Logger
	drainFor  time.Duration
	acking    bool
	debug     bool
	batchSize int
	timeout   time.Duration

	tasks []*task // by task id (topology.TaskSlots); tasks[0] is nil
	// compTasks are the running tasks of each component; Reshape replaces
	// the map (never its slices) under layoutMu
	compTasks map[string][]int
	layoutMu  sync.RWMutex
	// shapeMu orders Reshape after Run started the tasks (reshape.go);
	// retiring are the leaving tasks' "kept" channels, by id, under it
	shapeMu     sync.Mutex
	retiring    map[int]chan struct{}
	retireQuiet time.Duration
	comps       map[string]*topology.Component
	place       *Placement
	remote      Remote
	// end markers a bolt task needs per batch, by bolt and origin spout
	endsNeeded  map[string]map[string]int
	endsElastic map[string]map[string][]string // elastic bolts whose markers say how many (endsNeeded)
	// spouts are the spout tasks running here; Reshape replaces the
	// slice (never changes it) under layoutMu: spoutExecs
	spouts []*spoutExec
	bolts  []*boltExec
	ackers []*ackerExec

	inflight   atomic.Int64 // tuples queued or being executed by bolts
	ctx        context.Context
	cancel     context.CancelFunc
	stop       chan struct{} // closed when every executor must stop
	spoutsWG   sync.WaitGroup
	boltsWG    sync.WaitGroup
	ackersWG   sync.WaitGroup
	flushWG    sync.WaitGroup // timer flushers (flush.go)
	started    atomic.Int64   // UnixNano when Run started
	startedAt  time.Time      // the same, with its monotonic reading (set before started)
	finished   chan struct{}  // closed when every spout task has stopped by itself
	nDone      atomic.Int32
	finishOnce sync.Once
	spoutsOff  atomic.Bool // Deactivate: a spout task Reshape starts starts paused
	draining   bool        // under shapeMu: Run drains; Reshape starts nothing
	runOnce    atomic.Bool
}

// New builds the runtime of a validated topology: it numbers the tasks,
// wires their streams and instantiates every component (one instance per
// task). Nothing runs until Run.
func New(topo *topology.Topology, opts Options) (*Runtime, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	set := topo.Settings
	if topo.Catalog() == nil {
		return nil, fmt.Errorf("run topology %q: %w", topo.Name, ErrNotValidated)
	}
	reg, ok := topo.Catalog().(Factory)
	if !ok {
		return nil, fmt.Errorf("run topology %q: its catalog %T cannot build components: %w", topo.Name, topo.Catalog(), ErrNoFactory)
	}
	r := &Runtime{
		topo:        topo,
		reg:         reg,
		log:         opts.Logger.With("topology", topo.Name),
		drainFor:    opts.DrainTimeout,
		retireQuiet: cmp.Or(opts.RetireQuiet, DefaultRetireQuiet),
		acking:      set.Ackers > 0,
		debug:       set.Debug,
		batchSize:   max(1, set.BatchSize),
		timeout:     set.MessageTimeout,
		compTasks:   map[string][]int{},
		comps:       map[string]*topology.Component{},
		place:       opts.Placement,
		stop:        make(chan struct{}),
		finished:    make(chan struct{}),
	}
	if r.timeout <= 0 {
		r.timeout = 30 * time.Second
	}
	if r.place != nil {
		r.remote = r.place.Remote
		if r.remote == nil {
			return nil, errors.New("local: a placement needs a Remote")
		}
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())

	// Storm's numbering, with the ids of elastic components' tasks held
	// up to their most (topology.TaskSlots)
	slots, last := topology.TaskSlots(topo)
	r.tasks = make([]*task, last+1)
	for _, c := range allComponents(topo) {
		r.comps[c.ID] = c
		for i, id := range slots[c.ID] {
			r.tasks[id] = &task{id: id, index: i, comp: c, metrics: &taskMetrics{}}
			if i < max(1, c.Parallelism) {
				r.compTasks[c.ID] = append(r.compTasks[c.ID], id)
			}
		}
	}
	for i := range set.Ackers {
		r.ackers = append(r.ackers, &ackerExec{rt: r, idx: i, local: r.ackerLocal(i), remote: newAckQueue(),
			inbox: make(chan []codec.Ack, max(4, set.QueueSize/r.batchSize)),
			tr:    acker.NewTracker(r.timeout)})
	}
	r.endsNeeded, r.endsElastic = endsNeeded(topo, r.compTasks)
	queueBatches := max(2, set.QueueSize/r.batchSize)
	// which tasks run here, known before any is built: a producer's
	// subscriptions read it (newSub: a sink task here keeps the batches of
	// a spout task here), and a consumer may be numbered after it
	for _, t := range r.tasks[1:] {
		if r.taskLocal(t.id) && t.index < max(1, t.comp.Parallelism) {
			t.here.Store(true)
		}
	}
	for _, t := range r.tasks[1:] {
		if t.comp.Kind == topology.KindBolt {
			// every bolt task's, so that one that starts here later
			// (Reshape) has its queue before anyone sends to it
			t.inbox = make(chan []*tuple.Tuple, queueBatches)
		}
		if !t.here.Load() {
			continue // another worker runs it, or nobody yet
		}
		var err error
		switch t.comp.Kind {
		case topology.KindSpout:
			var sp *spoutExec
			sp, err = r.newSpoutExec(t)
			t.sp.Store(sp)
			r.spouts = append(r.spouts, sp)
		case topology.KindBolt:
			var bo *boltExec
			bo, err = r.newBoltExec(t)
			t.bo.Store(bo)
			r.bolts = append(r.bolts, bo)
		}
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

func allComponents(topo *topology.Topology) []*topology.Component {
	return append(slices.Clone(topo.Spouts), topo.Bolts...)
}

// outStreams builds, for one producer task, its output streams with a
// grouper per subscriber (groupers are per task, so they need no locks).
func (r *Runtime) outStreams(t *task) (map[string]*outStream, error) {
	out := map[string]*outStream{}
	for id, fields := range t.comp.Streams {
		out[id] = &outStream{id: id, fields: fields}
	}
	for _, b := range r.topo.Bolts {
		for _, in := range b.Inputs {
			if in.Component != t.comp.ID {
				continue
			}
			os := out[in.Stream]
			if os == nil {
				return nil, fmt.Errorf("component %q reads undeclared stream %q of %q: %w", b.ID, in.Stream, t.comp.ID, ErrNotValidated)
			}
			sub, err := r.newSub(b, in, os, r.componentTasks()[b.ID])
			if err != nil {
				return nil, err
			}
			os.subs = append(os.subs, sub)
		}
	}
	return out, nil
}

// newSub makes the subscription of bolt b's input in to stream os, sent
// to targets.
func (r *Runtime) newSub(b *topology.Component, in topology.Input, os *outStream, targets []int) (outSub, error) {
	var idx []int
	for _, f := range in.Fields {
		idx = append(idx, os.fields.Index(f))
	}
	sub := outSub{consumer: b.ID, targets: targets, direct: in.Grouping == topology.Direct}
	if sub.direct {
		return sub, nil
	}
	var local []int // local_or_shuffle prefers these
	for _, id := range targets {
		if t := r.tasks[id]; t.here.Load() && !t.away.Load() {
			local = append(local, id)
		}
	}
	if in.Grouping == topology.BatchGrouping && !r.localBatches(b) {
		// (b reads the producer alone: localBatches holds only when that
		// is a spout)
		local = nil // batches go to BatchOwner over every task (batch.go)
	}
	g, err := grouping.New(in.Grouping, targets, idx, local)
	if err != nil {
		return sub, fmt.Errorf("component %q input %q/%q: %w", b.ID, in.Component, in.Stream, err)
	}
	sub.grouper = g
	sub.byBatch, _ = g.(grouping.BatchChooser)
	return sub, nil
}

// componentTasks returns the running tasks of each component; the map is
// not changed afterwards (Reshape makes a new one).
func (r *Runtime) componentTasks() map[string][]int {
	r.layoutMu.RLock()
	defer r.layoutMu.RUnlock()
	return r.compTasks
}

// spoutExecs returns the spout tasks running here; the slice is not
// changed afterwards (Reshape makes a new one).
func (r *Runtime) spoutExecs() []*spoutExec {
	r.layoutMu.RLock()
	defer r.layoutMu.RUnlock()
	return r.spouts
}

func (r *Runtime) taskContext(t *task) *topology.TaskContext {
	return &topology.TaskContext{
		Topology:       r.topo,
		Component:      t.comp,
		TaskID:         t.id,
		TaskIndex:      t.index,
		ComponentTasks: r.componentTasks(),
		Logger:         r.log.With("component", t.comp.ID, "task", t.id),
		Metric:         t.metrics.AddCustom,
	}
}

// deliver hands a batch to a bolt task's queue, blocking while it is full;
// a task of another worker gets it through the Remote.
func (r *Runtime) deliver(target int, b []*tuple.Tuple) {
	t := r.tasks[target]
	if !t.here.Load() || t.away.Load() {
		if r.remote != nil {
			r.sendRemote(target, b)
		}
		return
	}
	r.enqueue(t, b)
}

// enqueue puts b in local task t's queue, blocking while it is full.
func (r *Runtime) enqueue(t *task, b []*tuple.Tuple) {
	r.inflight.Add(int64(len(b)))
	select {
	case t.inbox <- b:
	case <-r.stop:
		r.inflight.Add(-int64(len(b)))
	}
}

// sendRemote sends batch b to task target of another worker, in parts
// when it encodes to more than a message may hold (codec.MaxMessage).
func (r *Runtime) sendRemote(target int, b []*tuple.Tuple) {
	msg, err := codec.AppendTuplesMessage(nil, target, b)
	if err == nil && len(msg) > codec.MaxMessage && len(b) > 1 {
		r.sendRemote(target, b[:len(b)/2])
		r.sendRemote(target, b[len(b)/2:])
		return
	}
	if err == nil && len(msg) > codec.MaxMessage {
		err = fmt.Errorf("one tuple of %d bytes encoded: more than a message between workers holds (%d)", len(msg), codec.MaxMessage)
	}
	if err != nil {
		// a value the codec cannot carry: its tree times out and
		// replays, and the same error comes again (see codec)
		r.log.Error("cannot encode tuples for another worker", "task", target, "err", err)
		return
	}
	r.remote.SendTask(target, msg)
}

// Run prepares every bolt and opens every spout, then runs the topology
// until ctx is cancelled or every spout task stopped by itself
// (spout.ErrStop). It then stops the spouts, waits up to the drain timeout
// for the trees in flight to complete and the queues to empty, and stops
// everything. Run may be called once.
func (r *Runtime) Run(ctx context.Context) error {
	if !r.runOnce.CompareAndSwap(false, true) {
		return errors.New("local: Run called twice")
	}
	defer r.cancel()
	r.shapeMu.Lock() // Reshape waits for the tasks to start
	if err := r.open(); err != nil {
		r.shapeMu.Unlock()
		return err
	}
	r.startedAt = time.Now() // its monotonic reading gives the uptime
	r.started.Store(r.startedAt.UnixNano())
	for _, a := range r.ackers {
		if !a.local {
			continue
		}
		r.ackersWG.Add(1)
		go a.run()
	}
	for _, b := range r.bolts {
		r.boltsWG.Add(1)
		go b.run()
	}
	for _, s := range r.spoutExecs() {
		r.spoutsWG.Add(1)
		go s.run()
	}
	r.startFlushers()
	r.shapeMu.Unlock()
	if len(r.spoutExecs()) == 0 && r.place == nil {
		r.finishOnce.Do(func() { close(r.finished) })
	}
	select {
	case <-ctx.Done():
		r.log.Info("stopping: draining in-flight tuples", "timeout", r.drainFor)
	case <-r.finished:
		r.log.Debug("every spout finished; draining")
	}
	err := r.drain()
	r.shutdown()
	return err
}

// open prepares bolts then opens spouts; on error it closes what it opened.
func (r *Runtime) open() error {
	var prepared []*boltExec
	var opened []*spoutExec
	fail := func(err error) error {
		for _, s := range opened {
			_ = s.sp.Close()
		}
		for _, b := range prepared {
			_ = b.b.Cleanup()
		}
		return err
	}
	for _, b := range r.bolts {
		if err := b.prepare(); err != nil {
			return fail(err)
		}
		prepared = append(prepared, b)
	}
	for _, s := range r.spoutExecs() {
		if err := s.open(); err != nil {
			return fail(err)
		}
		opened = append(opened, s)
	}
	return nil
}

// quiet reports whether nothing is in flight: spouts stopped and flushed
// with no pending trees, and no tuple queued or executing in a bolt.
func (r *Runtime) quiet() bool {
	for _, s := range r.spoutExecs() {
		if !s.quiet.Load() || s.npending.Load() > 0 {
			return false
		}
	}
	return r.inflight.Load() == 0
}

// InFlight reports the trees this runtime's spouts have pending and the
// tuples queued or executing in its bolts. With every spout of a topology
// paused (Deactivate) and both zero on every worker, nothing is in
// flight anywhere: its tasks can move without a replay.
func (r *Runtime) InFlight() (pendingTrees, queuedTuples int64) {
	for _, s := range r.spoutExecs() {
		pendingTrees += s.npending.Load()
	}
	return pendingTrees, r.inflight.Load()
}

// SpoutsPaused reports whether every spout's loop has seen its pause
// (Deactivate), so that no NextTuple runs: InFlight then only falls. A
// Deactivate sets the wish at once; a spout in the middle of a NextTuple
// may still emit a tree before its loop sees it.
func (r *Runtime) SpoutsPaused() bool {
	for _, s := range r.spoutExecs() {
		if !s.idle.Load() {
			return false
		}
	}
	return true
}

func (r *Runtime) drain() error {
	r.shapeMu.Lock() // no Reshape starts a spout task from now on
	r.draining = true
	for _, s := range r.spoutExecs() {
		s.stopping.Store(true)
		s.wake()
	}
	r.shapeMu.Unlock()
	deadline := time.Now().Add(r.drainFor)
	for !r.quiet() {
		if time.Now().After(deadline) {
			var pending int64
			for _, s := range r.spoutExecs() {
				pending += s.npending.Load()
			}
			r.log.Warn("drain timed out; pending trees will be replayed", "pending", pending, "queued", r.inflight.Load())
			return fmt.Errorf("%d trees pending, %d tuples queued: %w", pending, r.inflight.Load(), ErrDrainTimeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

func (r *Runtime) shutdown() {
	r.shapeMu.Lock() // no Reshape starts a task from now on
	close(r.stop)
	r.shapeMu.Unlock()
	r.cancel()
	r.spoutsWG.Wait()
	r.boltsWG.Wait()
	r.ackersWG.Wait()
	r.flushWG.Wait()
}

// Run runs a validated topology in this process until ctx is cancelled or
// its spouts finish, and returns its final stats.
func Run(ctx context.Context, topo *topology.Topology, opts Options) (Stats, error) {
	rt, err := New(topo, opts)
	if err != nil {
		return Stats{}, err
	}
	err = rt.Run(ctx)
	return rt.Stats(), err
}

// Activate resumes the spouts after Deactivate.
func (r *Runtime) Activate() { r.setActive(true) }

// Deactivate pauses the spouts: NextTuple is no longer called, while the
// trees in flight complete.
func (r *Runtime) Deactivate() { r.setActive(false) }

func (r *Runtime) setActive(v bool) {
	r.spoutsOff.Store(!v) // before the list: a spout task Reshape adds reads it after (runSpouts)
	for _, s := range r.spoutExecs() {
		s.active.Store(v)
		s.wake()
	}
}

// Tasks returns the task ids of each component.
func (r *Runtime) Tasks() map[string][]int { return r.componentTasks() }

// Stats returns a snapshot of every task's metrics and their sum per
// component.
func (r *Runtime) Stats() Stats {
	st := Stats{Topology: r.topo.Name}
	if s := r.started.Load(); s != 0 {
		st.Uptime = time.Since(r.startedAt)
		st.Started = time.Unix(0, s)
	}
	byComp := map[string]*ComponentStats{}
	for _, c := range allComponents(r.topo) {
		cs := &ComponentStats{Component: c.ID, Kind: c.Kind.String(), Type: c.Type}
		byComp[c.ID] = cs
	}
	for _, t := range r.tasks[1:] {
		if !t.here.Load() {
			continue
		}
		ts := TaskStats{Component: t.comp.ID, Kind: t.comp.Kind.String(), Task: t.id}
		if r.place != nil {
			ts.Worker = r.place.Worker
		}
		t.metrics.snapshot(&ts)
		ts.Status = t.status()
		if sp := t.sp.Load(); sp != nil {
			ts.Pending = sp.npending.Load()
		}
		if t.inbox != nil {
			ts.QueueLen = len(t.inbox) * r.batchSize
		}
		st.Tasks = append(st.Tasks, ts)
		cs := byComp[t.comp.ID]
		cs.Tasks++
		cs.Emitted += ts.Emitted
		cs.Transferred += ts.Transferred
		cs.Acked += ts.Acked
		cs.Failed += ts.Failed
		cs.TimedOut += ts.TimedOut
		cs.Executed += ts.Executed
		cs.Errors += ts.Errors
		cs.Panics += ts.Panics
		cs.Pending += ts.Pending
		cs.BusyNanos += ts.BusyNanos
		// latencies: weighted by executed (bolts) or acked (spouts)
		cs.ExecuteLat += ts.ExecuteLat * time.Duration(ts.Executed)
		cs.ProcessLat += ts.ProcessLat * time.Duration(ts.Acked)
		cs.CompleteLat += ts.CompleteLat * time.Duration(ts.Acked)
		cs.CompleteP50 = max(cs.CompleteP50, ts.CompleteP50)
		cs.CompleteP99 = max(cs.CompleteP99, ts.CompleteP99)
		cs.LastErrors = append(cs.LastErrors, ts.LastErrors...)
		for k, v := range ts.Custom {
			if cs.Custom == nil {
				cs.Custom = map[string]float64{}
			}
			cs.Custom[k] += v
		}
	}
	for _, c := range allComponents(r.topo) {
		cs := byComp[c.ID]
		if cs.Executed > 0 {
			cs.ExecuteLat /= time.Duration(cs.Executed)
		}
		if cs.Acked > 0 {
			cs.ProcessLat /= time.Duration(cs.Acked)
			cs.CompleteLat /= time.Duration(cs.Acked)
		} else {
			cs.ProcessLat, cs.CompleteLat = 0, 0
		}
		slices.SortFunc(cs.LastErrors, func(a, b ErrorRecord) int { return a.Time.Compare(b.Time) })
		if n := len(cs.LastErrors); n > keepErrors {
			cs.LastErrors = cs.LastErrors[n-keepErrors:]
		}
		st.Components = append(st.Components, *cs)
	}
	return st
}

// reportError records err against t and logs it (at most a few per
// second per task; the rest are counted).
func (r *Runtime) reportError(t *task, err error) {
	log, suppressed := t.metrics.addError(err)
	if !log {
		return
	}
	if suppressed > 0 {
		r.log.Error("component error", "component", t.comp.ID, "task", t.id, "err", err, "not_logged_before", suppressed)
		return
	}
	r.log.Error("component error", "component", t.comp.ID, "task", t.id, "err", err)
}
