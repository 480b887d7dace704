package local_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

var words = strings.Fields("the quick brown fox jumps over the lazy dog while a cat sleeps in the sun")

// sentence i is a pure function of i, so tests can compute expectations
// independently of the engine.
func sentence(i uint64) string {
	n := 3 + int(i%5)
	out := make([]string, n)
	for k := range out {
		out[k] = words[(int(i)*7+k*3)%len(words)]
	}
	return strings.Join(out, " ")
}

// genSpout emits sentences 0..count-1 (task k of n takes i ≡ k mod n) with
// message ids, replays failed ids first, and stops once all are acked.
type genSpout struct {
	count    uint64
	reliable bool
	next     uint64
	step     uint64
	replay   []uint64
	pending  map[uint64]bool
	acked    *sync.Map // id -> times acked (shared between tasks)
	fails    *atomic.Int64
	out      spout.Collector
}

func (g *genSpout) Open(_ context.Context, tc *topology.TaskContext, out spout.Collector) error {
	g.out = out
	g.next = uint64(tc.TaskIndex)
	g.step = uint64(tc.Component.Parallelism)
	g.pending = map[uint64]bool{}
	return nil
}

func (g *genSpout) NextTuple(context.Context) error {
	var id uint64
	switch {
	case len(g.replay) > 0:
		id, g.replay = g.replay[0], g.replay[1:]
	case g.count == 0 || g.next < g.count:
		id = g.next
		g.next += g.step
	default:
		if len(g.pending) == 0 {
			return spout.ErrStop
		}
		return nil
	}
	var msgID any
	if g.reliable {
		msgID = id
		g.pending[id] = true
	}
	g.out.Emit(tuple.Values{sentence(id), id}, msgID)
	return nil
}

func (g *genSpout) Ack(msgID any) {
	id := msgID.(uint64)
	delete(g.pending, id)
	v, _ := g.acked.LoadOrStore(id, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (g *genSpout) Fail(msgID any) {
	g.fails.Add(1)
	g.replay = append(g.replay, msgID.(uint64))
}

func (g *genSpout) Close() error { return nil }

// wordKey identifies word k of sentence i.
type wordKey struct {
	sent uint64
	k    int
}

// harness holds the shared state of the test components of one run.
type harness struct {
	count      uint64
	reliable   bool
	acked      sync.Map
	fails      atomic.Int64
	failRatio  uint32 // per mille of word tuples failed the first time seen
	seen       sync.Map
	counts     sync.Map // word -> *atomic.Int64, counted once per wordKey
	counted    sync.Map // wordKey -> bool
	panicOn    atomic.Int64
	holdOnce   sync.Map // wordKeys never acked the first time (timeout test)
	holdRatio  uint32
	slow       time.Duration
	executed   atomic.Int64
	allTasks   sync.Map // task id -> count, for the all grouping
	globalTask sync.Map
}

func (h *harness) registry(t *testing.T) *registry.Registry {
	r := registry.New()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Register(registry.Spout[registry.NoConfig]{
		Name: "gen", Outputs: registry.Emits("sentence", "sid"),
		New: func(*registry.NoConfig) (spout.Spout, error) {
			return &genSpout{count: h.count, reliable: h.reliable, acked: &h.acked, fails: &h.fails}, nil
		},
	}))
	must(r.Register(registry.Bolt[registry.NoConfig]{
		Name: "split", Outputs: registry.Emits("word", "sid", "k"),
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
				for k, w := range strings.Fields(t.String("sentence")) {
					out.Emit(tuple.Values{w, t.Value(1), k})
				}
				return nil
			})), nil
		},
	}))
	must(r.Register(registry.Bolt[registry.NoConfig]{
		Name: "chaos", Outputs: registry.PassThrough(),
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return &chaosBolt{h: h}, nil },
	}))
	must(r.Register(registry.Bolt[registry.NoConfig]{
		Name: "count",
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, t *tuple.Tuple, _ bolt.BasicCollector) error {
				h.executed.Add(1)
				if h.slow > 0 {
					time.Sleep(h.slow)
				}
				key := wordKey{t.Value(1).(uint64), t.Value(2).(int)}
				if _, dup := h.counted.LoadOrStore(key, true); !dup {
					v, _ := h.counts.LoadOrStore(t.String("word"), new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
				}
				return nil
			})), nil
		},
	}))
	must(r.Register(registry.Bolt[registry.NoConfig]{
		Name: "tasks",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return &taskRecorder{h: h}, nil },
	}))
	return r
}

