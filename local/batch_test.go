package local_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// batchSpout sends batches of records with SendBatch (task k of n sends
// the batches ≡ k mod n) and replays failed batches.
type batchSpout struct {
	out            spout.Collector
	batches, recs  int
	next, step     int
	replay         []int
	pending        map[int]bool
	acks, fails    map[int]int
	mu             *sync.Mutex
	partitionOfBat func(int) int32
	empty          func(b int) bool // batches sent without tuples
}

func batchID(b int) string { return fmt.Sprintf("t/%05d/%012d", b%3, b) }

func (s *batchSpout) Open(_ context.Context, tc *topology.TaskContext, out spout.Collector) error {
	s.out, s.next, s.step = out, tc.TaskIndex, tc.Component.Parallelism
	return nil
}

func (s *batchSpout) NextTuple(context.Context) error {
	var b int
	switch {
	case len(s.replay) > 0:
		b, s.replay = s.replay[0], s.replay[1:]
	case s.next < s.batches:
		b = s.next
		s.next += s.step
	case len(s.pending) == 0:
		return spout.ErrStop
	default:
		return nil
	}
	meta := &tuple.BatchMeta{ID: batchID(b), Source: "t", Partition: int32(b % 3), Seq: uint64(b),
		Start: int64(b * s.recs), End: int64((b + 1) * s.recs), Records: s.recs}
	msgs := make([]spout.Message, s.recs)
	if s.empty != nil && s.empty(b) {
		msgs, meta.Records = nil, 0
	}
	for i := range msgs {
		msgs[i] = spout.Message{Values: tuple.Values{b, i}, BatchID: meta.ID, ID: fmt.Sprintf("t/%d/%d", b%3, b*s.recs+i)}
	}
	s.mu.Lock()
	s.pending[b] = true
	s.mu.Unlock()
	s.out.(spout.BatchSender).SendBatch(b, meta, msgs)
	return nil
}

func (s *batchSpout) Ack(id any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acks[id.(int)]++
	delete(s.pending, id.(int))
}

func (s *batchSpout) Fail(id any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[id.(int)]++
	s.replay = append(s.replay, id.(int))
}

func (s *batchSpout) Close() error { return nil }

// xformBolt drops record i%5 == 0, doubles i%5 == 1, passes the others; it
// fails the first attempt of the records listed in failOnce.
type xformBolt struct {
	out      bolt.Collector
	failOnce *sync.Map // "b/i" -> bool (true once failed)
	bad      chan string
}

func (x *xformBolt) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	x.out = out
	return nil
}

func (x *xformBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	if t.IsBatchEnd() {
		x.bad <- "a plain bolt executed an end marker"
	}
	b, i := t.Values[0].(int), t.Values[1].(int)
	if v, ok := x.failOnce.Load(fmt.Sprintf("%d/%d", b, i)); ok && !v.(bool) {
		x.failOnce.Store(fmt.Sprintf("%d/%d", b, i), true)
		x.out.Fail(t)
		return nil
	}
	switch i % 5 {
	case 0:
	case 1:
		x.out.Emit(t, tuple.Values{b, i})
		x.out.Emit(t, tuple.Values{b, i})
	default:
		x.out.Emit(t, tuple.Values{b, i})
	}
	x.out.Ack(t)
	return nil
}

func (x *xformBolt) Cleanup() error { return nil }

// finish is one FinishBatch call seen by the sink.
type finish struct {
	task     int
	batch    string
	attempt  uint64
	owner    bool
	failed   bool
	executed int
	ids      []string
	meta     tuple.BatchMeta
}

// sinkBolt buffers each attempt's tuples and records FinishBatch calls.
type sinkBolt struct {
	out  bolt.Collector
	task int
	buf  map[[2]any][]*tuple.Tuple
	mu   *sync.Mutex
	seen *[]finish
}

func (s *sinkBolt) Prepare(_ context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	s.out, s.task, s.buf = out, tc.TaskID, map[[2]any][]*tuple.Tuple{}
	return nil
}

func (s *sinkBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	k := [2]any{t.BatchID, t.Attempt()}
	s.buf[k] = append(s.buf[k], t)
	return nil
}

func (s *sinkBolt) FinishBatch(_ context.Context, b *bolt.Batch) error {
	k := [2]any{b.Meta.ID, b.Attempt}
	ts := s.buf[k]
	delete(s.buf, k)
	f := finish{task: s.task, batch: b.Meta.ID, attempt: b.Attempt, owner: b.Owner, failed: b.Failed,
		executed: b.Executed, meta: *b.Meta}
	for _, t := range ts {
		f.ids = append(f.ids, t.ID)
	}
	slices.Sort(f.ids)
	s.mu.Lock()
	*s.seen = append(*s.seen, f)
	s.mu.Unlock()
	// as the sinks do: every tuple and marker at once, from another
	// goroutine (every other batch) or from FinishBatch itself
	if b.Meta.Seq%2 == 1 {
		go bolt.Settle(s.out, !b.Failed, ts, b.End)
	} else {
		bolt.Settle(s.out, !b.Failed, ts, b.End)
	}
	return nil
}

