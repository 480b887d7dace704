package schedule

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
)

// Compute assigns every task of in.Topologies to one of in.Workers. It is
// a pure function of its arguments: the order of the input slices does
// not matter, and two workers that call it with equal inputs get equal
// assignments. See the package documentation for the rules it follows.
//
// It returns an error only for an invalid input (a duplicate or empty
// name, a negative parallelism or slot limit...); a shortage of slots is
// not an error but leaves tasks unassigned.
func Compute(cfg Config, in Input) (*Assignment, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := normalize(cfg, in)
	if err != nil {
		return nil, err
	}
	if err := p.checkSize(); err != nil {
		return nil, err
	}
	p.readPrevious(in.Previous)
	p.chooseWorkerSets()
	p.topologyQuotas()
	pos := make([]int, len(p.workers))
	for w := range pos {
		pos[w] = -1
	}
	p.placeComponents(newFlowGraph(0), pos)
	p.moveElasticFirst()
	return p.result(), nil
}

// moveElasticFirst trades, where every count stays the same, the move of
// a task that is not elastic for the move of an elastic one (which starts
// and stops without a pause): when task t moves from worker a to worker b
// while an elastic task e of the same topology stays on worker c, and c
// runs one task of the topology more than a and one task in all more than
// a, then t stays on a and e goes to b. The workers' counts are then the
// same multiset as before (rules 1-4 hold as they did) and one task
// still moves; only the spread of components (rule 6) may be less even.
func (p *plan) moveElasticFirst() {
	total := make([]int, len(p.workers))
	type cell struct{ topo, worker int }
	count := map[cell]int{}
	for _, t := range p.tasks {
		if t.assigned >= 0 {
			total[t.assigned]++
			count[cell{t.topo, t.assigned}]++
		}
	}
	for i := range p.tasks {
		t := &p.tasks[i]
		tp := &p.topos[t.topo]
		a, b := t.prev, t.assigned
		if tp.comps[t.comp].elastic || a < 0 || b < 0 || a == b || !slices.Contains(tp.set, a) ||
			p.workers[a].slots > 0 && total[a] >= p.workers[a].slots {
			continue
		}
		for j := tp.first; j < tp.first+tp.n; j++ {
			e := &p.tasks[j]
			c := e.assigned
			if !tp.comps[e.comp].elastic || c < 0 || e.prev != c || c == a || c == b ||
				count[cell{t.topo, c}] != count[cell{t.topo, a}]+1 || total[c] != total[a]+1 {
				continue
			}
			t.assigned, e.assigned = a, b
			total[a]++
			total[c]--
			count[cell{t.topo, a}]++
			count[cell{t.topo, c}]--
			break
		}
	}
}

// ---- normalized input ----

type worker struct {
	name  string
	slots int // 0: no limit
}

type component struct {
	id      string
	kind    Kind
	n       int // tasks
	first   int // index of its first task in plan.tasks
	elastic bool

	prevPlaced int   // tasks of it the previous assignment placed on live workers
	quota      []int // tasks to place on each of topo.used
}

type topo struct {
	name  string
	limit int // most workers; 0: every live worker
	key   uint64
	comps []component // numbering order: by id, the acker last
	n     int         // tasks
	first int         // index of its first task in plan.tasks

	prevPlaced int          // tasks the previous assignment placed on live workers
	prevOn     map[int]int  // live worker index -> tasks there before
	prevSet    map[int]bool // live workers of its previous restricted set
	set        []int        // candidate workers, best first
	restricted bool         // set is limited by "topology.workers"
	quota      []int        // tasks to place on each member of set
	used       []int        // the members of set with a quota, in set order
	usedQuota  []int        // their quotas
}

type task struct {
	topo, comp int
	index      int
	id         int
	prev       int // live worker index in the previous assignment, or -1
	assigned   int // worker index, or -1
}

// plan is the state of one Compute call.
type plan struct {
	cfg     Config
	workers []worker // sorted by name
	topos   []topo   // sorted by name
	tasks   []task   // topology by topology, in id order
	total   int      // capacity bound used for unlimited slots
}

