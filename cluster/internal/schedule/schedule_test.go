package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

func workers(names ...string) []Worker {
	var out []Worker
	for _, n := range names {
		out = append(out, Worker{Name: n})
	}
	return out
}

func mkTopo(name string, limit int, comps ...Component) Topology {
	return Topology{Name: name, Workers: limit, Components: comps}
}

func spout(id string, n int) Component { return Component{ID: id, Kind: KindSpout, Parallelism: n} }
func bolt(id string, n int) Component  { return Component{ID: id, Kind: KindBolt, Parallelism: n} }
func ackers(n int) Component           { return Component{ID: AckerID, Kind: KindAcker, Parallelism: n} }

// loads returns the sorted multiset of worker loads.
func loads(a *Assignment) []int {
	out := slices.Collect(maps.Values(a.Load()))
	slices.Sort(out)
	return out
}

func TestCompute_Table(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        Config
		in         Input
		loads      []int // sorted loads of the live workers
		unassigned int
		check      func(t *testing.T, a *Assignment)
	}{
		{
			name:       "no worker: everything unassigned",
			in:         Input{Topologies: []Topology{mkTopo("t", 0, spout("s", 2), bolt("b", 3))}},
			loads:      []int{},
			unassigned: 5,
		},
		{
			name:  "no topology",
			in:    Input{Workers: workers("a", "b")},
			loads: []int{0, 0},
		},
		{
			name:  "one worker takes all",
			in:    Input{Workers: workers("a"), Topologies: []Topology{mkTopo("t", 0, spout("s", 2), bolt("b", 3), ackers(1))}},
			loads: []int{6},
		},
		{
			name:  "even split",
			in:    Input{Workers: workers("a", "b", "c"), Topologies: []Topology{mkTopo("t", 0, spout("s", 3), bolt("b", 3))}},
			loads: []int{2, 2, 2},
			check: func(t *testing.T, a *Assignment) {
				// each component on all three workers
				for _, c := range []string{"s", "b"} {
					seen := map[string]bool{}
					for _, task := range a.TopologyTasks("t") {
						if task.Component == c {
							seen[task.Worker] = true
						}
					}
					if len(seen) != 3 {
						t.Errorf("component %s on %d workers, want 3", c, len(seen))
					}
				}
			},
		},
		{
			name: "overall balance across topologies",
			in: Input{Workers: workers("a", "b", "c"), Topologies: []Topology{
				mkTopo("t1", 0, spout("s", 1)), mkTopo("t2", 0, spout("s", 1)), mkTopo("t3", 0, spout("s", 1)),
				mkTopo("t4", 0, spout("s", 2))}},
			loads: []int{1, 2, 2},
		},
		{
			name:  "topology.workers 1 puts everything on one worker",
			in:    Input{Workers: workers("a", "b", "c"), Topologies: []Topology{mkTopo("t", 1, spout("s", 2), bolt("b", 4))}},
			loads: []int{0, 0, 6},
		},
		{
			name:  "topology.workers 2 of 4",
			in:    Input{Workers: workers("a", "b", "c", "d"), Topologies: []Topology{mkTopo("t", 2, spout("s", 3), bolt("b", 4))}},
			loads: []int{0, 0, 3, 4},
			check: func(t *testing.T, a *Assignment) {
				if len(a.Restricted) != 1 || len(a.Restricted[0].Workers) != 2 {
					t.Errorf("Restricted = %v, want one set of 2", a.Restricted)
				}
			},
		},
		{
			name: "restricted topologies land on different workers",
			in: Input{Workers: workers("a", "b", "c", "d"), Topologies: []Topology{
				mkTopo("t1", 1, spout("s", 2)), mkTopo("t2", 1, spout("s", 2)), mkTopo("t3", 1, spout("s", 2)), mkTopo("t4", 1, spout("s", 2))}},
			loads: []int{2, 2, 2, 2},
		},
		{
			name:  "a limit above the task count does not bind",
			in:    Input{Workers: workers("a", "b", "c"), Topologies: []Topology{mkTopo("t", 5, spout("s", 3))}},
			loads: []int{1, 1, 1},
			check: func(t *testing.T, a *Assignment) {
				if len(a.Restricted) != 0 {
					t.Errorf("Restricted = %v, want none", a.Restricted)
				}
			},
		},
		{
			name:       "slots short: the rest is unassigned",
			in:         Input{Workers: []Worker{{Name: "a", Slots: 2}, {Name: "b", Slots: 2}}, Topologies: []Topology{mkTopo("t", 0, spout("s", 5))}},
			loads:      []int{2, 2},
			unassigned: 1,
		},
		{
			name:       "default slots from the config",
			cfg:        Config{DefaultSlots: 1},
			in:         Input{Workers: []Worker{{Name: "a"}, {Name: "b", Slots: 3}}, Topologies: []Topology{mkTopo("t", 0, spout("s", 5))}},
			loads:      []int{1, 3},
			unassigned: 1,
		},
		{
			name: "slots short: topologies are served in name order",
			in: Input{Workers: []Worker{{Name: "a", Slots: 3}}, Topologies: []Topology{
				mkTopo("zeta", 0, spout("s", 2)), mkTopo("alpha", 0, spout("s", 2))}},
			loads:      []int{3},
			unassigned: 1,
			check: func(t *testing.T, a *Assignment) {
				if u := a.Unassigned(); u[0].Topology != "zeta" {
					t.Errorf("unassigned %v, want a task of zeta", u)
				}
			},
		},
		{
			name: "uneven slots: the small worker is full, the rest balanced",
			in: Input{Workers: []Worker{{Name: "a", Slots: 1}, {Name: "b"}, {Name: "c"}},
				Topologies: []Topology{mkTopo("t", 0, spout("s", 9))}},
			loads: []int{1, 4, 4},
		},
		{
			name:  "parallelism 0 means 1 task, an acker of 0 means none",
			in:    Input{Workers: workers("a"), Topologies: []Topology{mkTopo("t", 0, spout("s", 0), ackers(0))}},
			loads: []int{1},
		},
		{
			name:  "empty topology",
			in:    Input{Workers: workers("a"), Topologies: []Topology{mkTopo("t", 0)}},
			loads: []int{0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustCompute(t, tc.cfg, tc.in)
			if err := checkValid(tc.cfg, tc.in, a); err != nil {
				t.Fatal(err)
			}
			if got := loads(a); !slices.Equal(got, tc.loads) {
				t.Errorf("loads %v, want %v", got, tc.loads)
			}
			if got := len(a.Unassigned()); got != tc.unassigned {
				t.Errorf("%d unassigned, want %d", got, tc.unassigned)
			}
			if tc.check != nil {
				tc.check(t, a)
			}
		})
	}
}

