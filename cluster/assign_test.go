package cluster

import (
	"slices"
	"testing"

	"github.com/gale-stream/gale/cluster/internal/schedule"
)

// TestComputeSkipping: a topology larger than the scheduler takes is left
// out, and the others are still assigned (it used to stop them all).
func TestComputeSkipping(t *testing.T) {
	small := func(name string) schedule.Topology {
		return schedule.Topology{Name: name, Components: []schedule.Component{{ID: "s", Kind: schedule.KindSpout, Parallelism: 2}}}
	}
	huge := schedule.Topology{Name: "huge", Components: []schedule.Component{
		{ID: "s", Kind: schedule.KindSpout, Parallelism: 1}, {ID: "b", Kind: schedule.KindBolt, Parallelism: schedule.MaxTasks}}}
	in := schedule.Input{Workers: []schedule.Worker{{Name: "w1"}, {Name: "w2"}},
		Topologies: []schedule.Topology{small("a"), huge, small("b")}}
	if _, err := schedule.Compute(schedule.DefaultConfig(), in); err == nil {
		t.Fatal("the scheduler took the huge topology: the test proves nothing")
	}
	res, skipped, err := computeSkipping(schedule.DefaultConfig(), in)
	if err != nil || !slices.Equal(skipped, []string{"huge"}) {
		t.Fatalf("skipped %v, err %v; want [huge] and no error", skipped, err)
	}
	for _, name := range []string{"a", "b"} {
		tasks := res.TopologyTasks(name)
		if len(tasks) != 2 || tasks[0].Worker == "" || tasks[1].Worker == "" {
			t.Errorf("topology %s: tasks %+v, want 2 assigned", name, tasks)
		}
	}
	if len(in.Topologies) != 3 {
		t.Errorf("the caller's input changed: %d topologies", len(in.Topologies))
	}
}