func normalize(cfg Config, in Input) (*plan, error) {
	p := &plan{cfg: cfg}
	if len(in.Workers) > MaxWorkers {
		return nil, fmt.Errorf("%d workers: %w", len(in.Workers), ErrTooLarge)
	}
	for _, w := range in.Workers {
		if !validName(w.Name) {
			return nil, fmt.Errorf("worker %q: %w", w.Name, ErrInvalidName)
		}
		if w.Slots < 0 {
			return nil, fmt.Errorf("worker %q: slots %d: %w", w.Name, w.Slots, ErrInvalidSlots)
		}
		slots := w.Slots
		if slots == 0 {
			slots = cfg.DefaultSlots
		}
		p.workers = append(p.workers, worker{name: w.Name, slots: slots})
	}
	slices.SortFunc(p.workers, func(a, b worker) int { return cmp.Compare(a.name, b.name) })
	for i := 1; i < len(p.workers); i++ {
		if p.workers[i].name == p.workers[i-1].name {
			return nil, fmt.Errorf("worker %q: %w", p.workers[i].name, ErrDuplicate)
		}
	}

	total := 0
	for _, t := range in.Topologies {
		if !validName(t.Name) {
			return nil, fmt.Errorf("topology %q: %w", t.Name, ErrInvalidName)
		}
		tp := topo{name: t.Name, limit: max(0, t.Workers), key: hashStrings(t.Name)}
		for _, c := range t.Components {
			if !validName(c.ID) {
				return nil, fmt.Errorf("topology %q: component %q: %w", t.Name, c.ID, ErrInvalidName)
			}
			switch {
			case c.Kind != KindSpout && c.Kind != KindBolt && c.Kind != KindAcker:
				return nil, fmt.Errorf("topology %q: component %q: kind %q: %w", t.Name, c.ID, c.Kind, ErrInvalidComponent)
			case (c.Kind == KindAcker) != (c.ID == AckerID):
				return nil, fmt.Errorf("topology %q: component %q: the acker is kind %q with id %q: %w",
					t.Name, c.ID, KindAcker, AckerID, ErrInvalidComponent)
			case c.Parallelism < 0:
				return nil, fmt.Errorf("topology %q: component %q: parallelism %d: %w", t.Name, c.ID, c.Parallelism, ErrInvalidComponent)
			case c.Parallelism > MaxTasks:
				return nil, fmt.Errorf("topology %q: component %q: parallelism %d: %w", t.Name, c.ID, c.Parallelism, ErrTooLarge)
			}
			tp.comps = append(tp.comps, component{id: c.ID, kind: c.Kind, n: c.tasks(), elastic: c.Elastic})
			tp.n += c.tasks()
			total += c.tasks()
			if total > MaxTasks {
				return nil, fmt.Errorf("more than %d tasks: %w", MaxTasks, ErrTooLarge)
			}
		}
		// The engine's numbering: components in id order, the acker last.
		slices.SortFunc(tp.comps, func(a, b component) int {
			if aa, ba := a.kind == KindAcker, b.kind == KindAcker; aa != ba {
				if aa {
					return 1
				}
				return -1
			}
			return cmp.Compare(a.id, b.id)
		})
		for i := 1; i < len(tp.comps); i++ {
			if tp.comps[i].id == tp.comps[i-1].id {
				return nil, fmt.Errorf("topology %q: component %q: %w", t.Name, tp.comps[i].id, ErrDuplicate)
			}
		}
		p.topos = append(p.topos, tp)
	}
	slices.SortFunc(p.topos, func(a, b topo) int { return cmp.Compare(a.name, b.name) })
	for i := 1; i < len(p.topos); i++ {
		if p.topos[i].name == p.topos[i-1].name {
			return nil, fmt.Errorf("topology %q: %w", p.topos[i].name, ErrDuplicate)
		}
	}

	p.tasks = make([]task, 0, total)
	for ti := range p.topos {
		tp := &p.topos[ti]
		tp.first = len(p.tasks)
		for ci := range tp.comps {
			c := &tp.comps[ci]
			c.first = len(p.tasks)
			for i := range c.n {
				p.tasks = append(p.tasks, task{topo: ti, comp: ci, index: i,
					id: len(p.tasks) - tp.first + 1, prev: -1, assigned: -1})
			}
		}
	}
	p.total = max(1, total)
	return p, nil
}

// capacity returns the slot limit of worker w as a flow capacity.
func (p *plan) capacity(w int) int {
	if s := p.workers[w].slots; s > 0 {
		return min(s, p.total)
	}
	return p.total
}

