package cluster

import (
	"time"

	"math"
	"testing"

	"github.com/gale-stream/gale/cluster/api"

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

// TestObserve: capacity and throttling per task from the complete steps of
// the span (the newest step, perhaps partial, left out), lag in seconds at
// the consume rate and its trend; too few steps is no observation.
func TestObserve(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	points := func(busy ...float64) []api.Point {
		var out []api.Point
		for i, b := range busy {
			out = append(out, api.Point{Time: t0.Add(time.Duration(i) * 5 * time.Second), Busy: b, Throttled: b / 2})
		}
		return out
	}
	comp := api.Component{ID: "s", Kind: "spout", Tasks: []api.Task{{ID: 1}, {ID: 2}},
		Rates:      api.Rates{Emitted: 200},
		Partitions: []api.Partition{{Task: 1, Lag: 300}, {Task: 2, Lag: 100}}}
	c := &topology.Component{ID: "s", Parallelism: 2}
	series := func(busy ...float64) *api.Series {
		return &api.Series{StepSeconds: 5, Components: []api.ComponentSeries{{ID: "s", Points: points(busy...)}}}
	}
	now := t0.Add(time.Minute)
	prev := lagPoint{records: 600, at: now.Add(-5 * time.Second)}

	// a 15 s span is the 3 steps before the newest (9, left out)
	o, ok := observe(comp, c, series(9, 9, 0.4, 0.8, 1.2, 9), 15*time.Second, prev, now)
	if !ok {
		t.Fatal("no observation from 6 steps")
	}
	if o.Parallelism != 2 || math.Abs(o.Capacity-0.4) > 1e-9 || math.Abs(o.Throttled-0.25) > 1e-9 {
		t.Errorf("observation %+v: want 2 tasks, capacity 0.40 ((0.4+0.8+1.2)/3/2), throttled 0.25 (the last two: (0.4+0.6)/2/2)", o)
	}
	if !o.Spout || o.LagRecords != 400 || o.LagSeconds != 2 || o.LagTrend != -40 {
		t.Errorf("lag %+v: want 400 records, 2 s at 200/s, -40 records/s", o)
	}
	// two steps, one of them the newest: too little
	if o, ok := observe(comp, c, series(0.5, 0.5), 30*time.Second, prev, now); ok {
		t.Errorf("observation %+v from two steps (one complete): want none", o)
	}
}

// TestBottleneck: a bolt over its target downstream of a spout, directly
// or through other bolts, holds the spout's lag back; one elsewhere does
// not.
func TestBottleneck(t *testing.T) {
	in := func(ids ...string) []topology.Input {
		var out []topology.Input
		for _, id := range ids {
			out = append(out, topology.Input{Component: id})
		}
		return out
	}
	topo := &topology.Topology{Spouts: []*topology.Component{{ID: "s1"}, {ID: "s2"}},
		Bolts: []*topology.Component{{ID: "parse", Inputs: in("s1")}, {ID: "enrich", Inputs: in("parse")},
			{ID: "other", Inputs: in("s2")}}}
	for _, c := range []struct {
		busy  map[string]float64
		spout string
		want  string
	}{
		{map[string]float64{}, "s1", ""},
		{map[string]float64{"enrich": 0.95}, "s1", "enrich at 0.95"},
		{map[string]float64{"parse": 0.8, "enrich": 0.95}, "s1", "parse at 0.80"},
		{map[string]float64{"other": 1}, "s1", ""},
		{map[string]float64{"other": 1}, "s2", "other at 1.00"},
	} {
		if got := bottleneck(topo, c.spout, c.busy); got != c.want {
			t.Errorf("bottleneck(%s, %v) = %q, want %q", c.spout, c.busy, got, c.want)
		}
	}
}
