package local_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// elasticBolt records which task executed each sentence id, and each
// Cleanup.
type elasticBolt struct {
	by       *sync.Map // sid -> *atomic.Int64 (executions)
	tasks    *sync.Map // task id -> *atomic.Int64
	cleanups *atomic.Int64
	id       int
	out      bolt.Collector
}

func (b *elasticBolt) Prepare(_ context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	b.id, b.out = tc.TaskID, out
	return nil
}

func (b *elasticBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	time.Sleep(20 * time.Microsecond)
	v, _ := b.by.LoadOrStore(t.Value(1), new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	v, _ = b.tasks.LoadOrStore(b.id, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	b.out.Ack(t)
	return nil
}

func (b *elasticBolt) Cleanup() error { b.cleanups.Add(1); return nil }

// elasticRun is the state of a run with an "elastic" bolt type.
type elasticRun struct {
	h        *harness
	reg      *registry.Registry
	by       sync.Map // sentence id -> executions
	tasks    sync.Map // task id -> executions
	cleanups atomic.Int64
}

func newElasticRun(t *testing.T, count uint64) *elasticRun {
	e := &elasticRun{h: &harness{count: count, reliable: true}}
	e.reg = e.h.registry(t)
	e.reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "elastic",
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return &elasticBolt{by: &e.by, tasks: &e.tasks, cleanups: &e.cleanups}, nil
		},
	})
	return e
}

func (e *elasticRun) executed() int64 {
	var n int64
	e.tasks.Range(func(_, v any) bool { n += v.(*atomic.Int64).Load(); return true })
	return n
}

// check: no tree failed, every sentence acked once and executed once by
// the elastic bolt, and each of ids executed some.
func (e *elasticRun) check(t *testing.T, ids []int) {
	t.Helper()
	if n := e.h.fails.Load(); n != 0 {
		t.Errorf("%d trees failed across the changes (replayed); want 0", n)
	}
	checkAckedOnce(t, e.h)
	for i := range e.h.count {
		if v, ok := e.by.Load(i); !ok || v.(*atomic.Int64).Load() != 1 {
			t.Errorf("sentence %d executed %v times by work, want once", i, v)
			break
		}
	}
	for _, id := range ids {
		if v, ok := e.tasks.Load(id); !ok || v.(*atomic.Int64).Load() == 0 {
			t.Errorf("task %d of work executed nothing", id)
		}
	}
}