func TestCompute_TaskIDs(t *testing.T) {
	in := Input{Workers: workers("w"), Topologies: []Topology{
		mkTopo("t", 0, bolt("split", 2), ackers(2), spout("Words", 1), bolt("count", 3)),
	}}
	a := mustCompute(t, Config{}, in)
	var got []string
	for _, task := range a.Tasks {
		got = append(got, fmt.Sprintf("%d:%s/%d", task.ID, task.Component, task.Index))
	}
	// byte-wise id order ("Words" < "count" < "split"), the acker last
	want := []string{"1:Words/0", "2:count/0", "3:count/1", "4:count/2", "5:split/0", "6:split/1", "7:__acker/0", "8:__acker/1"}
	if !slices.Equal(got, want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
	if task, ok := a.ByID("t", 7); !ok || task.Kind != KindAcker || task.Index != 0 {
		t.Fatalf("ByID(t, 7) = %+v, %v", task, ok)
	}
	if _, ok := a.ByID("t", 9); ok {
		t.Fatal("ByID(t, 9) found a task")
	}
	if task, ok := a.Lookup(TaskKey{"t", "count", 2}); !ok || task.ID != 4 {
		t.Fatalf("Lookup = %+v, %v", task, ok)
	}
	if _, ok := a.Lookup(TaskKey{"t", "count", 3}); ok {
		t.Fatal("Lookup found count/3")
	}
	if _, ok := a.Lookup(TaskKey{"nope", "count", 0}); ok {
		t.Fatal("Lookup found a task of an unknown topology")
	}
}

func TestCompute_Errors(t *testing.T) {
	ok := mkTopo("t", 0, spout("s", 1))
	for _, tc := range []struct {
		name string
		cfg  Config
		in   Input
		want error
	}{
		{"negative default slots", Config{DefaultSlots: -1}, Input{}, ErrInvalidConfig},
		{"empty worker name", Config{}, Input{Workers: workers("")}, ErrInvalidName},
		{"zero byte in a name", Config{}, Input{Workers: workers("a\x00b")}, ErrInvalidName},
		{"duplicate worker", Config{}, Input{Workers: workers("a", "b", "a")}, ErrDuplicate},
		{"negative slots", Config{}, Input{Workers: []Worker{{Name: "a", Slots: -2}}}, ErrInvalidSlots},
		{"empty topology name", Config{}, Input{Topologies: []Topology{mkTopo("", 0)}}, ErrInvalidName},
		{"duplicate topology", Config{}, Input{Topologies: []Topology{ok, ok}}, ErrDuplicate},
		{"empty component id", Config{}, Input{Topologies: []Topology{mkTopo("t", 0, spout("", 1))}}, ErrInvalidName},
		{"duplicate component", Config{}, Input{Topologies: []Topology{mkTopo("t", 0, spout("x", 1), bolt("x", 1))}}, ErrDuplicate},
		{"negative parallelism", Config{}, Input{Topologies: []Topology{mkTopo("t", 0, bolt("x", -1))}}, ErrInvalidComponent},
		{"unknown kind", Config{}, Input{Topologies: []Topology{mkTopo("t", 0, Component{ID: "x", Kind: "sink"})}}, ErrInvalidComponent},
		{"acker with another id", Config{}, Input{Topologies: []Topology{mkTopo("t", 0, Component{ID: "ack", Kind: KindAcker})}}, ErrInvalidComponent},
		{"bolt named like the acker", Config{}, Input{Topologies: []Topology{mkTopo("t", 0, bolt(AckerID, 1))}}, ErrInvalidComponent},
		{"too many tasks", Config{}, Input{Topologies: []Topology{mkTopo("t", 0, bolt("a", MaxTasks), bolt("b", 1))}}, ErrTooLarge},
		{"huge parallelism", Config{}, Input{Topologies: []Topology{mkTopo("t", 0, bolt("a", MaxTasks+1))}}, ErrTooLarge},
		{"too many workers", Config{}, Input{Workers: make([]Worker, MaxWorkers+1)}, ErrTooLarge},
		{"too many cells", Config{}, manyCells(), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Compute(tc.cfg, tc.in)
			if !errors.Is(err, tc.want) || a != nil {
				t.Fatalf("Compute = %v, %v; want %v", a, err, tc.want)
			}
		})
	}
}

