package cluster

import (
	"errors"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"

	boltbuiltin "github.com/gale-stream/gale/bolt/builtin"
	spoutbuiltin "github.com/gale-stream/gale/spout/builtin"
)

// elasticTopology: "work" and "split" are elastic (bolts reading the
// spout, with a policy; "count" reads "split"), as is "parts" (a resizable
// spout with one); "count" reads a bolt, so it is not, nor is "gen" (no
// policy).
const elasticTopology = `{"name": "e", "spouts": [{"id": "gen", "type": "generator"},
    {"id": "parts", "type": "parts", "autoscale": {"min": 1, "max": 4}}],
  "bolts": [{"id": "work", "type": "noop", "inputs": [{"component": "gen"}], "autoscale": {"min": 1, "max": 4}},
    {"id": "split", "type": "split", "inputs": [{"component": "gen"}], "autoscale": {"min": 1, "max": 4}},
    {"id": "count", "type": "count", "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}],
     "autoscale": {"min": 1, "max": 4}}]}`

func decodeElastic(t *testing.T) *topology.Topology {
	t.Helper()
	reg := registry.New()
	if err := spoutbuiltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := boltbuiltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(registry.Spout[registry.NoConfig]{Name: "parts", Outputs: registry.Emits("sentence"), Resizable: true,
		New: func(*registry.NoConfig) (spout.Spout, error) { return nil, errors.New("not run") }})
	topo, err := topology.Decode([]byte(elasticTopology), reg)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestElasticChange(t *testing.T) {
	topo := decodeElastic(t)
	tests := []struct {
		name string
		rs   *store.Rescale
		want bool
	}{
		{"the elastic bolt", &store.Rescale{Parallelism: map[string]int{"work": 3}}, true},
		{"a bolt another reads", &store.Rescale{Parallelism: map[string]int{"split": 3}}, true},
		{"a bolt that reads a bolt", &store.Rescale{Parallelism: map[string]int{"count": 3}}, false},
		{"both", &store.Rescale{Parallelism: map[string]int{"work": 3, "count": 2}}, false},
		{"a spout that cannot resize", &store.Rescale{Parallelism: map[string]int{"gen": 2}}, false},
		{"a resizable spout", &store.Rescale{Parallelism: map[string]int{"parts": 2}}, true},
		{"it and the elastic bolt", &store.Rescale{Parallelism: map[string]int{"parts": 2, "work": 3}}, true},
		{"workers too", &store.Rescale{Parallelism: map[string]int{"work": 3}, Workers: 2}, false},
		{"workers only", &store.Rescale{Workers: 2}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		if got := elasticChange(topo, 0, tt.rs); got != tt.want {
			t.Errorf("%s: elasticChange = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestElasticMoves(t *testing.T) {
	topo := decodeElastic(t)
	prev := map[string]string{"gen/0": "a", "parts/0": "b", "work/0": "a", "split/0": "b", "count/0": "c", "__acker/0": "a"}
	with := func(changes map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range prev {
			out[k] = v
		}
		for k, v := range changes {
			if v == "" {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name  string
		tasks map[string]string
		want  bool
	}{
		{"elastic tasks added", with(map[string]string{"work/1": "b", "work/2": "c"}), true},
		{"an elastic task removed", with(map[string]string{"work/0": ""}), true},
		{"an elastic task moved", with(map[string]string{"work/0": "b"}), true},
		{"another task moved as well", with(map[string]string{"work/1": "b", "count/0": "a"}), false},
		{"a task of a bolt another reads added", with(map[string]string{"split/1": "a"}), true},
		{"a task of a bolt that reads a bolt added", with(map[string]string{"count/1": "a"}), false},
		{"a resizable spout's tasks added", with(map[string]string{"parts/1": "a", "parts/2": "c"}), true},
		{"one removed", with(map[string]string{"parts/0": ""}), true},
		{"one moved", with(map[string]string{"parts/0": "c"}), true},
		{"the same", with(nil), true},
	}
	for _, tt := range tests {
		if got := elasticMoves(topo, prev, tt.tasks); got != tt.want {
			t.Errorf("%s: elasticMoves = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestShare_Gone: after an assignment removes or moves an elastic spout's
// task, its trees' completions still reach the worker it ran on (owner for
// one removed, previous for one moved), for twice the message timeout;
// another component's task that moves is forgotten at once.
func TestShare_Gone(t *testing.T) {
	topo := decodeElastic(t)
	l := &share{topo: topo, owners: map[string]string{"parts/0": "a", "parts/1": "b", "gen/0": "a"}}
	next := store.Assignment{Epoch: 2, Tasks: map[string]string{"parts/0": "c", "gen/0": "b"}}
	l.keepGone(next)
	l.owners = next.Tasks
	for _, tt := range []struct{ key, owner, previous string }{
		{"parts/0", "c", "a"}, // moved from a
		{"parts/1", "b", ""},  // removed: where it ran
		{"gen/0", "b", ""},    // not elastic
	} {
		if got := l.owner(tt.key); got != tt.owner {
			t.Errorf("owner(%s) = %q, want %q", tt.key, got, tt.owner)
		}
		if got := l.previous(tt.key); got != tt.previous {
			t.Errorf("previous(%s) = %q, want %q", tt.key, got, tt.previous)
		}
	}
	// moved back: the worker it left now is the one to remember
	back := store.Assignment{Epoch: 3, Tasks: map[string]string{"parts/0": "a", "gen/0": "b"}}
	l.keepGone(back)
	l.owners = back.Tasks
	if got := l.previous("parts/0"); got != "c" {
		t.Errorf("previous(parts/0) moved back to a = %q, want c", got)
	}
	// past the window
	for k, g := range l.gone {
		g.until = time.Now().Add(-time.Second)
		l.gone[k] = g
	}
	if got := l.owner("parts/1"); got != "" {
		t.Errorf("owner(parts/1) after the window = %q, want none", got)
	}
}