// TestRuntime_Reshape changes an elastic bolt's tasks 1 -> 3 -> 1 -> 2
// while a reliable spout runs: every tuple is executed and acked once and
// none fails (nothing replays), the added tasks execute tuples, and the
// retired ones stop (Cleanup) while the runtime goes on.
func TestRuntime_Reshape(t *testing.T) {
	e := newElasticRun(t, 60000)
	topo := decode(t, e.reg, `{"name": "reshape", "config": {"topology.max.spout.pending": 200},
	  "spouts": [{"id": "gen", "type": "gen", "parallelism": 1}],
	  "bolts": [
	    {"id": "split", "type": "split", "parallelism": 1, "inputs": [{"component": "gen"}]},
	    {"id": "work", "type": "elastic", "parallelism": 1, "autoscale": {"min": 1, "max": 4},
	     "inputs": [{"component": "gen"}]}]}`)
	if !topo.Elastic("work") || topo.Elastic("split") {
		t.Fatalf("Elastic: work %v split %v, want true false", topo.Elastic("work"), topo.Elastic("split"))
	}
	slots, _ := topology.TaskSlots(topo)
	ids := slots["work"]
	if len(ids) != 4 {
		t.Fatalf("work holds ids %v, want 4", ids)
	}
	rt, err := local.New(topo, local.Options{DrainTimeout: 10 * time.Second, RetireQuiet: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Reshape(map[string][]int{"work": ids[:3]}, nil); !errors.Is(err, local.ErrNotRunning) {
		t.Fatalf("Reshape before Run: %v, want ErrNotRunning", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	step := func(want []int, after int64) {
		t.Helper()
		galetest.Eventually(t, "tuples executed", 30*time.Second, func() bool { return e.executed() >= after })
		if err := rt.Reshape(map[string][]int{"work": want}, nil); err != nil {
			t.Fatalf("Reshape %v: %v", want, err)
		}
		if got := rt.Tasks()["work"]; !slicesEqual(got, want) {
			t.Fatalf("Tasks after Reshape: %v, want %v", got, want)
		}
	}
	step(ids[:3], 5000)
	if err := rt.Reshape(map[string][]int{"split": slots["split"]}, nil); !errors.Is(err, local.ErrNotElastic) {
		t.Errorf("Reshape of a bolt without an autoscale policy: %v, want ErrNotElastic", err)
	}
	if err := rt.Reshape(map[string][]int{"work": {slots["split"][0]}}, nil); err == nil {
		t.Error("Reshape to another component's task id: no error")
	}
	step(ids[:1], 20000)
	galetest.Eventually(t, "the two leaving tasks retired", 30*time.Second, func() bool { return e.cleanups.Load() >= 2 })
	step(ids[1:3], 30000) // a retired task starts again; the first leaves
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	e.check(t, ids[:3])
	if _, ok := e.tasks.Load(ids[3]); ok {
		t.Errorf("task %d, never asked for, executed tuples", ids[3])
	}
	st := rt.Stats()
	for _, c := range st.Components {
		if c.Component == "work" && c.Tasks != 2 {
			t.Errorf("stats: work has %d tasks, want 2", c.Tasks)
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRuntime_ReshapeAcrossWorkers runs an elastic bolt over two runtimes
// connected as two workers: one of its tasks moves from a to b (b starts
// it, then a retires it and sends to b what it routes there), then a task
// is added on a. Every tuple is executed and acked once, none fails.
func TestRuntime_ReshapeAcrossWorkers(t *testing.T) {
	e := newElasticRun(t, 40000)
	h := e.h
	topo := decode(t, e.reg, `{"name": "reshape2", "config": {"topology.max.spout.pending": 200},
	  "spouts": [{"id": "gen", "type": "gen", "parallelism": 1}],
	  "bolts": [{"id": "work", "type": "elastic", "parallelism": 2, "autoscale": {"min": 1, "max": 3},
	     "inputs": [{"component": "gen"}]}]}`)
	slots, _ := topology.TaskSlots(topo)
	gen, w := slots["gen"][0], slots["work"]
	p := &pair{peers: map[string]*local.Runtime{}, owner: map[int]string{gen: "a", w[0]: "a", w[1]: "b"},
		acker: map[int]string{0: "a"}, spout: map[int]string{gen: "a"}, sent: map[string]int{}, lost: -1}
	mine := map[string]map[int]bool{"a": {gen: true, w[0]: true}, "b": {w[1]: true}}
	for _, name := range []string{"a", "b"} {
		rt, err := local.New(topo, local.Options{DrainTimeout: 10 * time.Second, RetireQuiet: 100 * time.Millisecond,
			Placement: &local.Placement{Worker: name, LocalTasks: mine[name], LocalAckers: map[int]bool{0: name == "a"},
				Remote: remote{p: p, self: name}}})
		if err != nil {
			t.Fatal(err)
		}
		p.peers[name] = rt
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, rt := range p.peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rt.Run(ctx); err != nil {
				t.Errorf("run: %v", err)
			}
		}()
	}
	reshape := func(name string, ids []int, local ...int) {
		t.Helper()
		here := map[int]bool{}
		for _, id := range local {
			here[id] = true
		}
		if err := p.peers[name].Reshape(map[string][]int{"work": ids}, here); err != nil {
			t.Fatalf("%s: Reshape: %v", name, err)
		}
	}
	galetest.Eventually(t, "tuples executed", 30*time.Second, func() bool { return e.executed() >= 5000 })
	// w[0] moves from a to b: its new owner first, as a cluster does
	p.mu.Lock()
	p.owner[w[0]] = "b"
	p.mu.Unlock()
	reshape("b", w[:2], w[0], w[1])
	reshape("a", w[:2])
	galetest.Eventually(t, "the moved task retired on a", 30*time.Second, func() bool { return e.cleanups.Load() >= 1 })
	galetest.Eventually(t, "tuples executed", 30*time.Second, func() bool { return e.executed() >= 20000 })
	p.mu.Lock()
	p.owner[w[2]] = "a"
	p.mu.Unlock()
	reshape("a", w, w[2])
	reshape("b", w, w[0], w[1])
	acked := func() int {
		n := 0
		h.acked.Range(func(any, any) bool { n++; return true })
		return n
	}
	galetest.Eventually(t, "every sentence acked", 60*time.Second, func() bool { return acked() >= int(h.count) })
	cancel()
	wg.Wait()
	e.check(t, w)
	var onB int
	for _, ts := range p.peers["b"].Stats().Tasks {
		if ts.Component == "work" {
			onB++
		}
	}
	if onB != 2 {
		t.Errorf("b runs %d tasks of work at the end, want 2", onB)
	}
}
