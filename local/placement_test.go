package local_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/local"
)

// pair connects two runtimes of one topology as if they were two workers:
// what one sends to a task of the other is delivered there (copied, as a
// network would), the way a cluster transport will.
type pair struct {
	mu    sync.Mutex
	peers map[string]*local.Runtime
	owner map[int]string // task -> worker
	acker map[int]string // acker -> worker
	spout map[int]string // spout task -> worker (events)
	sent  map[string]int // messages that crossed, by kind
	lost  int            // acks to this acker vanish (its worker "died"); -1: none
}

type remote struct {
	p    *pair
	self string
}

func (r remote) peer(worker string) *local.Runtime {
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	return r.p.peers[worker]
}

func (r remote) count(kind string, n int) {
	r.p.mu.Lock()
	r.p.sent[kind] += n
	r.p.mu.Unlock()
}

// SendTask delivers to the worker that runs task (tuples for a bolt, a
// completion for a spout), counting what crosses.
func (r remote) SendTask(task int, msg []byte) {
	m, err := codec.DecodeMessage(msg)
	if err != nil {
		panic(err)
	}
	if m.Kind == codec.MessageEvent {
		r.count("events", len(m.Events))
		r.count("event messages", 1)
	} else {
		r.count("tuples", len(m.Tuples))
	}
	if err := r.peer(r.p.owner[task]).Receive(msg); err != nil {
		panic(err)
	}
}

func (r remote) SendAcker(i int, msg []byte) {
	m, err := codec.DecodeMessage(msg)
	if err != nil {
		panic(err)
	}
	r.count("acks", len(m.Acks))
	if i == r.p.lost {
		return
	}
	if err := r.peer(r.p.acker[i]).Receive(msg); err != nil {
		panic(err)
	}
}

// TestRuntime_TwoWorkers runs the word count with 5 % failures split over
// two runtimes (tasks and ackers alternate between them): every sentence
// is acked exactly once and the counts are exact, with tuples, acks and
// completions crossing between the "workers".
func TestRuntime_TwoWorkers(t *testing.T) {
	twoWorkers(t, &harness{count: 3000, reliable: true, failRatio: 50}, `"topology.acker.executors": 2, "topology.max.spout.pending": 200`, -1)
}

// TestRuntime_LostAcker loses every ack sent to one of the two ackers, as
// when its worker dies with its state: the trees it tracked are never
// reported by any acker, and the spouts time them out themselves (else
// they would hold max spout pending full for ever); their replays that land
// on the other acker complete.
func TestRuntime_LostAcker(t *testing.T) {
	twoWorkers(t, &harness{count: 300, reliable: true}, `"topology.acker.executors": 2, "topology.max.spout.pending": 20, "topology.message.timeout.secs": 1`, 1)
}

func twoWorkers(t *testing.T, h *harness, config string, lost int) {
	reg := h.registry(t)
	topo := decode(t, reg, wordcountJSON(config))
	p := &pair{peers: map[string]*local.Runtime{}, owner: map[int]string{}, acker: map[int]string{},
		spout: map[int]string{}, sent: map[string]int{}, lost: lost}
	// lay the tasks out: alternate, by task id
	probe, err := local.New(topo, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mine := map[string]map[int]bool{"a": {}, "b": {}}
	for comp, ids := range probe.Tasks() {
		for _, id := range ids {
			w := "a"
			if id%2 == 0 {
				w = "b"
			}
			p.owner[id] = w
			mine[w][id] = true
			if comp == "gen" {
				p.spout[id] = w
			}
		}
	}
	p.acker[0], p.acker[1] = "a", "b"
	for _, w := range []string{"a", "b"} {
		rt, err := local.New(topo, local.Options{DrainTimeout: 10 * time.Second,
			Placement: &local.Placement{Worker: w, LocalTasks: mine[w], LocalAckers: map[int]bool{map[string]int{"a": 0, "b": 1}[w]: true},
				Remote: remote{p: p, self: w}}})
		if err != nil {
			t.Fatal(err)
		}
		p.peers[w] = rt
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	// a worker without local spouts runs until told to stop: stop both
	// once every sentence is acked
	runCtx, stop := context.WithCancel(ctx)
	for _, w := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- p.peers[w].Run(runCtx)
		}()
	}
	ackedCount := func() int {
		n := 0
		h.acked.Range(func(any, any) bool { n++; return true })
		return n
	}
	defer func() {
		if t.Failed() {
			t.Logf("%d of %d sentences acked", ackedCount(), h.count)
		}
	}()
	galetest.Eventually(t, fmt.Sprintf("all %d sentences acked", h.count), 90*time.Second, func() bool {
		return ackedCount() >= int(h.count)
	})
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("run: %v", err)
		}
	}
	checkAckedOnce(t, h)
	checkCounts(t, h)
	if p.sent["tuples"] == 0 || p.sent["acks"] == 0 || p.sent["events"] == 0 {
		t.Errorf("nothing crossed between the workers: %v", p.sent)
	}
	// an acker sends the completions of a batch of acks for one spout task
	// in one message, not one message per tree
	if p.sent["event messages"] >= p.sent["events"] {
		t.Errorf("%d completions crossed in %d messages: not batched", p.sent["events"], p.sent["event messages"])
	}
	t.Logf("crossed: %v", p.sent)
	// each worker reports only its own tasks
	for w, rt := range p.peers {
		for _, ts := range rt.Stats().Tasks {
			if ts.Worker != w || p.owner[ts.Task] != w {
				t.Errorf("worker %s reports task %d (owned by %s)", w, ts.Task, p.owner[ts.Task])
			}
		}
	}
}

