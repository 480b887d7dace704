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
	p.readPrevious(in.Previous)
	p.chooseWorkerSets()
	p.topologyQuotas()
	for ti := range p.topos {
		p.componentQuotas(ti)
		p.pickTasks(ti)
	}
	return p.result(), nil
}

// ---- normalized input ----

type worker struct {
	name  string
	slots int // 0: no limit
}

type component struct {
	id    string
	kind  Kind
	n     int // tasks
	first int // index of its first task in plan.tasks

	prevPlaced int // tasks of it the previous assignment placed (any worker)
	quota      []int
}

type topo struct {
	name  string
	limit int // most workers; 0: every live worker
	key   uint64
	comps []component // numbering order: by id, the acker last
	n     int         // tasks
	first int         // index of its first task in plan.tasks

	prevPlaced int         // tasks the previous assignment placed
	prevOn     map[int]int // live worker index -> tasks there before
	set        []int       // candidate workers, best first
	quota      []int       // by worker index: tasks to place there
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
	workers []worker // sorted by name
	topos   []topo   // sorted by name
	tasks   []task   // topology by topology, in id order
	total   int      // capacity bound used for unlimited slots
}

func normalize(cfg Config, in Input) (*plan, error) {
	p := &plan{}
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
			tp.comps = append(tp.comps, component{id: c.ID, kind: c.Kind, n: c.tasks()})
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
		tp.prevPlaced++
		tp.comps[ci].prevPlaced++
		w, live := workerIdx[wname]
		if !live {
			continue
		}
		p.tasks[tp.comps[ci].first+k.Index].prev = w
		tp.prevOn[w]++
	}
}

// ---- step 1: the candidate workers of each topology ----

// chooseWorkerSets picks, for each topology, the workers it may use: all
// of them, or "topology.workers" of them (never more than it has tasks).
// A restricted topology keeps the live workers it ran on (those with most
// of its tasks first), then takes workers with free slots, least loaded
// first, then by rendezvous score. The load is an estimate accumulated
// over the topologies in name order.
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
		k := len(p.workers)
		if tp.limit > 0 {
			k = min(k, tp.limit)
		}
		k = min(k, tp.n)
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
			order = order[:k]
			// Within the set, prefer by score (the order the flow tries).
			slices.SortFunc(order, func(a, b int) int { return byScore(scores, p.workers, a, b) })
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
	costRunning  = 0 // keep as many previously placed tasks placed as possible
	costOrder    = 1 // then place topologies in name order
	costTopoBal  = 2 // then balance each topology over its workers
	costOverall  = 3 // then balance the workers' total task counts
	costTopoMove = 4 // then keep tasks where they ran
)

// topologyQuotas solves a min-cost max-flow from topologies to workers:
// source -> topology (its tasks) -> worker (its candidate set, with slots)
// -> sink. The flow is maximal, so as many tasks as the slots allow are
// placed; its cost ranks, lexicographically: previously placed tasks stay
// placed, earlier topologies are placed first, each topology's per-worker
// counts are balanced (sum of squares), the workers' totals are balanced
// (sum of squares), and as few tasks as possible leave the worker they
// ran on.
func (p *plan) topologyQuotas() {
	T, W := len(p.topos), len(p.workers)
	for ti := range p.topos {
		p.topos[ti].quota = make([]int, W)
	}
	if W == 0 {
		return
	}
	src, sink := 0, 1+T+W
	g := newFlowGraph(sink + 1)
	type cell struct{ arc, w int }
	cells := make([][]cell, T)
	for ti := range p.topos {
		tp := &p.topos[ti]
		if tp.n == 0 {
			continue
		}
		var lin cost
		lin[costOrder] = int64(ti)
		g.addArc(src, 1+ti, tp.n, lin, noTerm, costRunning, tp.prevPlaced)
		for _, w := range tp.set {
			id := g.addArc(1+ti, 1+T+w, min(tp.n, p.capacity(w)), cost{}, costTopoBal, costTopoMove, tp.prevOn[w])
			cells[ti] = append(cells[ti], cell{id, w})
		}
	}
	for w := range p.workers {
		g.addArc(1+T+w, sink, p.capacity(w), cost{}, costOverall, noTerm, 0)
	}
	g.run(src, sink)
	debugf("B phases %d aug %d", g.phases, g.augment)
	for ti := range p.topos {
		for _, c := range cells[ti] {
			p.topos[ti].quota[c.w] = g.flowOn(c.arc)
		}
	}
}

// ---- step 3: which components each worker runs ----

// Cost components of the component-level flow, most important first.
const (
	costCompRunning = 0 // keep previously placed tasks placed
	costCompFair    = 1 // then share a shortage of slots fairly among components
	costCompMove    = 2 // then keep tasks where they ran
	costCompSpread  = 3 // then spread each component evenly over the workers
)

