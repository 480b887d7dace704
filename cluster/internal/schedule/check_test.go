package schedule

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
)

// Invariant checks shared by the table, property and fuzz tests.

// expectedTasks lists the tasks of in with their engine ids, computed
// independently of Compute.
func expectedTasks(in Input) []Task {
	var out []Task
	topos := slices.Clone(in.Topologies)
	slices.SortFunc(topos, func(a, b Topology) int { return cmp.Compare(a.Name, b.Name) })
	for _, tp := range topos {
		var plain []Component
		var ackers []Component
		for _, c := range tp.Components {
			if c.Kind == KindAcker {
				ackers = append(ackers, c)
			} else {
				plain = append(plain, c)
			}
		}
		slices.SortFunc(plain, func(a, b Component) int { return cmp.Compare(a.ID, b.ID) })
		id := 0
		for _, c := range append(plain, ackers...) {
			n := c.Parallelism
			if n == 0 && c.Kind != KindAcker {
				n = 1
			}
			for i := range n {
				id++
				out = append(out, Task{TaskKey: TaskKey{tp.Name, c.ID, i}, ID: id, Kind: c.Kind})
			}
		}
	}
	return out
}

// slotsOf returns each live worker's slot limit (0: none).
func slotsOf(cfg Config, in Input) map[string]int {
	out := map[string]int{}
	for _, w := range in.Workers {
		s := w.Slots
		if s == 0 {
			s = cfg.DefaultSlots
		}
		out[w.Name] = s
	}
	return out
}

// checkValid checks the hard rules: every task listed once with the right
// id, live workers only, slot limits, worker limits, and no unassigned
// task that some worker could take directly.
func checkValid(cfg Config, in Input, a *Assignment) error {
	want := expectedTasks(in)
	if len(a.Tasks) != len(want) {
		return fmt.Errorf("%d tasks, want %d", len(a.Tasks), len(want))
	}
	for i, t := range a.Tasks {
		w := want[i]
		if t.TaskKey != w.TaskKey || t.ID != w.ID || t.Kind != w.Kind {
			return fmt.Errorf("task %d is %+v, want %+v", i, t, w)
		}
	}
	slots := slotsOf(cfg, in)
	names := make([]string, 0, len(in.Workers))
	for _, w := range in.Workers {
		names = append(names, w.Name)
	}
	slices.Sort(names)
	if !slices.Equal(a.Workers, names) {
		return fmt.Errorf("workers %v, want %v", a.Workers, names)
	}
	load := a.Load()
	for w, n := range load {
		s, live := slots[w]
		if !live {
			return fmt.Errorf("task on %q, which is not live", w)
		}
		if s > 0 && n > s {
			return fmt.Errorf("worker %q runs %d tasks, slot limit %d", w, n, s)
		}
	}
	for _, tp := range in.Topologies {
		used := a.TopologyWorkers(tp.Name)
		if tp.Workers > 0 && len(used) > tp.Workers {
			return fmt.Errorf("topology %q uses %d workers, limit %d", tp.Name, len(used), tp.Workers)
		}
		unassigned := 0
		for _, t := range a.TopologyTasks(tp.Name) {
			if t.Worker == "" {
				unassigned++
			}
		}
		if unassigned == 0 {
			continue
		}
		for _, w := range in.Workers {
			full := slots[w.Name] > 0 && load[w.Name] >= slots[w.Name]
			barred := tp.Workers > 0 && len(used) >= tp.Workers && !slices.Contains(used, w.Name)
			if !full && !barred {
				return fmt.Errorf("topology %q: %d tasks unassigned but worker %q could take one", tp.Name, unassigned, w.Name)
			}
		}
	}
	return nil
}

// counts returns, per topology, the task count of each worker it uses.
func topoCounts(a *Assignment) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, t := range a.Tasks {
		if out[t.Topology] == nil {
			out[t.Topology] = map[string]int{}
		}
		if t.Worker != "" {
			out[t.Topology][t.Worker]++
		}
	}
	return out
}

