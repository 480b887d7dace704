package schedule_test

import (
	"testing"

	"github.com/gale-stream/gale/cluster/internal/schedule"
)

// TestCompute_ElasticMovesFirst: when an elastic component shrinks and a
// worker must give up a task to keep the balance, the task that moves is
// an elastic one (it moves without a pause), whichever would do as well.
func TestCompute_ElasticMovesFirst(t *testing.T) {
	for _, elastic := range []bool{true, false} {
		topo := schedule.Topology{Name: "t", Components: []schedule.Component{
			{ID: "b", Kind: schedule.KindBolt, Parallelism: 2},
			{ID: "e", Kind: schedule.KindBolt, Parallelism: 1, Elastic: elastic},
			{ID: "s", Kind: schedule.KindSpout, Parallelism: 1},
		}}
		task := func(comp string, i int, w string) schedule.Task {
			return schedule.Task{TaskKey: schedule.TaskKey{Topology: "t", Component: comp, Index: i}, Worker: w}
		}
		// e ran 3 tasks, two of them on w3; now it runs 1 and w3 would be
		// empty: one task of w1 or w2 moves there
		prev := &schedule.Assignment{Workers: []string{"w1", "w2", "w3"}, Tasks: []schedule.Task{
			task("b", 0, "w1"), task("b", 1, "w1"), task("s", 0, "w2"), task("e", 0, "w2"), task("e", 1, "w3"), task("e", 2, "w3"),
		}}
		in := schedule.Input{Workers: []schedule.Worker{{Name: "w1"}, {Name: "w2"}, {Name: "w3"}},
			Topologies: []schedule.Topology{topo}, Previous: prev}
		a, err := schedule.Compute(schedule.DefaultConfig(), in)
		if err != nil {
			t.Fatal(err)
		}
		var moved []string
		for _, m := range schedule.Diff(prev, a) {
			if m.From != "" && m.To != "" {
				moved = append(moved, m.Component)
			}
		}
		if len(moved) != 1 {
			t.Fatalf("elastic %v: moves %v, want one", elastic, moved)
		}
		if elastic && moved[0] != "e" {
			t.Errorf("elastic: %s moved; want the elastic component's task", moved[0])
		}
		t.Logf("elastic %v: %s moved", elastic, moved[0])
	}
}