// chaosBolt fails, panics on or holds (never acks) chosen word tuples the
// first time it sees them, and passes everything else on.
type chaosBolt struct {
	h   *harness
	out bolt.Collector
}

func (c *chaosBolt) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	c.out = out
	return nil
}

func hashKey(k wordKey) uint32 {
	f := fnv.New32a()
	fmt.Fprintf(f, "%d/%d", k.sent, k.k)
	return f.Sum32()
}

func (c *chaosBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	key := wordKey{t.Value(1).(uint64), t.Value(2).(int)}
	_, seen := c.h.seen.LoadOrStore(key, true)
	if !seen {
		hk := hashKey(key) % 1000
		switch {
		case hk < c.h.failRatio:
			c.out.Fail(t)
			return nil
		case c.h.panicOn.Load() == int64(key.sent)*100+int64(key.k)+1: // panicOn holds key+1; 0 means never
			panic("boom on purpose")
		case hk >= 1000-c.h.holdRatio:
			c.h.holdOnce.Store(key, true)
			return nil // never acked: the tree must time out
		}
	}
	c.out.Emit(t, t.Values)
	c.out.Ack(t)
	return nil
}

func (c *chaosBolt) Cleanup() error { return nil }

type taskRecorder struct {
	h   *harness
	tc  *topology.TaskContext
	out bolt.Collector
}

func (r *taskRecorder) Prepare(_ context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	r.tc, r.out = tc, out
	return nil
}