// checkLocallyBalanced checks that no single task move from one worker to
// another improves the balance: per topology first (a topology's count
// on the source exceeds the target's by 2 or more), then overall (equal
// per-topology balance, and the source's total exceeds the target's by 2
// or more). It holds with any slot limits and worker limits; a move is
// considered only to a worker with a free slot that the topology already
// uses, or any live worker if the topology has no worker limit.
func checkLocallyBalanced(cfg Config, in Input, a *Assignment) error {
	slots := slotsOf(cfg, in)
	load := a.Load()
	tc := topoCounts(a)
	for _, tp := range in.Topologies {
		c := tc[tp.Name]
		for from, nf := range c {
			for _, w := range in.Workers {
				to := w.Name
				if to == from || (slots[to] > 0 && load[to] >= slots[to]) {
					continue
				}
				nt, uses := c[to]
				if !uses && tp.Workers > 0 {
					continue
				}
				if nf >= nt+2 {
					return fmt.Errorf("topology %q: moving a task from %q (%d) to %q (%d) balances it better", tp.Name, from, nf, to, nt)
				}
				if nf == nt+1 && load[from] >= load[to]+2 {
					return fmt.Errorf("topology %q: moving a task from %q (total %d) to %q (total %d) balances the workers better",
						tp.Name, from, load[from], to, load[to])
				}
			}
		}
	}
	return nil
}

// spread returns max-min of the values of m over keys, missing keys
// counting as 0.
func spread(m map[string]int, keys []string) int {
	if len(keys) == 0 {
		return 0
	}
	lo, hi := m[keys[0]], m[keys[0]]
	for _, k := range keys {
		lo, hi = min(lo, m[k]), max(hi, m[k])
	}
	return hi - lo
}

// checkBalanced checks the exact bounds that hold when no slot limit
// binds: each topology's counts differ by at most 1 over the workers it
// may use (all live workers, or exactly min(limit, workers, tasks) of
// them), and, if overall and no topology has a worker limit, the totals
// differ by at most 1. With fresh (no previous assignment) it also checks that each
// component's tasks are spread within 1 over the topology's workers.
func checkBalanced(in Input, a *Assignment, fresh, overall bool) error {
	tc := topoCounts(a)
	restricted := false
	for _, tp := range in.Topologies {
		c := tc[tp.Name]
		n := len(a.TopologyTasks(tp.Name))
		over := a.Workers
		if tp.Workers > 0 && tp.Workers < len(a.Workers) {
			restricted = true
			used := a.TopologyWorkers(tp.Name)
			if len(used) != min(tp.Workers, n) {
				return fmt.Errorf("topology %q: uses %d workers, want %d", tp.Name, len(used), min(tp.Workers, n))
			}
			over = used
		}
		if s := spread(c, over); s > 1 {
			return fmt.Errorf("topology %q: per-worker counts %v differ by %d", tp.Name, c, s)
		}
		if !fresh {
			continue
		}
		comp := map[string]map[string]int{}
		for _, t := range a.TopologyTasks(tp.Name) {
			if comp[t.Component] == nil {
				comp[t.Component] = map[string]int{}
			}
			comp[t.Component][t.Worker]++
		}
		for id, m := range comp {
			if s := spread(m, over); s > 1 {
				return fmt.Errorf("topology %q: component %q per-worker counts %v differ by %d", tp.Name, id, m, s)
			}
		}
	}
	if overall && !restricted {
		if s := spread(a.Load(), a.Workers); s > 1 {
			return fmt.Errorf("worker totals %v differ by %d", a.Load(), s)
		}
	}
	return nil
}

func mustCompute(t testing.TB, cfg Config, in Input) *Assignment {
	t.Helper()
	a, err := Compute(cfg, in)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return a
}