// readPrevious records where the previous assignment ran each task.
func (p *plan) readPrevious(prev *Assignment) {
	for ti := range p.topos {
		p.topos[ti].prevOn = map[int]int{}
		p.topos[ti].prevSet = map[int]bool{}
	}
	if prev == nil {
		return
	}
	workerIdx := make(map[string]int, len(p.workers))
	for i, w := range p.workers {
		workerIdx[w.name] = i
	}
	topoIdx := make(map[string]int, len(p.topos))
	for i, t := range p.topos {
		topoIdx[t.name] = i
	}
	for _, rs := range prev.Restricted {
		if ti, ok := topoIdx[rs.Topology]; ok {
			for _, w := range rs.Workers {
				if wi, live := workerIdx[w]; live {
					p.topos[ti].prevSet[wi] = true
				}
			}
		}
	}
	// A key listed twice (a corrupt input) keeps its smallest worker
	// name, so the result does not depend on the order of the list.
	where := map[TaskKey]string{}
	for _, t := range prev.Tasks {
		if t.Worker == "" {
			continue
		}
		if w, ok := where[t.TaskKey]; !ok || t.Worker < w {
			where[t.TaskKey] = t.Worker
		}
	}
	for k, wname := range where {
		ti, ok := topoIdx[k.Topology]
		if !ok {
			continue
		}
		tp := &p.topos[ti]
		ci := slices.IndexFunc(tp.comps, func(c component) bool { return c.id == k.Component })
		if ci < 0 || k.Index < 0 || k.Index >= tp.comps[ci].n {
			continue
		}
		w, live := workerIdx[wname]
		if !live {
			continue
		}
		tp.prevPlaced++
		tp.comps[ci].prevPlaced++
		p.tasks[tp.comps[ci].first+k.Index].prev = w
		tp.prevOn[w]++
	}
}

// checkSize enforces MaxCells.
func (p *plan) checkSize() error {
	cells := 0
	for i := range p.topos {
		tp := &p.topos[i]
		k := p.setSize(tp)
		cells += k + len(tp.comps)*min(k, tp.n)
	}
	if cells > MaxCells {
		return fmt.Errorf("%d topology and component cells over the workers, more than %d: %w", cells, MaxCells, ErrTooLarge)
	}
	return nil
}

// ---- step 1: the candidate workers of each topology ----

// chooseWorkerSets picks, for each topology, the workers it may use: all
// of them, or "topology.workers" of them when that is fewer than both the
// workers and the topology's tasks. A restricted topology keeps the live
// workers it ran on (those with most of its tasks first), then the rest
// of its previous set (Assignment.Restricted), then takes workers with
// free slots, least loaded first, then by rendezvous score. The load is
// an estimate accumulated over the topologies in name order. Keeping the
// previous set, and not only the workers used, makes a recomputation
// with an unchanged input pose the same problem again when a shortage of
// slots left some of the set unused.
func (p *plan) chooseWorkerSets() {
	load := make([]int, len(p.workers))
	scores := make([]uint64, len(p.workers))
	for ti := range p.topos {
		tp := &p.topos[ti]
		if tp.n == 0 || len(p.workers) == 0 {
			continue
		}
		for w := range p.workers {
			scores[w] = score(tp.key, p.workers[w].name)
		}
		k := p.setSize(tp)
		order := make([]int, len(p.workers))
		for w := range order {
			order[w] = w
		}
		if k == len(p.workers) {
			slices.SortFunc(order, func(a, b int) int { return byScore(scores, p.workers, a, b) })
		} else {
			room := func(w int) bool { s := p.workers[w].slots; return s == 0 || load[w] < s }
			slices.SortFunc(order, func(a, b int) int {
				if c := cmp.Compare(tp.prevOn[b], tp.prevOn[a]); c != 0 {
					return c
				}
				if ia, ib := tp.prevSet[a], tp.prevSet[b]; ia != ib {
					if ia {
						return -1
					}
					return 1
				}
				if ra, rb := room(a), room(b); ra != rb {
					if ra {
						return -1
					}
					return 1
				}
				if c := cmp.Compare(load[a], load[b]); c != 0 {
					return c
				}
				return byScore(scores, p.workers, a, b)
			})
			order = slices.Clone(order[:k])
			// Within the set, prefer by score (the order the flow tries).
			slices.SortFunc(order, func(a, b int) int { return byScore(scores, p.workers, a, b) })
			tp.restricted = true
		}
		tp.set = order
		base, extra := tp.n/k, tp.n%k
		for i, w := range order {
			load[w] += base
			if i < extra {
				load[w]++
			}
		}
	}
}

// setSize returns the number of workers topology tp may use. A limit of
// at least the number of workers or of tasks cannot bind: such a
// topology may use every worker.
func (p *plan) setSize(tp *topo) int {
	if tp.n == 0 {
		return 0
	}
	k := len(p.workers)
	if tp.limit > 0 && tp.limit < k && tp.limit < tp.n {
		k = tp.limit
	}
	return k
}