// manyCells returns an input whose flow problems exceed MaxCells:
// 1500 workers times 1500 single-task topologies.
func manyCells() Input {
	var in Input
	for i := range 1500 {
		in.Workers = append(in.Workers, Worker{Name: fmt.Sprint("w", i)})
		in.Topologies = append(in.Topologies, mkTopo(fmt.Sprint("t", i), 0, spout("s", 1)))
	}
	return in
}

func TestCompute_PreviousIgnoresStaleEntries(t *testing.T) {
	in := Input{Workers: workers("a", "b"), Topologies: []Topology{mkTopo("t", 0, spout("s", 2))}}
	fresh := mustCompute(t, Config{}, in)
	in.Previous = &Assignment{
		Tasks: []Task{
			{TaskKey: TaskKey{"gone", "s", 0}, Worker: "a"},  // unknown topology
			{TaskKey: TaskKey{"t", "nope", 0}, Worker: "a"},  // unknown component
			{TaskKey: TaskKey{"t", "s", 7}, Worker: "a"},     // index out of range
			{TaskKey: TaskKey{"t", "s", -1}, Worker: "a"},    // negative index
			{TaskKey: TaskKey{"t", "s", 0}, Worker: "ghost"}, // dead worker
		},
		Restricted: []WorkerSet{{Topology: "gone", Workers: []string{"a"}}, {Topology: "t", Workers: []string{"ghost"}}},
	}
	a := mustCompute(t, Config{}, in)
	if err := checkValid(Config{}, in, a); err != nil {
		t.Fatal(err)
	}
	if d := Diff(fresh, a); len(d) != 0 {
		t.Fatalf("stale entries changed the assignment: %v", d)
	}
}

