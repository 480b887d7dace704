package local_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// treeSpout emits trees of 5 tuples with SendTree and replays failed trees.
type treeSpout struct {
	out         spout.Collector
	next, trees int
	replay      []int
	pending     map[int]bool
	acks, fails map[int]int
	mu          *sync.Mutex
}

func (s *treeSpout) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out = out
	return nil
}

func (s *treeSpout) NextTuple(context.Context) error {
	var id int
	switch {
	case len(s.replay) > 0:
		id, s.replay = s.replay[0], s.replay[1:]
	case s.next < s.trees:
		id = s.next
		s.next++
	case len(s.pending) == 0:
		return spout.ErrStop
	default:
		return nil
	}
	msgs := make([]spout.Message, 5)
	for k := range msgs {
		msgs[k] = spout.Message{Values: tuple.Values{id, k}}
	}
	s.pending[id] = true
	s.out.(spout.TreeSender).SendTree(id, msgs)
	return nil
}

func (s *treeSpout) Ack(id any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acks[id.(int)]++
	delete(s.pending, id.(int))
}

func (s *treeSpout) Fail(id any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[id.(int)]++
	s.replay = append(s.replay, id.(int))
}

func (s *treeSpout) Close() error { return nil }

// TestRuntime_SendTree: a tree of several tuples is acked once, after all
// of them; one failed tuple fails the whole tree once, and it is replayed.
func TestRuntime_SendTree(t *testing.T) {
	var mu sync.Mutex
	sp := &treeSpout{trees: 50, pending: map[int]bool{}, acks: map[int]int{}, fails: map[int]int{}, mu: &mu}
	failedOnce := map[int]bool{}
	reg := registry.New()
	reg.MustRegister(registry.Spout[registry.NoConfig]{
		Name: "trees", Outputs: registry.Emits("tree", "k"),
		New: func(*registry.NoConfig) (spout.Spout, error) { return sp, nil },
	})
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "failk3",
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, t *tuple.Tuple, _ bolt.BasicCollector) error {
				tree, k := t.Value(0).(int), t.Value(1).(int)
				mu.Lock()
				defer mu.Unlock()
				if tree%7 == 3 && k == 3 && !failedOnce[tree] {
					failedOnce[tree] = true
					return errFailOnPurpose
				}
				return nil
			})), nil
		},
	})
	topo := decode(t, reg, `{"name": "trees", "spouts": [{"id": "s", "type": "trees"}],
	  "bolts": [{"id": "b", "type": "failk3", "parallelism": 2, "inputs": [{"component": "s"}]}]}`)
	rt, err := run(t, topo, reg, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for id := range 50 {
		wantFails := 0
		if id%7 == 3 {
			wantFails = 1
		}
		if sp.acks[id] != 1 || sp.fails[id] != wantFails {
			t.Errorf("tree %d: acked %d failed %d, want 1 and %d", id, sp.acks[id], sp.fails[id], wantFails)
		}
	}
	if st := rt.Stats().Component("s"); st.Acked != 50 || st.Emitted != uint64(5*(50+len(failedOnce))) {
		t.Errorf("spout metrics: acked %d (want 50 trees), emitted %d (want %d tuples)", st.Acked, st.Emitted, 5*(50+len(failedOnce)))
	}
}

var errFailOnPurpose = errorString("failed on purpose")

type errorString string

func (e errorString) Error() string { return string(e) }