// TestRuntime_BatchesStayLocal: a sink that reads a spout alone, with the
// batch grouping, on two workers: each batch is written by a sink task on
// the worker of the spout task that sent it (no record crosses, only the
// end markers to the other worker's sink tasks), exactly once, and an
// empty batch by one task too.
func TestRuntime_BatchesStayLocal(t *testing.T) {
	for _, keep := range []bool{true, false} {
		// tasks are numbered component by component in id order: the sink's
		// before the spout's, then after them (as a Kafka -> files topology
		// "kafka" -> "out" has them)
		for _, sink := range []string{"sink", "write"} {
			t.Run(fmt.Sprintf("topology.batch.local=%v/%s", keep, sink), func(t *testing.T) { batchesStayLocal(t, keep, sink) })
		}
	}
}

// batchesStayLocal runs TestRuntime_BatchesStayLocal's topology with
// "topology.batch.local" set to keep (false spreads the batches over
// every sink task, each still written once) and the sink's id sink.
func batchesStayLocal(t *testing.T, keep bool, sink string) {
	const batches, recs = 40, 20
	h := newBatchHarness(batches, recs)
	h.spout.empty = func(b int) bool { return b%5 == 0 }
	reg := h.registry()
	topo := decode(t, reg, fmt.Sprintf(`{"name": "local-batches",
  "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 4, "topology.batch.local": %v},
  "spouts": [{"id": "src", "type": "batches", "parallelism": 2}],
  "bolts": [{"id": %q, "type": "sink", "parallelism": 4, "inputs": [{"component": "src", "grouping": "batch"}]}]}`, keep, sink))
	probe, err := local.New(topo, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := probe.Tasks()
	p := &pair{peers: map[string]*local.Runtime{}, owner: map[int]string{}, acker: map[int]string{0: "a", 1: "b"},
		spout: map[int]string{}, sent: map[string]int{}, lost: -1}
	mine := map[string]map[int]bool{"a": {}, "b": {}}
	place := func(id int, w string) { p.owner[id] = w; mine[w][id] = true }
	// spout task k sends the batches b with b % 2 == k
	place(ids["src"][0], "a")
	place(ids["src"][1], "b")
	p.spout[ids["src"][0]], p.spout[ids["src"][1]] = "a", "b"
	for i, id := range ids[sink] {
		place(id, []string{"a", "a", "b", "b"}[i])
	}
	for i, w := range []string{"a", "b"} {
		rt, err := local.New(topo, local.Options{DrainTimeout: 10 * time.Second,
			Placement: &local.Placement{Worker: w, LocalTasks: mine[w], LocalAckers: map[int]bool{i: true}, Remote: remote{p: p, self: w}}})
		if err != nil {
			t.Fatal(err)
		}
		p.peers[w] = rt
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, rt := range p.peers {
		wg.Add(1)
		go func() { defer wg.Done(); rt.Run(ctx) }()
	}
	galetest.Eventually(t, fmt.Sprintf("all %d batches acked", batches), time.Minute, func() bool {
		h.spout.mu.Lock()
		defer h.spout.mu.Unlock()
		return len(h.spout.acks) == batches
	})
	stop()
	wg.Wait()

	h.mu.Lock()
	defer h.mu.Unlock()
	written := map[string]int{}
	away := 0 // batches written on another worker than their spout task's
	for _, f := range h.seen {
		if f.failed {
			t.Errorf("batch %s failed at task %d", f.batch, f.task)
		}
		if !f.owner {
			if f.executed > 0 {
				t.Errorf("batch %s: task %d got %d tuples and is not the owner", f.batch, f.task, f.executed)
			}
			continue
		}
		written[f.batch]++
		var b int
		fmt.Sscanf(f.batch[len("t/00000/"):], "%d", &b)
		var want []string
		if b%5 != 0 {
			for i := range recs {
				want = append(want, fmt.Sprintf("t/%d/%d", b%3, b*recs+i))
			}
			slices.Sort(want)
			if w := []string{"a", "b"}[b%2]; p.owner[f.task] != w {
				away++
				if keep {
					t.Errorf("batch %d of the spout task on %s written on %s", b, w, p.owner[f.task])
				}
			}
		}
		if !slices.Equal(f.ids, want) {
			t.Errorf("batch %d written with %d tuples, want %d", b, len(f.ids), len(want))
		}
	}
	for b := range batches {
		if written[batchID(b)] != 1 {
			t.Errorf("batch %s written %d times, want once", batchID(b), written[batchID(b)])
		}
	}
	// only end markers crossed: one per batch to each of the other
	// worker's two sink tasks
	if crossed := p.sent["tuples"]; keep && crossed > 2*batches || !keep && (away == 0 || crossed <= 2*batches) {
		t.Errorf("topology.batch.local %v: %d tuples crossed between the workers for %d batches of %d records, %d batches written away from their spout",
			keep, crossed, batches, recs, away)
	}
	t.Logf("crossed: %v", p.sent)
}
