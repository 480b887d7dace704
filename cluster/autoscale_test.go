package cluster

import (
	"math"
	"testing"

	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/topology"
)

// TestWorkersWanted: the workers the desired tasks need at the live
// workers' mean slots; with a worker without a slot limit, the live count.
func TestWorkersWanted(t *testing.T) {
	topo := &topology.Topology{Name: "t", Settings: topology.Settings{Ackers: 1},
		Spouts: []*topology.Component{{ID: "s", Parallelism: 2}},
		Bolts:  []*topology.Component{{ID: "b", Parallelism: 3}}}
	decoded := map[string]*topology.Topology{"t": topo}
	ws := func(slots ...int) []membership.Member {
		var out []membership.Member
		for i, s := range slots {
			out = append(out, membership.Member{Name: string(rune('a' + i)), Meta: membership.Meta{Slots: s}})
		}
		return out
	}
	for _, c := range []struct {
		slots   []int
		desired map[[2]string]int
		want    int
	}{
		{[]int{4, 4}, nil, 2},                                 // 6 tasks over 4 slots a worker
		{[]int{4, 4}, map[[2]string]int{{"t", "b"}: 9}, 3},    // 12 tasks
		{[]int{4, 4, 4}, map[[2]string]int{{"t", "b"}: 1}, 1}, // 4 tasks
		{[]int{4, 0}, map[[2]string]int{{"t", "b"}: 40}, 2},   // no limit on one: the live count
		{[]int{2, 2}, map[[2]string]int{{"t", "b"}: 30}, 17},  // 33 tasks, 2 a worker
	} {
		if got := workersWanted(ws(c.slots...), decoded, c.desired); got != c.want {
			t.Errorf("slots %v, desired %v: %d workers wanted, want %d", c.slots, c.desired, got, c.want)
		}
	}
	// free slots: what the live workers can still take
	stored := map[string]store.Assignment{"t": {Tasks: map[string]string{"s/0": "a", "s/1": "b", "b/0": "a"}}}
	if got := freeSlots(ws(4, 4), stored); got != 5 {
		t.Errorf("free slots %d, want 5", got)
	}
	if got := freeSlots(ws(4, 0), stored); got != math.MaxInt {
		t.Errorf("free slots with an unlimited worker %d, want MaxInt", got)
	}
}

// TestRepeats: a refusal is recorded once while nothing changes.
func TestRepeats(t *testing.T) {
	ds := []store.ScalingDecision{
		{Component: "b", From: 2, To: 2, Direction: "none", Limited: "slots: 0 free"},
		{Component: "s", From: 1, To: 2, Direction: "up"},
	}
	if !repeats(ds, store.ScalingDecision{Component: "b", From: 2, Direction: "none", Limited: "slots: 0 free"}) {
		t.Error("the same refusal is not seen as a repeat")
	}
	if repeats(ds, store.ScalingDecision{Component: "b", From: 3, Direction: "none", Limited: "slots: 0 free"}) {
		t.Error("a refusal at another parallelism is seen as a repeat")
	}
	if repeats(ds, store.ScalingDecision{Component: "x", Direction: "none"}) {
		t.Error("a first decision is seen as a repeat")
	}
}