func TestCompute_PreviousIsKeptWhenBalanced(t *testing.T) {
	// Any balanced previous assignment is kept as is, even one Compute
	// would not have chosen itself.
	in := Input{Workers: workers("a", "b"), Topologies: []Topology{mkTopo("t", 0, spout("s", 2), bolt("b", 2))}}
	prev := &Assignment{Tasks: []Task{
		{TaskKey: TaskKey{"t", "s", 0}, Worker: "a"},
		{TaskKey: TaskKey{"t", "s", 1}, Worker: "a"},
		{TaskKey: TaskKey{"t", "b", 0}, Worker: "b"},
		{TaskKey: TaskKey{"t", "b", 1}, Worker: "b"},
	}}
	in.Previous = prev
	a := mustCompute(t, Config{}, in)
	if d := Diff(prev, a); len(d) != 0 {
		t.Fatalf("a balanced previous assignment changed: %v", d)
	}
	// An unbalanced one moves exactly one task.
	prev.Tasks[2].Worker, prev.Tasks[3].Worker = "a", "a"
	a = mustCompute(t, Config{}, in)
	if d := Diff(prev, a); len(d) != 2 {
		t.Fatalf("moves %v, want 2 (4 tasks on one of 2 workers)", d)
	}
}

func TestCompute_RunningTasksKeepTheirSlots(t *testing.T) {
	// A full cluster: a new topology whose name sorts first does not evict
	// the running one.
	in := Input{Workers: []Worker{{Name: "a", Slots: 2}, {Name: "b", Slots: 2}},
		Topologies: []Topology{mkTopo("zz", 0, spout("s", 4))}}
	prev := mustCompute(t, Config{}, in)
	in.Topologies = append(in.Topologies, mkTopo("aa", 0, spout("s", 2)))
	in.Previous = prev
	a := mustCompute(t, Config{}, in)
	if d := Diff(prev, a); len(d) != 0 {
		t.Fatalf("moves %v, want none", d)
	}
	if u := a.Unassigned(); len(u) != 2 || u[0].Topology != "aa" || u[1].Topology != "aa" {
		t.Fatalf("unassigned %v, want the 2 tasks of aa", u)
	}
	// Once a worker joins, aa runs.
	in.Workers = append(in.Workers, Worker{Name: "c", Slots: 2})
	in.Previous = a
	b := mustCompute(t, Config{}, in)
	if len(b.Unassigned()) != 0 {
		t.Fatalf("unassigned after a join: %v", b.Unassigned())
	}
}

func TestCompute_ParallelismChange(t *testing.T) {
	// Raising one component's parallelism shifts the task ids of the
	// components after it, but tasks are matched by key: only new tasks
	// are placed, and balance may move a few.
	in := Input{Workers: workers("a", "b", "c"), Topologies: []Topology{mkTopo("t", 0, spout("a-spout", 3), bolt("b-bolt", 3))}}
	a := mustCompute(t, Config{}, in)
	in.Topologies = []Topology{mkTopo("t", 0, spout("a-spout", 6), bolt("b-bolt", 3))}
	in.Previous = a
	b := mustCompute(t, Config{}, in)
	if err := checkValid(Config{}, in, b); err != nil {
		t.Fatal(err)
	}
	for _, m := range Diff(a, b) {
		if m.From != "" {
			t.Errorf("task %v moved from %s to %s", m.TaskKey, m.From, m.To)
		}
	}
	if task, _ := b.Lookup(TaskKey{"t", "b-bolt", 0}); task.ID != 7 {
		t.Errorf("b-bolt/0 has id %d, want 7", task.ID)
	}
}

