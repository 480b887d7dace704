package builtin_test

import (
	"fmt"
	"maps"
	"strings"
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
)

// probeRegistry returns a fresh registry with the built-in types and a
// "count-probe" bolt type: a count bolt whose instances are kept so that
// the test can read their counts after the run.
func probeRegistry(t *testing.T) (*registry.Registry, func() []*boltin.Count) {
	t.Helper()
	reg := registry.New()
	if err := spoutin.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := boltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var counts []*boltin.Count
	probe := boltin.CountType()
	probe.Name = "count-probe"
	newCount := probe.New
	probe.New = func(c *boltin.CountConfig) (bolt.Bolt, error) {
		b, err := newCount(c)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		counts = append(counts, b.(*boltin.Count))
		mu.Unlock()
		return b, nil
	}
	if err := reg.Register(probe); err != nil {
		t.Fatal(err)
	}
	return reg, func() []*boltin.Count {
		mu.Lock()
		defer mu.Unlock()
		return counts
	}
}

// wantCounts counts the words of generator tuples 0..count-1 with the
// generator's own function, independently of split and count.
func wantCounts(seed int64, count uint64) map[string]int64 {
	cfg := spoutin.NewGeneratorConfig()
	cfg.Seed = seed
	want := map[string]int64{}
	for i := range count {
		for _, w := range strings.Fields(cfg.Sentence(i)) {
			want[w]++
		}
	}
	return want
}

// TestWordCount_Engine runs generator -> [fail] -> split -> count in the
// engine and checks that the counts are exact: every sentence counted
// once, even when some trees fail before split and are replayed.
func TestWordCount_Engine(t *testing.T) {
	tests := []struct {
		name     string
		withFail bool
	}{
		{"generator-split-count", false},
		{"with failures and replays", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, counts := probeRegistry(t)
			splitInput := "gen"
			failBolt := ""
			if tt.withFail {
				splitInput = "chaos"
				failBolt = `{"id": "chaos", "type": "fail", "config": {"ratio": 0.2, "seed": 4},
				  "inputs": [{"component": "gen"}]},`
			}
			doc := fmt.Sprintf(`{
			  "name": "wordcount",
			  "config": {"topology.message.timeout.secs": 10},
			  "spouts": [{"id": "gen", "type": "generator", "parallelism": 2,
			              "config": {"count": 1000, "seed": 1}}],
			  "bolts": [
			    %s
			    {"id": "split", "type": "split", "parallelism": 2,
			     "inputs": [{"component": %q, "grouping": "shuffle"}]},
			    {"id": "count", "type": "count-probe", "parallelism": 3,
			     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}
			  ]
			}`, failBolt, splitInput)
			topo, err := topology.Decode([]byte(doc), reg)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			rt := galetest.RunToEnd(t, topo, local.Options{}, time.Minute)

			st := rt.Stats()
			if gen := st.Component("gen"); gen.Acked != 1000 {
				t.Errorf("generator: %d trees completed, want 1000", gen.Acked)
			}
			if tt.withFail {
				gen, chaos := st.Component("gen"), st.Component("chaos")
				if chaos.Failed < 100 || chaos.Failed > 300 || gen.Failed != chaos.Failed {
					t.Errorf("fail bolt failed %d tuples, generator saw %d failures; want the same, about 200",
						chaos.Failed, gen.Failed)
				}
			}

			got := map[string]int64{}
			tasks := counts()
			if len(tasks) != 3 {
				t.Fatalf("%d count tasks, want 3", len(tasks))
			}
			for _, c := range tasks {
				for w, n := range c.Counts() {
					if _, dup := got[w]; dup {
						t.Errorf("word %q counted by two tasks despite the fields grouping", w)
					}
					got[w] = n
				}
			}
			want := wantCounts(1, 1000)
			if !maps.Equal(got, want) {
				t.Errorf("counts differ from the generator's sentences:\n got %v\nwant %v", got, want)
			}
		})
	}
}
