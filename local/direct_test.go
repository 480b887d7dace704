package local_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// router emits every input directly to the consumer task chosen by the
// input's sid, on its direct stream "routed".
type router struct {
	out   bolt.Collector
	tasks []int
}

func (r *router) Prepare(_ context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	r.out, r.tasks = out, tc.ComponentTasks["sink"]
	return nil
}

func (r *router) Execute(_ context.Context, t *tuple.Tuple) error {
	task := r.tasks[int(t.Value(1).(uint64))%len(r.tasks)]
	got := r.out.Send(bolt.Message{Stream: "routed", Anchors: []*tuple.Tuple{t}, Values: tuple.Values{t.Value(1)}, DirectTask: task, NeedTaskIDs: true})
	if len(got) != 1 || got[0] != task {
		panic("direct emit reached the wrong tasks")
	}
	r.out.Ack(t)
	return nil
}

func (r *router) Cleanup() error { return nil }

// sink records which task got which sid, and counts tick tuples.
type sink struct {
	tc    *topology.TaskContext
	out   bolt.Collector
	where *sync.Map
	ticks *atomic.Int64
}

func (s *sink) Prepare(_ context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	s.tc, s.out = tc, out
	return nil
}

func (s *sink) Execute(_ context.Context, t *tuple.Tuple) error {
	if t.IsTick() {
		s.ticks.Add(1)
		return nil
	}
	s.where.Store(t.Value(0).(uint64), s.tc.TaskID)
	s.out.Ack(t)
	return nil
}

func (s *sink) Cleanup() error { return nil }

func TestRuntime_DirectEmit(t *testing.T) {
	h := &harness{count: 300, reliable: true}
	reg := h.registry(t)
	var where sync.Map
	var ticks atomic.Int64
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name:          "router",
		Outputs:       registry.EmitsStreams(topology.Streams{"routed": {"sid"}}),
		DirectStreams: []string{"routed"},
		New:           func(*registry.NoConfig) (bolt.Bolt, error) { return &router{}, nil },
	})
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "sink",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return &sink{where: &where, ticks: &ticks}, nil },
	})
	topo := decode(t, reg, `{"name": "direct",
	  "spouts": [{"id": "gen", "type": "gen"}],
	  "bolts": [
	    {"id": "router", "type": "router", "inputs": [{"component": "gen"}]},
	    {"id": "sink", "type": "sink", "parallelism": 3,
	     "inputs": [{"component": "router", "stream": "routed", "grouping": "direct"}]}]}`)
	rt, err := run(t, topo, reg, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sinkTasks := rt.Tasks()["sink"]
	for sid := range uint64(300) {
		got, ok := where.Load(sid)
		if want := sinkTasks[int(sid)%len(sinkTasks)]; !ok || got.(int) != want {
			t.Errorf("sid %d went to task %v, want %d", sid, got, want)
		}
	}
	checkAckedOnce(t, h)
}

// idleSpout emits nothing and stops at a given time.
type idleSpout struct{ until time.Time }

func (s *idleSpout) Open(context.Context, *topology.TaskContext, spout.Collector) error { return nil }
func (s *idleSpout) NextTuple(context.Context) error {
	if time.Now().After(s.until) {
		return spout.ErrStop
	}
	return nil
}
func (s *idleSpout) Ack(any)      {}
func (s *idleSpout) Fail(any)     {}
func (s *idleSpout) Close() error { return nil }

func TestRuntime_Ticks(t *testing.T) {
	reg := registry.New()
	var where sync.Map
	var ticks atomic.Int64
	reg.MustRegister(registry.Spout[registry.NoConfig]{
		Name: "idle", Outputs: registry.Emits("x"),
		New: func(*registry.NoConfig) (spout.Spout, error) {
			return &idleSpout{until: time.Now().Add(500 * time.Millisecond)}, nil
		},
	})
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "sink",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return &sink{where: &where, ticks: &ticks}, nil },
	})
	topo := decode(t, reg, `{"name": "ticks", "spouts": [{"id": "idle", "type": "idle"}],
	  "bolts": [{"id": "sink", "type": "sink", "tick": "50ms", "inputs": [{"component": "idle"}]}]}`)
	if _, err := run(t, topo, reg, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// 500 ms at one tick per 50 ms: about 10; a loaded machine may skip some
	if n := ticks.Load(); n < 3 || n > 12 {
		t.Errorf("got %d tick tuples in 500ms at 50ms", n)
	}
}
