package cluster

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gale-stream/gale/cluster/schedule"
	"github.com/gale-stream/gale/topology"
)

// An assignment's task keys are "<component>/<index>" (the acker's
// component is schedule.AckerID): they survive a change of another
// component's parallelism, which renumbers the engine's task ids.
func taskKey(component string, index int) string { return component + "/" + strconv.Itoa(index) }

func parseKey(k string) (component string, index int, ok bool) {
	i := strings.LastIndexByte(k, '/')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(k[i+1:])
	return k[:i], n, err == nil
}

// taskIDs numbers a topology's tasks as the engine does: components sorted
// by id (byte order), tasks 1..N in index order.
func taskIDs(topo *topology.Topology) map[string][]int {
	comps := append(slices.Clone(topo.Spouts), topo.Bolts...)
	slices.SortFunc(comps, func(a, b *topology.Component) int { return strings.Compare(a.ID, b.ID) })
	out := map[string][]int{}
	id := 0
	for _, c := range comps {
		for range max(1, c.Parallelism) {
			id++
			out[c.ID] = append(out[c.ID], id)
		}
	}
	return out
}

// scheduleInput is what the scheduler needs of a topology: its own
// "topology.workers" only when the topology sets it (else every worker),
// or the rebalance's.
func scheduleInput(topo *topology.Topology, workers int) schedule.Topology {
	st := schedule.FromTopology(topo)
	if _, set := topo.Config[topology.ConfigWorkers]; !set {
		st.Workers = 0
	}
	if workers > 0 {
		st.Workers = workers
	}
	return st
}