// byScore orders workers by decreasing rendezvous score, then by name.
func byScore(scores []uint64, ws []worker, a, b int) int {
	if c := cmp.Compare(scores[b], scores[a]); c != 0 {
		return c
	}
	return cmp.Compare(ws[a].name, ws[b].name)
}

// ---- step 2: how many tasks of each topology each worker runs ----

// Cost components of the topology-level flow, most important first.
const (
	costRunning  = 0 // keep as many running tasks (on live workers) placed as possible
	costOrder    = 1 // then place topologies in name order
	costTopoBal  = 2 // then balance each topology over its workers
	costOverall  = 3 // then balance the workers' total task counts
	costTopoMove = 4 // then keep tasks where they ran
)

// topologyQuotas solves a min-cost max-flow from topologies to workers:
// source -> topology (its tasks) -> worker (its candidate set, with slots)
// -> sink. The flow is maximal, so as many tasks as the slots allow are
// placed; its cost ranks, lexicographically: tasks running on live workers
// stay placed, earlier topologies are placed first, each topology's
// per-worker counts are balanced (sum of squares), the workers' totals
// are balanced (sum of squares), and as few tasks as possible leave the
// worker they ran on.
//
// A restricted topology may leave tasks unassigned because members of its
// set are full while workers outside it have free slots (the set is
// chosen before the flow, on estimates). Then its unused members are
// swapped for the free workers with the most room and the flow is solved
// again, as long as that places more tasks. The old flow stays feasible
// after a swap (an unused member carried none of it), so the result
// never gets worse.
func (p *plan) topologyQuotas() {
	if len(p.workers) == 0 {
		return
	}
	placed := p.solveTopologyFlow()
	for range p.topos {
		sets, quotas := make([][]int, len(p.topos)), make([][]int, len(p.topos))
		for ti := range p.topos {
			sets[ti], quotas[ti] = slices.Clone(p.topos[ti].set), slices.Clone(p.topos[ti].quota)
		}
		if !p.swapUnusedMembers() {
			return
		}
		more := p.solveTopologyFlow()
		if more <= placed { // no gain: keep the previous solution, do not loop
			for ti := range p.topos {
				p.topos[ti].set, p.topos[ti].quota = sets[ti], quotas[ti]
			}
			return
		}
		placed = more
	}
}

// swapUnusedMembers replaces, in the set of each restricted topology with
// unassigned tasks, the members that got no task by workers outside the
// set that have free slots (most free slots first, then by rendezvous
// score). It reports whether it changed a set.
func (p *plan) swapUnusedMembers() bool {
	load := make([]int, len(p.workers))
	for ti := range p.topos {
		for k, w := range p.topos[ti].set {
			load[w] += p.topos[ti].quota[k]
		}
	}
	in := make([]bool, len(p.workers))
	changed := false
	for ti := range p.topos {
		tp := &p.topos[ti]
		if !tp.restricted {
			continue
		}
		placed := 0
		var unused []int // indexes into set
		for k, q := range tp.quota {
			placed += q
			if q == 0 {
				unused = append(unused, k)
			}
		}
		if placed == tp.n || len(unused) == 0 {
			continue
		}
		for _, w := range tp.set {
			in[w] = true
		}
		var free []int
		for w := range p.workers {
			if !in[w] && load[w] < p.capacity(w) {
				free = append(free, w)
			}
		}
		for _, w := range tp.set {
			in[w] = false
		}
		if len(free) == 0 {
			continue
		}
		slices.SortFunc(free, func(a, b int) int {
			if c := cmp.Compare(p.capacity(b)-load[b], p.capacity(a)-load[a]); c != 0 {
				return c
			}
			return cmp.Compare(score(tp.key, p.workers[b].name), score(tp.key, p.workers[a].name))
		})
		for i := range min(len(unused), len(free)) {
			tp.set[unused[i]] = free[i]
		}
		slices.SortFunc(tp.set, func(a, b int) int {
			return cmp.Compare(score(tp.key, p.workers[b].name), score(tp.key, p.workers[a].name))
		})
		changed = true
	}
	return changed
}