func TestCompute_RestrictedSetSurvivesRecompute(t *testing.T) {
	// With slots short a member of a restricted set may stay unused; the
	// set is kept so that recomputing does not shuffle.
	in := Input{
		Workers:    []Worker{{Name: "a", Slots: 1}, {Name: "b", Slots: 1}, {Name: "c", Slots: 1}, {Name: "d", Slots: 1}},
		Topologies: []Topology{mkTopo("t", 2, spout("s", 3)), mkTopo("u", 0, spout("s", 3))},
	}
	a := mustCompute(t, Config{}, in)
	if err := checkValid(Config{}, in, a); err != nil {
		t.Fatal(err)
	}
	in.Previous = a
	for range 3 {
		b := mustCompute(t, Config{}, in)
		if d := Diff(a, b); len(d) != 0 || !slices.EqualFunc(a.Restricted, b.Restricted, func(x, y WorkerSet) bool {
			return x.Topology == y.Topology && slices.Equal(x.Workers, y.Workers)
		}) {
			t.Fatalf("recompute changed: %v, %v -> %v", d, a.Restricted, b.Restricted)
		}
		in.Previous = b
	}
}

// tinyCatalog knows one spout type and one bolt type.
type tinyCatalog struct{}

func (tinyCatalog) ComponentType(kind topology.Kind, name string) (*topology.ComponentType, bool) {
	out := topology.Streams{"default": {"word"}}
	switch {
	case kind == topology.KindSpout && name == "words":
		return &topology.ComponentType{Kind: kind, Name: name,
			Outputs: func(any, []tuple.Fields) (topology.Streams, error) { return out, nil }}, true
	case kind == topology.KindBolt && name == "sink":
		return &topology.ComponentType{Kind: kind, Name: name}, true
	}
	return nil, false
}

func (tinyCatalog) TypeNames(kind topology.Kind) []string {
	if kind == topology.KindSpout {
		return []string{"words"}
	}
	return []string{"sink"}
}

func TestFromTopology(t *testing.T) {
	b := topology.NewBuilder("wc")
	b.SetConfig(topology.ConfigWorkers, 3)
	b.SetConfig(topology.ConfigAckers, 2)
	b.Spout("words", "words", 2)
	b.Bolt("count", "sink", 4).ShuffleGrouping("words")
	tp, err := b.Build(tinyCatalog{})
	if err != nil {
		t.Fatal(err)
	}
	got := FromTopology(tp)
	want := Topology{Name: "wc", Workers: 3, Components: []Component{
		{ID: "words", Kind: KindSpout, Parallelism: 2},
		{ID: "count", Kind: KindBolt, Parallelism: 4},
		{ID: AckerID, Kind: KindAcker, Parallelism: 2},
	}}
	if !slicesEqualTopology(got, want) {
		t.Fatalf("FromTopology = %+v, want %+v", got, want)
	}
	// and it schedules
	a := mustCompute(t, Config{}, Input{Workers: workers("x", "y", "z", "w"), Topologies: []Topology{got}})
	if n := len(a.TopologyWorkers("wc")); n != 3 {
		t.Fatalf("wc on %d workers, want 3", n)
	}
}

func slicesEqualTopology(a, b Topology) bool {
	return a.Name == b.Name && a.Workers == b.Workers && slices.Equal(a.Components, b.Components)
}

