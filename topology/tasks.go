package topology

import (
	"slices"
	"strings"
)

// Task numbering
//
// The engine numbers a topology's tasks as Storm does: components sorted
// by id (byte order), each component's tasks in index order, from 1. A
// component with an autoscale policy holds ids for Autoscale.Max tasks
// (or its parallelism, when that is larger) whatever its parallelism, so
// that a change of its parallelism leaves every other task's id as it
// was: a running topology can then start and stop that component's tasks
// and keep the others running (Elastic). Without a policy anywhere the
// numbering is Storm's, 1..N.

// TaskSlots returns, for every component, the ids it holds (its tasks are
// the first Parallelism of them), and the highest id.
func TaskSlots(t *Topology) (slots map[string][]int, last int) {
	comps := append(slices.Clone(t.Spouts), t.Bolts...)
	slices.SortFunc(comps, func(a, b *Component) int { return strings.Compare(a.ID, b.ID) })
	slots = map[string][]int{}
	for _, c := range comps {
		n := max(1, c.Parallelism)
		if c.Autoscale != nil {
			n = max(n, c.Autoscale.Max)
		}
		for range n {
			last++
			slots[c.ID] = append(slots[c.ID], last)
		}
	}
	return slots, last
}

// TaskIDs returns the ids of every component's tasks (see TaskSlots).
func TaskIDs(t *Topology) map[string][]int {
	slots, _ := TaskSlots(t)
	for _, c := range append(slices.Clone(t.Spouts), t.Bolts...) {
		slots[c.ID] = slots[c.ID][:max(1, c.Parallelism)]
	}
	return slots
}

// Elastic reports whether the parallelism of component id can change
// while the topology runs, starting and stopping only that component's
// tasks. Either
//
//   - a spout with an autoscale policy (its ids are held) whose type's
//     tasks share the work anew while they run (ComponentType.Resizable,
//     spout.Resizer): what a bolt receives of a batch never depends on how
//     many spout tasks there are (one task sends each batch and its end
//     markers); or
//   - a bolt with an autoscale policy that reads spouts only, with the
//     shuffle, local_or_shuffle, fields, partial_key or none grouping. A
//     spout sends each batch and its end markers at once, so each batch
//     goes wholly to the bolt's old tasks or wholly to its new ones; the
//     markers the bolt's tasks pass on say how many of them took part, so
//     that the bolts that read it know how many to wait for.
//
// Another change of parallelism restarts the topology's tasks, as does
// any with "topology.rescale.in.place" false.
func (t *Topology) Elastic(id string) bool {
	if !t.Settings.RescaleInPlace {
		return false
	}
	for _, s := range t.Spouts {
		if s.ID == id {
			if s.Autoscale == nil || t.Catalog() == nil {
				return false
			}
			ct, ok := t.Catalog().ComponentType(KindSpout, s.Type)
			return ok && ct.Resizable
		}
	}
	var c *Component
	for _, b := range t.Bolts {
		if b.ID == id {
			c = b
		}
	}
	if c == nil || c.Autoscale == nil {
		return false
	}
	for _, in := range c.Inputs {
		if !slices.ContainsFunc(t.Spouts, func(s *Component) bool { return s.ID == in.Component }) {
			return false
		}
		switch in.Grouping {
		case Shuffle, LocalOrShuffle, FieldsGrouping, PartialKey, None:
		default:
			return false
		}
	}
	return true
}