func (r *taskRecorder) Execute(_ context.Context, t *tuple.Tuple) error {
	m := &r.h.allTasks
	if r.tc.Component.ID == "global" {
		m = &r.h.globalTask
	}
	v, _ := m.LoadOrStore(r.tc.TaskID, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	r.out.Ack(t)
	return nil
}

func (r *taskRecorder) Cleanup() error { return nil }

func decode(t *testing.T, reg *registry.Registry, js string) *topology.Topology {
	t.Helper()
	topo, err := topology.Decode([]byte(js), reg)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return topo
}

func run(t *testing.T, topo *topology.Topology, reg *registry.Registry, limit time.Duration) (*local.Runtime, error) {
	t.Helper()
	rt, err := local.New(topo, local.Options{DrainTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	err = rt.Run(ctx)
	if ctx.Err() != nil {
		t.Fatalf("run did not finish within %v (spouts never stopped)", limit)
	}
	return rt, err
}

func wordcountJSON(config string) string {
	return `{"name": "wc", "config": {` + config + `},
	  "spouts": [{"id": "gen", "type": "gen", "parallelism": 2}],
	  "bolts": [
	    {"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "gen"}]},
	    {"id": "chaos", "type": "chaos", "parallelism": 2, "inputs": [{"component": "split", "grouping": "fields", "fields": ["sid"]}]},
	    {"id": "count", "type": "count", "parallelism": 3, "inputs": [{"component": "chaos", "grouping": "fields", "fields": ["word"]}]}
	  ]}`
}

func expectedCounts(n uint64) map[string]int64 {
	want := map[string]int64{}
	for i := range n {
		for _, w := range strings.Fields(sentence(i)) {
			want[w]++
		}
	}
	return want
}

func checkCounts(t *testing.T, h *harness) {
	t.Helper()
	want := expectedCounts(h.count)
	got := map[string]int64{}
	h.counts.Range(func(k, v any) bool { got[k.(string)] = v.(*atomic.Int64).Load(); return true })
	if len(got) != len(want) {
		t.Errorf("counted %d distinct words, want %d", len(got), len(want))
	}
	for w, n := range want {
		if got[w] != n {
			t.Errorf("count[%q] = %d, want %d", w, got[w], n)
		}
	}
}

func checkAckedOnce(t *testing.T, h *harness) {
	t.Helper()
	for i := range h.count {
		v, ok := h.acked.Load(i)
		if !ok {
			t.Errorf("sentence %d never acked", i)
			continue
		}
		if n := v.(*atomic.Int64).Load(); n != 1 {
			t.Errorf("sentence %d acked %d times, want 1", i, n)
		}
	}
}

// TestRuntime_WordCountWithFailures is the end-to-end proof: 5 % of word
// tuples fail the first time they are seen; every sentence is eventually
// acked exactly once and the counts equal counts computed independently.
func TestRuntime_WordCountWithFailures(t *testing.T) {
	h := &harness{count: 3000, reliable: true, failRatio: 50}
	reg := h.registry(t)
	rt, err := run(t, decode(t, reg, wordcountJSON(`"topology.acker.executors": 2`)), reg, 60*time.Second)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	checkAckedOnce(t, h)
	checkCounts(t, h)
	st := rt.Stats()
	gen := st.Component("gen")
	if h.fails.Load() == 0 || gen.Failed != uint64(h.fails.Load()) {
		t.Errorf("spout fails: metrics %d, seen by spout %d; want equal and > 0", gen.Failed, h.fails.Load())
	}
	if gen.Acked != h.count {
		t.Errorf("spout acked metric = %d, want %d", gen.Acked, h.count)
	}
	if c := st.Component("chaos"); c.Failed == 0 || c.Executed < c.Acked+c.Failed {
		t.Errorf("chaos bolt metrics inconsistent: %+v", c)
	}
}

// TestRuntime_TimeoutReplays holds some tuples without acking them: their
// trees time out, the spout's Fail replays them, and the run completes.
func TestRuntime_TimeoutReplays(t *testing.T) {
	h := &harness{count: 400, reliable: true, holdRatio: 20}
	reg := h.registry(t)
	rt, err := run(t, decode(t, reg, wordcountJSON(`"topology.message.timeout.secs": 1`)), reg, 60*time.Second)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	held := 0
	h.holdOnce.Range(func(any, any) bool { held++; return true })
	if held == 0 {
		t.Fatal("test setup: no tuple was held")
	}
	gen := rt.Stats().Component("gen")
	if gen.TimedOut == 0 {
		t.Errorf("no tree timed out although %d tuples were never acked", held)
	}
	checkAckedOnce(t, h)
	checkCounts(t, h)
}

// TestRuntime_PanicFailsTuple: a panic in Execute is recovered, counted,
// fails the tuple (replayed), and the worker keeps running.
func TestRuntime_PanicFailsTuple(t *testing.T) {
	h := &harness{count: 200, reliable: true}
	h.panicOn.Store(17*100 + 1 + 1) // word 1 of sentence 17
	reg := h.registry(t)
	rt, err := run(t, decode(t, reg, wordcountJSON("")), reg, 60*time.Second)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	c := rt.Stats().Component("chaos")
	if c.Panics != 1 || c.Errors < 1 {
		t.Errorf("chaos panics=%d errors=%d, want 1 panic reported", c.Panics, c.Errors)
	}
	if len(c.LastErrors) == 0 || !strings.Contains(c.LastErrors[0].Message, "boom on purpose") {
		t.Errorf("last errors %v do not show the panic", c.LastErrors)
	}
	checkAckedOnce(t, h)
	checkCounts(t, h)
}

// TestRuntime_AckingDisabled: with zero ackers, reliable emits are acked
// once emitted and everything still flows.
func TestRuntime_AckingDisabled(t *testing.T) {
	h := &harness{count: 1000, reliable: true}
	reg := h.registry(t)
	rt, err := run(t, decode(t, reg, wordcountJSON(`"topology.acker.executors": 0`)), reg, 60*time.Second)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	checkAckedOnce(t, h)
	checkCounts(t, h) // drain waits for the queues even without trees
	if got := rt.Stats().Component("gen").Acked; got != h.count {
		t.Errorf("acked %d, want %d", got, h.count)
	}
}

// TestRuntime_Unreliable: spouts without message ids; drain still delivers
// every queued tuple before stopping.
func TestRuntime_Unreliable(t *testing.T) {
	h := &harness{count: 1000, reliable: false}
	reg := h.registry(t)
	if _, err := run(t, decode(t, reg, wordcountJSON("")), reg, 60*time.Second); err != nil {
		t.Fatalf("run: %v", err)
	}
	checkCounts(t, h)
}

// TestRuntime_Backpressure: a slow bolt bounds what the spout can get
// ahead of it to the queue capacity, with acking off (no max pending).
func TestRuntime_Backpressure(t *testing.T) {
	h := &harness{count: 0, reliable: false, slow: 200 * time.Microsecond}
	reg := h.registry(t)
	topo := decode(t, reg, `{"name": "bp", "config": {"topology.acker.executors": 0,
	    "topology.executor.receive.buffer.size": 256, "topology.transfer.batch.size": 16},
	  "spouts": [{"id": "gen", "type": "gen"}],
	  "bolts": [
	    {"id": "split", "type": "split", "inputs": [{"component": "gen"}]},
	    {"id": "count", "type": "count", "inputs": [{"component": "split"}]}]}`)
	rt, err := local.New(topo, local.Options{DrainTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	var maxGap int64
	for range 20 {
		time.Sleep(50 * time.Millisecond)
		st := rt.Stats()
		words := int64(st.Component("split").Emitted)
		gap := words - h.executed.Load()
		maxGap = max(maxGap, gap)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	// the count bolt's queue (256) + split's queue (256 sentences × up to 7
	// words) + one batch per buffer: a few thousand words at most, while an
	// unbounded spout would be millions ahead.
	const bound = 256 + 256*7 + 3*16*7
	if maxGap > bound {
		t.Errorf("spout ran %d words ahead of the slow bolt; bound %d", maxGap, bound)
	}
	if h.executed.Load() == 0 {
		t.Error("slow bolt executed nothing")
	}
}

// TestRuntime_AllAndGlobalGroupings: all reaches every task, global only
// the lowest task id.
func TestRuntime_AllAndGlobalGroupings(t *testing.T) {
	h := &harness{count: 100, reliable: true}
	reg := h.registry(t)
	topo := decode(t, reg, `{"name": "groupings",
	  "spouts": [{"id": "gen", "type": "gen"}],
	  "bolts": [
	    {"id": "all", "type": "tasks", "parallelism": 3, "inputs": [{"component": "gen", "grouping": "all"}]},
	    {"id": "global", "type": "tasks", "parallelism": 3, "inputs": [{"component": "gen", "grouping": "global"}]}]}`)
	rt, err := run(t, topo, reg, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range rt.Tasks()["all"] {
		v, ok := h.allTasks.Load(id)
		if !ok || v.(*atomic.Int64).Load() != 100 {
			t.Errorf("all grouping: task %d got %v tuples, want 100", id, v)
		}
	}
	gt := rt.Tasks()["global"]
	for _, id := range gt {
		v, ok := h.globalTask.Load(id)
		if id == gt[0] {
			if !ok || v.(*atomic.Int64).Load() != 100 {
				t.Errorf("global grouping: lowest task %d got %v, want 100", id, v)
			}
		} else if ok {
			t.Errorf("global grouping: task %d (not the lowest) got tuples", id)
		}
	}
	checkAckedOnce(t, h)
}

// TestRuntime_NotValidated rejects a topology that skipped validation.
func TestRuntime_NotValidated(t *testing.T) {
	topo := &topology.Topology{Name: "x", Spouts: []*topology.Component{{ID: "s", Type: "gen"}}}
	_, err := local.New(topo, local.Options{})
	if !errors.Is(err, local.ErrNotValidated) {
		t.Fatalf("err = %v, want ErrNotValidated", err)
	}
}

// TestRuntime_ErrorLogRateLimit: every error is counted and the last
// ones kept, but only a few per second are logged.
func TestRuntime_ErrorLogRateLimit(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	h := &harness{count: 500, reliable: true, failRatio: 0}
	reg := h.registry(t)
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "erring",
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
				out.ReportError(errors.New("bad record"))
				return nil
			})), nil
		},
	})
	topo := decode(t, reg, `{"name": "errs", "spouts": [{"id": "gen", "type": "gen"}],
	  "bolts": [{"id": "erring", "type": "erring", "inputs": [{"component": "gen"}]}]}`)
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	rt, err := local.New(topo, local.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := rt.Stats().Component("erring")
	mu.Lock()
	logged := strings.Count(buf.String(), "bad record")
	mu.Unlock()
	if c.Errors != 500 || len(c.LastErrors) != 10 {
		t.Errorf("errors counted %d (want 500), kept %d (want 10)", c.Errors, len(c.LastErrors))
	}
	if logged == 0 || logged > 50 {
		t.Errorf("logged %d of 500 errors; want a few", logged)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestRuntime_SpoutBusyAndThrottled: a spout's busy time leaves out its
// waits, and the waits with max spout pending full count as throttled
// (what the autoscaler reads: a throttled spout's lag is the bolts').
func TestRuntime_SpoutBusyAndThrottled(t *testing.T) {
	run := func(h *harness, conf string, d time.Duration) (local.TaskStats, time.Duration) {
		topo := decode(t, h.registry(t), `{"name": "busy", "config": {`+conf+`},
		  "spouts": [{"id": "gen", "type": "gen"}],
		  "bolts": [{"id": "split", "type": "split", "inputs": [{"component": "gen"}]},
		    {"id": "count", "type": "count", "inputs": [{"component": "split"}]}]}`)
		return runFor(t, topo, d, "gen")
	}

	// a slow bolt behind 8 pending trees: the spout mostly waits
	ts, wall := run(&harness{count: 0, reliable: true, slow: 2 * time.Millisecond}, `"topology.max.spout.pending": 8`, time.Second)
	if ts.ThrottledNanos == 0 || ts.ThrottledNanos <= ts.BusyNanos {
		t.Errorf("spout behind a slow bolt: throttled %v, busy %v: want mostly throttled",
			time.Duration(ts.ThrottledNanos), time.Duration(ts.BusyNanos))
	}
	if busy := time.Duration(ts.BusyNanos + ts.ThrottledNanos); busy > wall {
		t.Errorf("busy and throttled %v in %v of wall time", busy, wall)
	}

	// 20 sentences, then nothing to emit: the spout waits, unthrottled
	ts, wall = run(&harness{count: 20, reliable: true}, `"topology.max.spout.pending": 1000`, time.Second)
	if ts.ThrottledNanos != 0 {
		t.Errorf("idle spout throttled %v", time.Duration(ts.ThrottledNanos))
	}
	if ts.BusyNanos == 0 || time.Duration(ts.BusyNanos) > wall/2 {
		t.Errorf("idle spout busy %v of %v: want some, and well under the wall time", time.Duration(ts.BusyNanos), wall)
	}
}

// runFor runs topo for d and returns the stats of the first task of
// component comp, taken before the stop, and the time it ran.
func runFor(t *testing.T, topo *topology.Topology, d time.Duration, comp string) (local.TaskStats, time.Duration) {
	t.Helper()
	rt, err := local.New(topo, local.Options{DrainTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	began := time.Now()
	go func() { done <- rt.Run(ctx) }()
	time.Sleep(d)
	st, ran := rt.Stats(), time.Since(began)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, ts := range st.Tasks {
		if ts.Component == comp {
			return ts, ran
		}
	}
	t.Fatalf("no task of %s in the stats", comp)
	return local.TaskStats{}, ran
}

// pacedSpout waits 2 ms for input in every NextTuple, emits nothing and
// says it is held back (spout.Pacer), like a Kafka spout at its
// max_pending_batches.
type pacedSpout struct{}

func (pacedSpout) Open(context.Context, *topology.TaskContext, spout.Collector) error { return nil }
func (pacedSpout) NextTuple(context.Context) error                                    { time.Sleep(2 * time.Millisecond); return nil }
func (pacedSpout) Ack(any)                                                            {}
func (pacedSpout) Fail(any)                                                           {}
func (pacedSpout) Close() error                                                       { return nil }
func (pacedSpout) LastNextTuple() (time.Duration, bool)                               { return 2 * time.Millisecond, true }

// TestRuntime_SpoutPacer: the time a spout.Pacer waited inside NextTuple
// is not busy, and its held-back calls make the loop's waits throttled.
func TestRuntime_SpoutPacer(t *testing.T) {
	reg := registry.New()
	if err := reg.Register(registry.Spout[registry.NoConfig]{Name: "paced", Outputs: registry.Emits("x"),
		New: func(*registry.NoConfig) (spout.Spout, error) { return pacedSpout{}, nil }}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(registry.Bolt[registry.NoConfig]{Name: "sink",
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(context.Context, *tuple.Tuple, bolt.BasicCollector) error { return nil })), nil
		}}); err != nil {
		t.Fatal(err)
	}
	topo := decode(t, reg, `{"name": "paced", "spouts": [{"id": "gen", "type": "paced"}],
	  "bolts": [{"id": "sink", "type": "sink", "inputs": [{"component": "gen"}]}]}`)
	ts, _ := runFor(t, topo, 500*time.Millisecond, "gen")
	if ts.ThrottledNanos == 0 || ts.BusyNanos >= ts.ThrottledNanos {
		t.Errorf("a paced spout held back: busy %v, throttled %v; want the waits throttled, its own 2 ms waits not busy",
			time.Duration(ts.BusyNanos), time.Duration(ts.ThrottledNanos))
	}
}
