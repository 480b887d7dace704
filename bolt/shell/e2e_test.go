package shell_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/multilang/multilangtest"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	spoutbuiltin "github.com/gale-stream/gale/spout/builtin"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// counts is a word count shared by the tasks of the test's count bolt.
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// e2eRegistry holds the generator spout, the shell bolt and a counting
// bolt.
func e2eRegistry(t *testing.T, c *counts) *registry.Registry {
	t.Helper()
	reg := registry.New()
	if err := spoutbuiltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(shell.Type()); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(registry.Bolt[registry.NoConfig]{
		Name: "wordcount",
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, tu *tuple.Tuple, _ bolt.BasicCollector) error {
				c.mu.Lock()
				c.m[tu.String("word")]++
				c.mu.Unlock()
				return nil
			})), nil
		},
	}); err != nil {
		t.Fatal(err)
	}
	return reg
}

func e2eTopology(t *testing.T, reg *registry.Registry, n int, py string, env map[string]string) *topology.Topology {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	envJSON := "{}"
	if len(env) > 0 {
		var parts []string
		for k, v := range env {
			parts = append(parts, fmt.Sprintf("%q: %q", k, v))
		}
		envJSON = "{" + strings.Join(parts, ",") + "}"
	}
	src := fmt.Sprintf(`{
	  "name": "wordcount-python",
	  "config": {"topology.message.timeout.secs": 30},
	  "spouts": [{"id": "sentences", "type": "generator", "config": {"count": %d, "seed": 7}}],
	  "bolts": [
	    {"id": "split", "type": "shell", "parallelism": 2,
	     "config": {"command": [%q, "examples/multilang/splitsentence.py"], "dir": %q, "env": %s,
	                "restart_backoff": {"min": "10ms", "max": "1s"}},
	     "inputs": [{"component": "sentences"}],
	     "outputs": {"default": ["word"]}},
	    {"id": "count", "type": "wordcount", "parallelism": 2,
	     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}
	  ]}`, n, py, root, envJSON)
	topo, err := topology.Decode([]byte(src), reg)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return topo
}

func expectedWords(n int) map[string]int {
	cfg := spoutbuiltin.NewGeneratorConfig()
	cfg.Seed = 7
	want := map[string]int{}
	for i := range uint64(n) {
		for _, w := range strings.Fields(cfg.Sentence(i)) {
			want[w]++
		}
	}
	return want
}

func runTopology(t *testing.T, topo *topology.Topology, reg *registry.Registry) *local.Runtime {
	t.Helper()
	return galetest.RunToEnd(t, topo, local.Options{}, 90*time.Second)
}

// TestE2E_PythonWordCount runs generator -> python split (shell) -> count
// in the engine: every sentence is acked and the counts are exact.
func TestE2E_PythonWordCount(t *testing.T) {
	py := multilangtest.Python(t)
	const n = 2000
	c := &counts{m: map[string]int{}}
	reg := e2eRegistry(t, c)
	rt := runTopology(t, e2eTopology(t, reg, n, py, nil), reg)
	st := rt.Stats()
	if gen := st.Component("sentences"); gen.Acked != n || gen.Failed != 0 {
		t.Errorf("generator acked %d failed %d, want %d and 0", gen.Acked, gen.Failed, n)
	}
	split := st.Component("split")
	if split.Errors != 0 {
		t.Errorf("split reported %d errors: %+v", split.Errors, split.LastErrors)
	}
	// each of the 2 tasks reports {"command": "metrics", "name": "sentences",
	// "params": 100} every 100 sentences it splits
	if got := split.Custom["sentences"]; got > n || got < n-2*99 || int(got)%100 != 0 {
		t.Errorf("the multilang metric sentences = %v, want the sentences split, by hundreds (%d)", got, n)
	}
	got, want := c.snapshot(), expectedWords(n)
	if len(got) != len(want) {
		t.Errorf("%d distinct words, want %d", len(got), len(want))
	}
	for w, k := range want {
		if got[w] != k {
			t.Errorf("count[%q] = %d, want %d", w, got[w], k)
		}
	}
}

// TestE2E_PythonCrashOnce makes the python split bolt exit after 300
// tuples, once: the tuples in flight fail, the spout replays them, the
// subprocess restarts and nothing is lost (replayed sentences may be
// counted twice: at-least-once).
func TestE2E_PythonCrashOnce(t *testing.T) {
	py := multilangtest.Python(t)
	const n = 2000
	c := &counts{m: map[string]int{}}
	reg := e2eRegistry(t, c)
	marker := filepath.Join(t.TempDir(), "crashed")
	topo := e2eTopology(t, reg, n, py, map[string]string{"SPLIT_CRASH_AFTER": "300", "SPLIT_CRASH_MARKER": marker})
	rt := runTopology(t, topo, reg)
	st := rt.Stats()
	gen, split := st.Component("sentences"), st.Component("split")
	if gen.Acked != n {
		t.Errorf("generator acked %d, want %d", gen.Acked, n)
	}
	if gen.Failed == 0 {
		t.Errorf("no tuple failed: the crash did not happen")
	}
	if split.Errors == 0 || len(split.LastErrors) == 0 || !strings.Contains(split.LastErrors[0].Message, "exit status 3") {
		t.Errorf("the crash was not reported on the split component: %+v", split.LastErrors)
	}
	got, want := c.snapshot(), expectedWords(n)
	extra := 0
	for w, k := range want {
		if got[w] < k {
			t.Errorf("count[%q] = %d, want at least %d: words lost", w, got[w], k)
		}
		extra += got[w] - k
	}
	// Only the words of replayed sentences may be counted twice.
	if maxExtra := int(gen.Failed) * 12; extra > maxExtra {
		t.Errorf("%d extra words for %d replayed sentences", extra, gen.Failed)
	}
	t.Logf("generator failed %d (replayed), %d words counted twice; split errors: %d", gen.Failed, extra, split.Errors)
}