// solveTopologyFlow sets the topologies' quotas from one flow over their
// current sets and returns the number of tasks placed.
//
// The first two cost components only choose which tasks stay unassigned.
// When every task can be placed they are the same for every maximum flow,
// so the flow is first solved without them, which takes fewer phases (the
// topologies fill up together instead of one after the other), and again
// with them only if some task is left over.
func (p *plan) solveTopologyFlow() int {
	if placed, ok := p.topologyFlow(false); ok {
		return placed
	}
	placed, _ := p.topologyFlow(true)
	return placed
}

// topologyFlow solves the topology-level flow, with or without the
// placement priorities, and reports whether every task was placed. It
// sets the quotas when it returns true or was asked for priorities.
func (p *plan) topologyFlow(priorities bool) (int, bool) {
	T, W := len(p.topos), len(p.workers)
	src, sink := 0, 1+T+W
	g := newFlowGraph(sink + 1)
	cells := make([][]int, T) // arc ids, parallel to each set
	total := 0
	for ti := range p.topos {
		tp := &p.topos[ti]
		if tp.n == 0 {
			continue
		}
		total += tp.n
		if priorities {
			var lin cost
			lin[costOrder] = int64(ti)
			g.addArc(src, 1+ti, tp.n, lin, noTerm, costRunning, tp.prevPlaced)
		} else {
			g.addArc(src, 1+ti, tp.n, cost{}, noTerm, noTerm, 0)
		}
		cells[ti] = make([]int, len(tp.set))
		for k, w := range tp.set {
			cells[ti][k] = g.addArc(1+ti, 1+T+w, min(tp.n, p.capacity(w)), cost{}, costTopoBal, costTopoMove, tp.prevOn[w])
		}
	}
	for w := range p.workers {
		g.addArc(1+T+w, sink, p.capacity(w), cost{}, costOverall, noTerm, 0)
	}
	placed := g.run(src, sink)
	if placed < total && !priorities {
		return placed, false
	}
	for ti := range p.topos {
		tp := &p.topos[ti]
		tp.quota = make([]int, len(tp.set))
		for k, id := range cells[ti] {
			tp.quota[k] = g.flowOn(id)
		}
	}
	return placed, placed == total
}

// ---- step 3: which components each worker runs ----

// Cost components of the component-level flow, most important first.
const (
	costCompRunning     = 0 // keep running tasks placed
	costCompFair        = 1 // then share a shortage of slots fairly among components
	costCompMove        = 2 // then keep tasks where they ran
	costCompMoveElastic = 3 // then keep elastic tasks where they ran (moved first: they move without a pause)
	costCompSpread      = 4 // then spread each component evenly over the workers
)

// placeComponents decides which tasks of each topology run where: the
// workers with a quota (in set order) become tp.used, pos maps a worker
// to its index in it (-1 elsewhere; restored on return), and g is a
// scratch graph.
func (p *plan) placeComponents(g *flowGraph, pos []int) {
	for ti := range p.topos {
		tp := &p.topos[ti]
		tp.used, tp.usedQuota = nil, nil
		for k, w := range tp.set {
			if q := tp.quota[k]; q > 0 {
				pos[w] = len(tp.used)
				tp.used = append(tp.used, w)
				tp.usedQuota = append(tp.usedQuota, q)
			}
		}
		p.componentQuotas(g, tp, pos)
		p.pickTasks(tp, pos)
		for _, w := range tp.used {
			pos[w] = -1
		}
	}
}