func (s *sinkBolt) Cleanup() error { return nil }

// expectedIDs are the ids of batch b's tuples at the sink.
func expectedIDs(b, recs int) []string {
	var ids []string
	for i := range recs {
		id := fmt.Sprintf("t/%d/%d", b%3, b*recs+i)
		switch i % 5 {
		case 0:
		case 1:
			ids = append(ids, id+"/0", id+"/1")
		default:
			ids = append(ids, id+"/0")
		}
	}
	slices.Sort(ids)
	return ids
}

type batchHarness struct {
	spout    *batchSpout
	failOnce sync.Map
	mu       sync.Mutex
	seen     []finish
	bad      chan string
}

func newBatchHarness(batches, recs int) *batchHarness {
	h := &batchHarness{bad: make(chan string, 100)}
	h.spout = &batchSpout{batches: batches, recs: recs}
	return h
}

func (h *batchHarness) registry() *registry.Registry {
	r := registry.New()
	var mu sync.Mutex
	acks, fails := map[int]int{}, map[int]int{}
	r.MustRegister(registry.Spout[registry.NoConfig]{
		Name: "batches", Outputs: registry.Emits("b", "i"),
		New: func(*registry.NoConfig) (spout.Spout, error) {
			s := *h.spout
			s.pending, s.acks, s.fails, s.mu = map[int]bool{}, acks, fails, &mu
			return &s, nil
		},
	})
	h.spout.acks, h.spout.fails, h.spout.mu = acks, fails, &mu
	r.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "xform", Outputs: registry.Emits("b", "i"),
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return &xformBolt{failOnce: &h.failOnce, bad: h.bad}, nil },
	})
	r.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "sink",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return &sinkBolt{mu: &h.mu, seen: &h.seen}, nil },
	})
	return r
}

const batchTopology = `{"name": "batches", "config": {"topology.acker.executors": %d, "topology.max.spout.pending": 4},
  "spouts": [{"id": "src", "type": "batches", "parallelism": 2}],
  "bolts": [
    {"id": "xform", "type": "xform", "parallelism": 3, "inputs": [{"component": "src"}]},
    {"id": "sink", "type": "sink", "parallelism": 2, "inputs": [{"component": "xform", "grouping": "batch"}]}]}`

// TestRuntime_Batches: every batch reaches its sink task whole (through a
// shuffled bolt that filters and multiplies), FinishBatch comes once per
// attempt at every sink task, only the owner gets tuples, and a batch with
// a failed tuple is finished as failed, replayed, then written once.
func TestRuntime_Batches(t *testing.T) {
	const batches, recs = 40, 50
	h := newBatchHarness(batches, recs)
	for _, b := range []int{3, 17, 30} {
		h.failOnce.Store(fmt.Sprintf("%d/%d", b, 7), false)
	}
	reg := h.registry()
	_, err := run(t, decode(t, reg, fmt.Sprintf(batchTopology, 1)), reg, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-h.bad:
		t.Fatal(msg)
	default:
	}
	h.spout.mu.Lock()
	defer h.spout.mu.Unlock()
	for b := range batches {
		if h.spout.acks[b] != 1 {
			t.Errorf("batch %d acked %d times", b, h.spout.acks[b])
		}
	}
	for _, b := range []int{3, 17, 30} {
		if h.spout.fails[b] != 1 {
			t.Errorf("batch %d with a failed tuple failed %d times, want 1", b, h.spout.fails[b])
		}
	}
	written := map[string]int{}
	failedAtOwner := map[string]int{}
	calls := map[[2]any]int{}
	for _, f := range h.seen {
		calls[[2]any{f.batch, f.attempt}]++
		if !f.owner && (f.executed != 0 || len(f.ids) != 0) {
			t.Errorf("batch %s: task %d is not its owner but executed %d tuples", f.batch, f.task, f.executed)
		}
		if f.executed != len(f.ids) {
			t.Errorf("batch %s: Executed %d, the bolt got %d tuples", f.batch, f.executed, len(f.ids))
		}
		if !f.owner {
			continue
		}
		if f.failed {
			failedAtOwner[f.batch]++
			continue
		}
		written[f.batch]++
		var b int
		fmt.Sscanf(f.batch[len("t/00000/"):], "%d", &b)
		if want := expectedIDs(b, recs); !slices.Equal(f.ids, want) {
			t.Errorf("batch %s written with %d tuples, want %d", f.batch, len(f.ids), len(want))
		}
		if f.meta.ID != f.batch || f.meta.Origin != "src" || f.meta.Start != int64(b*recs) || f.meta.Records != recs {
			t.Errorf("batch %s meta %+v", f.batch, f.meta)
		}
	}
	for b := range batches {
		if written[batchID(b)] != 1 {
			t.Errorf("batch %s written %d times, want once", batchID(b), written[batchID(b)])
		}
	}
	for _, b := range []int{3, 17, 30} {
		if failedAtOwner[batchID(b)] != 1 {
			t.Errorf("batch %d: the owner saw %d failed attempts, want 1", b, failedAtOwner[batchID(b)])
		}
	}
	for k, n := range calls {
		if n != 2 {
			t.Errorf("attempt %v: FinishBatch called %d times over 2 sink tasks, want 2", k, n)
		}
	}
}