func TestAssignment_Helpers(t *testing.T) {
	in := Input{Workers: workers("a", "b", "idle"), Topologies: []Topology{
		mkTopo("t1", 2, spout("s", 2), bolt("b", 2)), mkTopo("t2", 1, spout("s", 1)),
	}}
	a := mustCompute(t, Config{}, in)
	if got := a.Topologies(); !slices.Equal(got, []string{"t1", "t2"}) {
		t.Errorf("Topologies() = %v", got)
	}
	total := 0
	for _, w := range a.Workers {
		for _, task := range a.WorkerTasks(w) {
			if task.Worker != w {
				t.Errorf("WorkerTasks(%s) lists %+v", w, task)
			}
		}
		total += len(a.WorkerTasks(w))
	}
	if total != 5 {
		t.Errorf("WorkerTasks cover %d tasks, want 5", total)
	}
	if got := a.TopologyWorkers("t1"); len(got) != 2 || !slices.IsSorted(got) {
		t.Errorf("TopologyWorkers(t1) = %v", got)
	}
	if got := a.TopologyWorkers("t2"); len(got) != 1 {
		t.Errorf("TopologyWorkers(t2) = %v", got)
	}
	if got := a.TopologyWorkers("nope"); got != nil {
		t.Errorf("TopologyWorkers(nope) = %v", got)
	}
	if got := a.WorkerTasks(""); got != nil {
		t.Errorf("WorkerTasks(\"\") = %v", got)
	}
	if got := a.Load(); len(got) != 3 {
		t.Errorf("Load() = %v, want 3 workers", got)
	}
	// nil-safe
	var none *Assignment
	if none.Load() == nil || none.Unassigned() != nil || none.Topologies() != nil || none.TopologyWorkers("t") != nil {
		t.Error("a nil Assignment is not empty")
	}
	if _, ok := none.Lookup(TaskKey{"t", "s", 0}); ok {
		t.Error("a nil Assignment has a task")
	}
}

func TestAssignment_JSONRoundTrip(t *testing.T) {
	in := Input{Workers: workers("a", "b", "c"), Topologies: []Topology{
		mkTopo("t1", 2, spout("s", 2), bolt("b", 3), ackers(1)), mkTopo("t2", 0, spout("s", 4)),
	}}
	a := mustCompute(t, Config{}, in)
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back Assignment
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Digest() != a.Digest() || len(Diff(a, &back)) != 0 {
		t.Fatalf("round trip changed the assignment")
	}
	// the decoded assignment works as Previous
	in.Previous = &back
	if d := Diff(a, mustCompute(t, Config{}, in)); len(d) != 0 {
		t.Fatalf("recompute from the decoded assignment moved %v", d)
	}
	if !strings.Contains(string(data), `"worker":"`) {
		t.Fatalf("unexpected JSON %s", data)
	}
}

func TestAssignment_Digest(t *testing.T) {
	in := Input{Workers: workers("a", "b"), Topologies: []Topology{mkTopo("t", 0, spout("s", 3))}}
	a := mustCompute(t, Config{}, in)
	b := mustCompute(t, Config{}, in)
	if a.Digest() != b.Digest() {
		t.Fatal("equal assignments, different digests")
	}
	b.Tasks[0].Worker = map[string]string{"a": "b", "b": "a"}[b.Tasks[0].Worker]
	if a.Digest() == b.Digest() {
		t.Fatal("different assignments, equal digests")
	}
	if (*Assignment)(nil).Digest() == a.Digest() {
		t.Fatal("nil and non-empty assignments share a digest")
	}
}

func TestDiff(t *testing.T) {
	mk := func(ws ...string) *Assignment {
		a := &Assignment{}
		for i, w := range ws {
			a.Tasks = append(a.Tasks, Task{TaskKey: TaskKey{"t", "c", i}, ID: i + 1, Worker: w})
		}
		return a
	}
	for _, tc := range []struct {
		name     string
		old, new *Assignment
		want     []Move
	}{
		{"equal", mk("a", "b"), mk("a", "b"), nil},
		{"nil both", nil, nil, nil},
		{"moved", mk("a", "b"), mk("a", "c"), []Move{{TaskKey{"t", "c", 1}, "b", "c"}}},
		{"new task", mk("a"), mk("a", "b"), []Move{{TaskKey{"t", "c", 1}, "", "b"}}},
		{"removed task", mk("a", "b"), mk("a"), []Move{{TaskKey{"t", "c", 1}, "b", ""}}},
		{"unassigned", mk("a", "b"), mk("a", ""), []Move{{TaskKey{"t", "c", 1}, "b", ""}}},
		{"from nil", nil, mk("a"), []Move{{TaskKey{"t", "c", 0}, "", "a"}}},
		{"to nil", mk("a", ""), nil, []Move{{TaskKey{"t", "c", 0}, "a", ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Diff(tc.old, tc.new); !slices.Equal(got, tc.want) {
				t.Fatalf("Diff = %v, want %v", got, tc.want)
			}
		})
	}
}
