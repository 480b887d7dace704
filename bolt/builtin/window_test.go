package builtin_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	boltin "github.com/gale-stream/gale/bolt/builtin"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	spoutin "github.com/gale-stream/gale/spout/builtin"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// sumProbe adds up the "count" field of its inputs per "word".
type sumProbe struct {
	mu   *sync.Mutex
	sums map[string]int64
	wins *int
	out  bolt.Collector
}

func (p *sumProbe) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	p.out = out
	return nil
}
func (p *sumProbe) Execute(_ context.Context, t *tuple.Tuple) error {
	p.mu.Lock()
	p.sums[t.ValueByField("word").(string)] += t.ValueByField("count").(int64)
	*p.wins++
	p.mu.Unlock()
	p.out.Ack(t)
	return nil
}
func (p *sumProbe) Cleanup() error { return nil }

// TestWindow_Engine: generator -> split -> window (tumbling 100 ms by
// arrival, count per word) in the engine: the window counts add up to
// the exact word counts (every word in exactly one window), and every
// tree completes — the window acks its tuples when they leave it.
func TestWindow_Engine(t *testing.T) {
	reg := registry.New()
	if err := spoutin.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := boltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	sums, wins := map[string]int64{}, 0
	probe := registry.Bolt[registry.NoConfig]{Name: "sum-probe", Doc: "test",
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return &sumProbe{mu: &mu, sums: sums, wins: &wins}, nil }}
	if err := reg.Register(probe); err != nil {
		t.Fatal(err)
	}
	doc := `{"name": "windows", "config": {"topology.message.timeout.secs": 10},
	  "spouts": [{"id": "gen", "type": "generator", "config": {"count": 3000, "seed": 3, "rate": 20000}}],
	  "bolts": [
	    {"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "gen"}]},
	    {"id": "win", "type": "window", "config": {"length": "100ms", "group_by": "word"},
	     "inputs": [{"component": "split", "grouping": "global"}]},
	    {"id": "sum", "type": "sum-probe", "inputs": [{"component": "win"}]}]}`
	topo, err := topology.Decode([]byte(doc), reg)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	rt := galetest.RunToEnd(t, topo, local.Options{}, time.Minute)
	st := rt.Stats()
	if gen := st.Component("gen"); gen.Acked != 3000 || gen.Failed != 0 {
		t.Errorf("generator: %d acked, %d failed; want 3000 acked, none failed", gen.Acked, gen.Failed)
	}
	want := wantCounts(3, 3000)
	mu.Lock()
	defer mu.Unlock()
	for w, n := range want {
		if sums[w] != n {
			t.Errorf("word %q: windows counted %d, want %d", w, sums[w], n)
		}
	}
	if len(sums) != len(want) {
		t.Errorf("%d words in the windows, want %d", len(sums), len(want))
	}
	t.Logf("%d window rows for %d words", wins, len(want))
}