// TestRuntime_BatchesWithoutAcking: with no ackers the batches still
// finish, each once, whole.
func TestRuntime_BatchesWithoutAcking(t *testing.T) {
	const batches, recs = 20, 30
	h := newBatchHarness(batches, recs)
	reg := h.registry()
	_, err := run(t, decode(t, reg, fmt.Sprintf(batchTopology, 0)), reg, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h.writtenOnce(t, batches, recs)
}

// writtenOnce checks that every batch was written (finished, not failed,
// by its owner) once, with its tuples.
func (h *batchHarness) writtenOnce(t *testing.T, batches, recs int) {
	t.Helper()
	written := map[string]int{}
	for _, f := range h.seen {
		if !f.owner || f.failed {
			continue
		}
		written[f.batch]++
		var b int
		fmt.Sscanf(f.batch[len("t/00000/"):], "%d", &b)
		if want := expectedIDs(b, recs); !slices.Equal(f.ids, want) {
			t.Errorf("batch %s written with %d tuples, want %d", f.batch, len(f.ids), len(want))
		}
	}
	for b := range batches {
		if written[batchID(b)] != 1 {
			t.Fatalf("batch %s written %d times, want once", batchID(b), written[batchID(b)])
		}
	}
}

// TestRuntime_BatchesReshapeElastic changes the tasks of an elastic bolt
// that another bolt reads (xform, read by the batch sink) 1 -> 3 -> 2 -> 1
// while batches flow: the sink tasks learn from the markers how many
// xform tasks took part in each batch, so every batch finishes, none
// fails, and each is written once, whole.
func TestRuntime_BatchesReshapeElastic(t *testing.T) {
	const batches, recs = 3000, 20
	h := newBatchHarness(batches, recs)
	reg := h.registry()
	topo := decode(t, reg, `{"name": "batches", "config": {"topology.acker.executors": 1, "topology.max.spout.pending": 4},
  "spouts": [{"id": "src", "type": "batches", "parallelism": 2}],
  "bolts": [
    {"id": "xform", "type": "xform", "parallelism": 1, "autoscale": {"min": 1, "max": 4}, "inputs": [{"component": "src"}]},
    {"id": "sink", "type": "sink", "parallelism": 2, "inputs": [{"component": "xform", "grouping": "batch"}]}]}`)
	if !topo.Elastic("xform") {
		t.Fatal("xform is not elastic")
	}
	slots, _ := topology.TaskSlots(topo)
	x := slots["xform"]
	rt, err := local.New(topo, local.Options{DrainTimeout: 10 * time.Second, RetireQuiet: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	acked := func() int {
		h.spout.mu.Lock()
		defer h.spout.mu.Unlock()
		return len(h.spout.acks)
	}
	for i, step := range []struct {
		after int
		tasks []int
	}{{300, x[:3]}, {1200, x[1:3]}, {2100, x[2:3]}} {
		galetest.Eventually(t, "batches acked", 60*time.Second, func() bool { return acked() >= step.after })
		if err := rt.Reshape(map[string][]int{"xform": step.tasks}, nil); err != nil {
			t.Fatalf("step %d: Reshape %v: %v", i, step.tasks, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	select {
	case msg := <-h.bad:
		t.Fatal(msg)
	default:
	}
	h.spout.mu.Lock()
	defer h.spout.mu.Unlock()
	for b := range batches {
		if h.spout.acks[b] != 1 || h.spout.fails[b] != 0 {
			t.Fatalf("batch %d acked %d times, failed %d, want 1 and 0", b, h.spout.acks[b], h.spout.fails[b])
		}
	}
	h.writtenOnce(t, batches, recs)
}
