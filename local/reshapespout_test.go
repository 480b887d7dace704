package local_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// partSource is a source of ids split into partitions (id i is in
// partition i % parts), each owned by one spout task at a time.
type partSource struct {
	mu      sync.Mutex
	next    []uint64 // per partition: the next id's rank in it
	owner   []int    // per partition: the task that holds it, 0 none
	perPart uint64
	emitted sync.Map // id -> *atomic.Int64
	acked   sync.Map // id -> *atomic.Int64
	fails   atomic.Int64
	closes  atomic.Int64
	byTask  sync.Map // task id -> *atomic.Int64 (emits)
	resizes atomic.Int64
}

func count(m *sync.Map, k any) {
	v, _ := m.LoadOrStore(k, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// partSpout is a resizable spout over a partSource: it gives a partition
// up once none of its tuples is pending, and takes one up once no task
// holds it.
type partSpout struct {
	src     *partSource
	id      int
	n, idx  int
	out     spout.Collector
	held    map[int]bool
	pending map[int]int // partition -> trees pending
	replay  []uint64
	rr      int
}

func (s *partSpout) Open(_ context.Context, tc *topology.TaskContext, out spout.Collector) error {
	s.id, s.n, s.idx, s.out = tc.TaskID, tc.Component.Parallelism, tc.TaskIndex, out
	s.held, s.pending = map[int]bool{}, map[int]int{}
	return nil
}

func (s *partSpout) Resize(n, index int) { s.n, s.idx = n, index; s.src.resizes.Add(1) }

func (s *partSpout) mine(p int) bool { return s.idx >= 0 && p%s.n == s.idx }

func (s *partSpout) NextTuple(context.Context) error {
	src := s.src
	src.mu.Lock()
	for p := range src.owner {
		switch {
		case s.held[p] && !s.mine(p) && s.pending[p] == 0:
			delete(s.held, p)
			src.owner[p] = 0
		case !s.held[p] && s.mine(p) && src.owner[p] == 0:
			s.held[p] = true
			src.owner[p] = s.id
		}
	}
	var id uint64
	found := false
	if n := len(s.replay); n > 0 {
		id, s.replay, found = s.replay[n-1], s.replay[:n-1], true
	}
	for i := 0; i < len(src.owner) && !found; i++ {
		p := (s.rr + i) % len(src.owner)
		if s.held[p] && s.mine(p) && src.next[p] < src.perPart {
			id, found = uint64(p)+uint64(len(src.owner))*src.next[p], true
			src.next[p]++
			s.rr = p + 1
		}
	}
	src.mu.Unlock()
	if !found {
		if s.idx < 0 && len(s.held) == 0 {
			return spout.ErrStop
		}
		return nil
	}
	s.pending[int(id%uint64(len(src.owner)))]++
	count(&src.emitted, id)
	count(&src.byTask, s.id)
	s.out.Emit(tuple.Values{"s", id}, id)
	return nil
}

func (s *partSpout) Ack(id any) {
	s.pending[int(id.(uint64)%uint64(len(s.src.owner)))]--
	count(&s.src.acked, id)
}

func (s *partSpout) Fail(id any) {
	s.src.fails.Add(1)
	s.replay = append(s.replay, id.(uint64))
}

func (s *partSpout) Close() error { s.src.closes.Add(1); return nil }

// TestRuntime_ReshapeSpout changes a resizable spout's tasks 1 -> 3 -> 2
// while it emits: every id is emitted, executed and acked once, none
// fails, the added tasks emit, and the one that leaves hands its
// partitions over and stops (Close) while the runtime goes on.
func TestRuntime_ReshapeSpout(t *testing.T) {
	const parts, perPart = 8, 4000
	src := &partSource{next: make([]uint64, parts), owner: make([]int, parts), perPart: perPart}
	e := newElasticRun(t, 0)
	e.reg.MustRegister(registry.Spout[registry.NoConfig]{
		Name: "parts", Outputs: registry.Emits("sentence", "sid"), Resizable: true,
		New: func(*registry.NoConfig) (spout.Spout, error) { return &partSpout{src: src}, nil },
	})
	topo := decode(t, e.reg, `{"name": "reshape-spout", "config": {"topology.max.spout.pending": 100},
	  "spouts": [{"id": "parts", "type": "parts", "parallelism": 1, "autoscale": {"min": 1, "max": 4}}],
	  "bolts": [{"id": "work", "type": "elastic", "parallelism": 2, "inputs": [{"component": "parts"}]}]}`)
	if !topo.Elastic("parts") {
		t.Fatal("the resizable spout is not elastic")
	}
	ids, _ := topology.TaskSlots(topo)
	p := ids["parts"]
	rt, err := local.New(topo, local.Options{DrainTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	emitted := func() int64 {
		var n int64
		src.emitted.Range(func(_, v any) bool { n += v.(*atomic.Int64).Load(); return true })
		return n
	}
	step := func(want []int, after int64) {
		t.Helper()
		galetest.Eventually(t, "ids emitted", 30*time.Second, func() bool { return emitted() >= after })
		if err := rt.Reshape(map[string][]int{"parts": want}, nil); err != nil {
			t.Fatalf("Reshape %v: %v", want, err)
		}
	}
	step(p[:3], 3000)
	step(p[1:3], 12000) // the first task leaves: its partitions go to the others
	galetest.Eventually(t, "the leaving task stopped", 30*time.Second, func() bool { return src.closes.Load() >= 1 })
	total := int64(parts * perPart)
	galetest.Eventually(t, "every id acked", 60*time.Second, func() bool {
		var n int64
		src.acked.Range(func(any, any) bool { n++; return true })
		return n >= total
	})
	st := rt.Stats()
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v", err)
	}
	if n := src.fails.Load(); n != 0 {
		t.Errorf("%d trees failed across the changes (replayed); want 0", n)
	}
	for i := range uint64(total) {
		for name, m := range map[string]*sync.Map{"emitted": &src.emitted, "acked": &src.acked, "executed": &e.by} {
			if v, ok := m.Load(i); !ok || v.(*atomic.Int64).Load() != 1 {
				t.Fatalf("id %d %s %v times, want once", i, name, v)
			}
		}
	}
	for _, id := range p[:3] {
		if v, ok := src.byTask.Load(id); !ok || v.(*atomic.Int64).Load() == 0 {
			t.Errorf("spout task %d emitted nothing", id)
		}
	}
	if _, ok := src.byTask.Load(p[3]); ok {
		t.Errorf("spout task %d, never asked for, emitted", p[3])
	}
	for _, c := range st.Components {
		if c.Component == "parts" && c.Tasks != 2 {
			t.Errorf("stats: parts has %d tasks, want 2", c.Tasks)
		}
	}
	// 1 -> 3: the two new tasks and the one that stays; 3 -> 2: all three
	if n := src.resizes.Load(); n != 6 {
		t.Errorf("%d Resize calls, want 6", n)
	}
}