// componentQuotas splits each worker's quota of topology ti among its
// components with a second flow: source -> component -> worker -> sink.
// Keeping tasks in place ranks before spreading components evenly: a
// membership change moves no more tasks than the topology-level quotas
// require, and the tasks that do move go where they even out the spread.
func (p *plan) componentQuotas(ti int) {
	tp := &p.topos[ti]
	var ws []int // workers with a quota, in the set's (score) order
	for _, w := range tp.set {
		if tp.quota[w] > 0 {
			ws = append(ws, w)
		}
	}
	C := len(tp.comps)
	for ci := range tp.comps {
		tp.comps[ci].quota = make([]int, len(p.workers))
	}
	if len(ws) == 0 {
		return
	}
	// previous tasks of each component on each worker
	prevOn := make([][]int, C)
	for ci := range tp.comps {
		c := &tp.comps[ci]
		prevOn[ci] = make([]int, len(p.workers))
		for i := range c.n {
			if w := p.tasks[c.first+i].prev; w >= 0 {
				prevOn[ci][w]++
			}
		}
	}
	src, sink := 0, 1+C+len(ws)
	g := newFlowGraph(sink + 1)
	arcs := make([][]int, C)
	scores := make([]uint64, len(ws))
	wsOrder := make([]int, len(ws))
	for ci := range tp.comps {
		c := &tp.comps[ci]
		if c.n == 0 {
			continue
		}
		g.addArc(src, 1+ci, c.n, cost{}, costCompFair, costCompRunning, c.prevPlaced)
		// Try workers in the component's rendezvous order, so ties spread
		// different components to different workers.
		key := hashStrings(tp.name, c.id)
		for j, w := range ws {
			scores[j] = score(key, p.workers[w].name)
			wsOrder[j] = j
		}
		slices.SortFunc(wsOrder, func(a, b int) int {
			if c := cmp.Compare(scores[b], scores[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		arcs[ci] = make([]int, len(ws))
		for _, j := range wsOrder {
			w := ws[j]
			arcs[ci][j] = g.addArc(1+ci, 1+C+j, min(c.n, tp.quota[w]), cost{}, costCompSpread, costCompMove, prevOn[ci][w])
		}
	}
	for j, w := range ws {
		g.addArc(1+C+j, sink, tp.quota[w], cost{}, noTerm, noTerm, 0)
	}
	g.run(src, sink)
	debugf("C phases %d aug %d", g.phases, g.augment)
	for ci := range tp.comps {
		if tp.comps[ci].n == 0 {
			continue
		}
		for j, w := range ws {
			tp.comps[ci].quota[w] = g.flowOn(arcs[ci][j])
		}
	}
}

// ---- step 4: which tasks ----

// pickTasks fills each (component, worker) quota of topology ti: first
// with the component's tasks that ran there before (those with the
// highest rendezvous score for the worker when there are more than the
// quota), then each remaining task, in index order, goes to the worker
// with room that scores highest for it. Tasks left over are unassigned.
func (p *plan) pickTasks(ti int) {
	tp := &p.topos[ti]
	for ci := range tp.comps {
		c := &tp.comps[ci]
		if c.n == 0 {
			continue
		}
		room := slices.Clone(c.quota)
		keys := make([]uint64, c.n)
		for i := range c.n {
			keys[i] = hashStrings(tp.name, c.id, strconv.Itoa(i))
		}
		// keep: per worker, the previous tasks with the best scores
		byWorker := map[int][]int{}
		for i := range c.n {
			if w := p.tasks[c.first+i].prev; w >= 0 && room[w] > 0 {
				byWorker[w] = append(byWorker[w], i)
			}
		}
		for w, idx := range byWorker { // each worker independently: order does not matter
			if len(idx) > room[w] {
				name := p.workers[w].name
				slices.SortFunc(idx, func(a, b int) int {
					if c := cmp.Compare(score(keys[b], name), score(keys[a], name)); c != 0 {
						return c
					}
					return cmp.Compare(a, b)
				})
				idx = idx[:room[w]]
			}
			for _, i := range idx {
				p.tasks[c.first+i].assigned = w
			}
			room[w] -= len(idx)
		}
		// place the others
		var open []int
		for w, r := range room {
			if r > 0 {
				open = append(open, w)
			}
		}
		for i := range c.n {
			t := &p.tasks[c.first+i]
			if t.assigned >= 0 || len(open) == 0 {
				continue
			}
			best, bestScore := -1, uint64(0)
			for _, w := range open {
				if s := score(keys[i], p.workers[w].name); best < 0 || s > bestScore {
					best, bestScore = w, s
				}
			}
			t.assigned = best
			if room[best]--; room[best] == 0 {
				open = slices.DeleteFunc(open, func(w int) bool { return w == best })
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

var debugf = func(string, ...any) {}
