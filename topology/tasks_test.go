package topology_test

import (
	"reflect"
	"testing"

	"github.com/gale-stream/gale/topology"
)

// TestTaskSlots: Storm's numbering without policies; a component with one
// holds ids up to its max, so a change of its parallelism keeps every
// other task's id.
func TestTaskSlots(t *testing.T) {
	plain, err := topology.Decode([]byte(wordCountJSON), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	slots, last := topology.TaskSlots(plain)
	n := 0
	for _, ids := range topology.TaskIDs(plain) {
		n += len(ids)
	}
	if last != n || !reflect.DeepEqual(slots, topology.TaskIDs(plain)) {
		t.Errorf("without policies: slots %v (last %d), ids %v: want the same, 1..N", slots, last, topology.TaskIDs(plain))
	}

	data := doc(`{"id": "s", "type": "generator"}`,
		`{"id": "a", "type": "split", "parallelism": 2, "inputs": [{"component": "s"}], "autoscale": {"min": 1, "max": 5}},
		 {"id": "b", "type": "count", "parallelism": 2, "inputs": [{"component": "a", "grouping": "fields", "fields": ["word"]}]}`)
	topo, err := topology.Decode([]byte(data), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"a": {1, 2}, "b": {6, 7}, "s": {8}}
	if got := topology.TaskIDs(topo); !reflect.DeepEqual(got, want) {
		t.Errorf("TaskIDs: %v, want %v", got, want)
	}
	if slots, last := topology.TaskSlots(topo); !reflect.DeepEqual(slots["a"], []int{1, 2, 3, 4, 5}) || last != 8 {
		t.Errorf("TaskSlots: %v, last %d; want a holding 1-5, last 8", slots, last)
	}
	topo.Bolts[0].Parallelism = 4
	if got := topology.TaskIDs(topo); !reflect.DeepEqual(got["b"], want["b"]) || !reflect.DeepEqual(got["s"], want["s"]) ||
		!reflect.DeepEqual(got["a"], []int{1, 2, 3, 4}) {
		t.Errorf("TaskIDs after a's change to 4: %v; want b and s unchanged", got)
	}
}

func TestTopology_Elastic(t *testing.T) {
	const policy = `"autoscale": {"min": 1, "max": 4}`
	tests := []struct {
		name, bolts string
		want        bool
	}{
		{"a leaf reading a spout", `{"id": "x", "type": "count", "inputs": [{"component": "s"}], ` + policy + `}`, true},
		{"fields grouping", `{"id": "x", "type": "count", "inputs": [{"component": "s", "grouping": "fields", "fields": ["sentence"]}], ` + policy + `}`, true},
		{"no policy", `{"id": "x", "type": "count", "inputs": [{"component": "s"}]}`, false},
		{"read by a bolt", `{"id": "x", "type": "split", "inputs": [{"component": "s"}], ` + policy + `},
			{"id": "y", "type": "count", "inputs": [{"component": "x"}]}`, true},
		{"reads a bolt", `{"id": "y", "type": "split", "inputs": [{"component": "s"}]},
			{"id": "x", "type": "count", "inputs": [{"component": "y"}], ` + policy + `}`, false},
		{"batch grouping", `{"id": "x", "type": "count", "inputs": [{"component": "s", "grouping": "batch"}], ` + policy + `}`, false},
	}
	for _, tt := range tests {
		topo, err := topology.Decode([]byte(doc(`{"id": "s", "type": "generator"}`, tt.bolts)), newCatalog())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := topo.Elastic("x"); got != tt.want {
			t.Errorf("%s: Elastic = %v, want %v", tt.name, got, tt.want)
		}
	}
	off := `{"name": "t", "config": {"topology.rescale.in.place": false}, "spouts": [{"id": "s", "type": "generator"}],
		"bolts": [{"id": "x", "type": "count", "inputs": [{"component": "s"}], ` + policy + `}]}`
	if topo, err := topology.Decode([]byte(off), newCatalog()); err != nil || topo.Elastic("x") {
		t.Errorf("topology.rescale.in.place false: Elastic %v (err %v), want false", topo != nil && topo.Elastic("x"), err)
	}
	spouts := []struct {
		name, spout string
		want        bool
	}{
		{"a resizable spout with a policy", `{"id": "s", "type": "partitioned", ` + policy + `}`, true},
		{"a resizable spout without one", `{"id": "s", "type": "partitioned"}`, false},
		{"a spout that cannot resize", `{"id": "s", "type": "generator", ` + policy + `}`, false},
	}
	for _, tt := range spouts {
		topo, err := topology.Decode([]byte(doc(tt.spout, boltSplt)), newCatalog())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := topo.Elastic("s"); got != tt.want {
			t.Errorf("%s: Elastic = %v, want %v", tt.name, got, tt.want)
		}
	}
}