// componentQuotas splits each used worker's quota of topology tp among
// its components with a second flow: source -> component -> worker ->
// sink. Keeping tasks in place ranks before spreading components evenly:
// a membership change moves no more tasks than the topology-level quotas
// require, and the tasks that do move go where they even out the spread.
func (p *plan) componentQuotas(g *flowGraph, tp *topo, pos []int) {
	U, C := len(tp.used), len(tp.comps)
	placed := 0
	for _, q := range tp.usedQuota {
		placed += q
	}
	short := placed < tp.n
	for ci := range tp.comps {
		tp.comps[ci].quota = make([]int, U)
	}
	if U == 0 {
		return
	}
	src, sink := 0, 1+C+U
	g.reset(sink + 1)
	arcs := make([][]int, C)
	prevOn := make([]int, U)
	scores := make([]uint64, U)
	order := make([]int, U)
	for ci := range tp.comps {
		c := &tp.comps[ci]
		if c.n == 0 {
			continue
		}
		if short {
			g.addArc(src, 1+ci, c.n, cost{}, costCompFair, costCompRunning, c.prevPlaced)
		} else { // every task is placed: the priorities are moot
			g.addArc(src, 1+ci, c.n, cost{}, noTerm, noTerm, 0)
		}
		clear(prevOn)
		for i := range c.n {
			if w := p.tasks[c.first+i].prev; w >= 0 && pos[w] >= 0 {
				prevOn[pos[w]]++
			}
		}
		// Try workers in the component's rendezvous order, so ties spread
		// different components to different workers.
		key := hashStrings(tp.name, c.id)
		for j, w := range tp.used {
			scores[j], order[j] = score(key, p.workers[w].name), j
		}
		slices.SortFunc(order, func(a, b int) int {
			if c := cmp.Compare(scores[b], scores[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		arcs[ci] = make([]int, U)
		move := int8(costCompMove)
		if c.elastic {
			move = costCompMoveElastic
		}
		for _, j := range order {
			arcs[ci][j] = g.addArc(1+ci, 1+C+j, min(c.n, tp.usedQuota[j]), cost{}, costCompSpread, move, prevOn[j])
		}
	}
	for j, q := range tp.usedQuota {
		g.addArc(1+C+j, sink, q, cost{}, noTerm, noTerm, 0)
	}
	g.run(src, sink)
	for ci := range tp.comps {
		if tp.comps[ci].n == 0 {
			continue
		}
		for j := range U {
			tp.comps[ci].quota[j] = g.flowOn(arcs[ci][j])
		}
	}
}

// ---- step 4: which tasks ----

// pickTasks fills each (component, worker) quota of topology tp: first
// with the component's tasks that ran there before (those with the
// highest rendezvous score for the worker when there are more than the
// quota), then each remaining task, in index order, goes to the worker
// with room that scores highest for it. Tasks left over are unassigned.
func (p *plan) pickTasks(tp *topo, pos []int) {
	for ci := range tp.comps {
		c := &tp.comps[ci]
		if c.n == 0 {
			continue
		}
		room := slices.Clone(c.quota) // by index in tp.used
		keys := make([]uint64, c.n)
		for i := range c.n {
			keys[i] = hashStrings(tp.name, c.id, strconv.Itoa(i))
		}
		// keep: per worker, the previous tasks with the best scores
		kept := make([][]int, len(tp.used))
		for i := range c.n {
			if w := p.tasks[c.first+i].prev; w >= 0 && pos[w] >= 0 && room[pos[w]] > 0 {
				kept[pos[w]] = append(kept[pos[w]], i)
			}
		}
		for j, idx := range kept {
			if len(idx) > room[j] {
				name := p.workers[tp.used[j]].name
				slices.SortFunc(idx, func(a, b int) int {
					if c := cmp.Compare(score(keys[b], name), score(keys[a], name)); c != 0 {
						return c
					}
					return cmp.Compare(a, b)
				})
				idx = idx[:room[j]]
			}
			for _, i := range idx {
				p.tasks[c.first+i].assigned = tp.used[j]
			}
			room[j] -= len(idx)
		}
		// place the others
		var open []int
		for j, r := range room {
			if r > 0 {
				open = append(open, j)
			}
		}
		for i := range c.n {
			t := &p.tasks[c.first+i]
			if t.assigned >= 0 || len(open) == 0 {
				continue
			}
			best, bestScore := -1, uint64(0)
			for _, j := range open {
				if s := score(keys[i], p.workers[tp.used[j]].name); best < 0 || s > bestScore {
					best, bestScore = j, s
				}
			}
			t.assigned = tp.used[best]
			if room[best]--; room[best] == 0 {
				open = slices.DeleteFunc(open, func(j int) bool { return j == best })
			}
		}
	}
}

// result builds the Assignment.
func (p *plan) result() *Assignment {
	a := &Assignment{Workers: make([]string, len(p.workers)), Tasks: make([]Task, len(p.tasks))}
	for i, w := range p.workers {
		a.Workers[i] = w.name
	}
	for _, tp := range p.topos {
		if !tp.restricted {
			continue
		}
		ws := WorkerSet{Topology: tp.name}
		for _, w := range tp.set {
			ws.Workers = append(ws.Workers, p.workers[w].name)
		}
		slices.Sort(ws.Workers)
		a.Restricted = append(a.Restricted, ws)
	}
	for i, t := range p.tasks {
		tp := &p.topos[t.topo]
		c := &tp.comps[t.comp]
		out := Task{TaskKey: TaskKey{Topology: tp.name, Component: c.id, Index: t.index}, ID: t.id, Kind: c.kind}
		if t.assigned >= 0 {
			out.Worker = p.workers[t.assigned].name
		}
		a.Tasks[i] = out
	}
	return a
}
