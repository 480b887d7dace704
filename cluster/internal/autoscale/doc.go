// Package autoscale decides the parallelism of an autoscaled component
// (one with a topology.Autoscale policy) from what the monitor saw of it
// over the last window. Decide is a pure, deterministic function: no
// clock (the caller passes the time since the last change), no I/O, no
// goroutines, no randomness; the same input always gives the same
// Decision, so that every worker of a cluster that asks gets one answer.
//
//	d := autoscale.Decide(*comp.Autoscale, obs, time.Since(lastChange), free)
//	if d.Direction != autoscale.None {
//		// rebalance comp to d.Parallelism tasks; log d.Reason
//	}
//
// # Rules
//
// P is the current parallelism, T the policy's TargetCapacity, S its
// ScaleUpLagSeconds (spouts), C the observed Capacity: the tasks' busy
// fraction over the window, as Storm computes it (for a spout, the share
// of the time its loop was not waiting for something to do).
//
// Scale up when C > T, or, for a spout, when its lag (records behind the
// source's end divided by the consume rate) exceeds S and is not shrinking
// (LagTrend >= 0). The new parallelism is the largest of
//
//   - P + 1;
//   - ceil(P × C / T): the load spread so that each task is at the target,
//     assuming the work is shared evenly between tasks;
//   - 2 × P when C > 1 (saturated): a task busy all of the window does
//     all it can, so its capacity is only a lower bound of the demand;
//   - for the lag, enough tasks to drain it within S while the input keeps
//     coming: with the consume rate r = LagRecords / LagSeconds shared by
//     P tasks and the input rate r + LagTrend, the tasks must consume
//     r + LagTrend + LagRecords / S, that is
//     ceil(P × (1 + LagTrend/r + LagSeconds/S)). Without a rate (LagRecords
//     is 0) nothing can be derived and P + 1 is all.
//
// A spout whose lag is infinite (it consumes nothing) is stalled — by its
// source, or by the back pressure of max spout pending when the bolts
// cannot keep up — and more tasks would consume nothing either: its lag
// neither scales it up nor lets it scale down (its capacity still may
// scale it up; the bolts' own capacity shows back pressure). Nor does the
// lag of a spout whose tasks wait with max spout pending full more than
// ThrottledLimit of the window, or one downstream of a bolt over its
// target capacity (Observation.Bottleneck): the bolts hold it back, and
// scaling them (their capacity) is what drains its lag.
// A lag over S counts from the second evaluation in a row that sees it
// (Observation.LagNew): when a burst begins, the lag jumps before the
// bolts' capacity shows which component is short.
//
// It is then bounded by the policy's Max, by the spout's Partitions when
// known (a spout task without a partition has nothing to read) and by
// P + freeSlots (the cluster has no room for more); Decision.Limited names
// the bound that cut it. When the bounds leave nothing to add, nothing
// changes.
//
// Scale down only when no scale-up is due and the load fits fewer tasks
// with a margin: the new parallelism is the smallest P' >= Min with
// C × P / P' <= 0.8 × T, the projected capacity staying at most 80% of the
// target, so that the load that made the change does not undo it
// (hysteresis: between 0.8 × T × (P−1)/P and T nothing changes). A spout
// also needs a lag under S/4 (so that even the doubled lag of half the
// tasks stays under S/2). One change at most halves the parallelism; the
// next window may halve again.
//
// A parallelism outside the bounds (a policy or a partition count that
// changed) is brought back in: above Max or the spout's partitions, down
// to the larger of that bound and Min; below Min, up to Min as the free
// slots and the partitions allow. Partitions never take a spout below Min.
//
// Cooldown: while sinceLastChange < Cooldown nothing changes, either way
// and for any reason; the Decision says what would have happened. A
// shorter cooldown for a saturated scale-up was considered and left out:
// it allows two changes within one cooldown, the flapping the cooldown is
// there to prevent, and the doubling above reacts to saturation instead.
//
// Comparisons with the target use a relative tolerance of 1e-9, so that a
// load exactly on the target is steady despite floating-point rounding.
//
// # Properties
//
// The tests check, over random policies and observations: a steady load
// (the same work, its capacity and lag divided among the new tasks) makes
// Decide converge in a few steps and then stay; a load that flaps faster
// than the cooldown gives at most one change per cooldown; every decision
// respects Min, Max, Partitions and the free slots; and a scale-down never
// projects a capacity above the target.
package autoscale
