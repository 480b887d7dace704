package cluster

import (
	"errors"
	"testing"

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
