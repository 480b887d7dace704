package cluster

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/gale-stream/gale/cluster/store"
)

// Rescaling without replays
//
// A change of parallelism (gale rebalance) changes the topology's runtime:
// every worker restarts its share, and the trees in flight then fail and
// replay. So a rebalance is not applied at once: it is stored as the
// topology's pending Rescale, and the leader applies it in steps, as a
// graceful move (handover.go):
//
//  1. it stores the assignment again, unchanged but Draining: the spouts
//     pause while the trees in flight complete;
//  2. once nothing is in flight (or after handoverTimeout) it writes the
//     new parallelism into the topology's record and clears the Rescale;
//     the workers restart their shares paused, with nothing to replay;
//  3. the next round schedules the new tasks; the assignment, no longer
//     Draining, resumes the spouts.
//
// One rescale is in flight at a time per topology: a rebalance asked
// meanwhile joins the pending one.

// rescaleStep advances topology t's pending rescale by one step, given
// its stored assignment prev; it returns the assignment it stored, if
// any. The caller writes no other assignment for t this round.
//
// A change of elastic components only (elastic; reshape.go) skips steps 1
// and 2's wait: it is applied at once, and the workers change those tasks
// in place.
func (w *Worker) rescaleStep(ctx context.Context, t store.Topology, prev store.Assignment, drained func() bool,
	elastic bool) (store.Assignment, bool) {
	if w.handovers == nil {
		w.handovers = map[string]handoverMark{}
	}
	if prev.Epoch > 0 && !prev.Draining && !elastic {
		next := store.Assignment{Topology: t.Name, Epoch: prev.Epoch + 1, Tasks: prev.Tasks, Draining: true}
		a, err := w.st.PutAssignment(ctx, next)
		if err != nil {
			w.log.Warn("cannot store the assignment", "topology", t.Name, "err", err)
			return prev, false
		}
		w.handovers[t.Name] = handoverMark{epoch: a.Epoch, at: time.Now()}
		w.log.Info("rescaling: spouts paused until the trees in flight complete", "topology", t.Name, "epoch", a.Epoch,
			"reason", t.Rescale.Reason)
		return a, true
	}
	if prev.Epoch > 0 && !elastic {
		mark, ok := w.handovers[t.Name]
		if !ok || mark.epoch != prev.Epoch {
			// paused by a leader before this one: its clock starts now
			mark = handoverMark{epoch: prev.Epoch, at: time.Now()}
			w.handovers[t.Name] = mark
		}
		if !drained() {
			if time.Since(mark.at) < handoverTimeout {
				return prev, false
			}
			w.log.Warn("rescaling before the trees in flight completed: those replay", "topology", t.Name,
				"waited", handoverTimeout)
		}
	}
	rs := *t.Rescale
	err := w.update(ctx, t.Name, func(cur *store.Topology) error {
		if cur.Rescale == nil {
			return nil // applied by a leader before this one
		}
		if len(cur.Rescale.Parallelism) > 0 {
			if cur.Parallelism == nil {
				cur.Parallelism = map[string]int{}
			}
			maps.Copy(cur.Parallelism, cur.Rescale.Parallelism)
		}
		if cur.Rescale.Workers > 0 {
			cur.Workers = cur.Rescale.Workers
		}
		rs, cur.Rescale = *cur.Rescale, nil
		return nil
	})
	if err != nil {
		w.log.Warn("cannot apply the rescale", "topology", t.Name, "err", err)
		return prev, false
	}
	delete(w.handovers, t.Name)
	w.scaler.changedNow(t.Name, slices.Collect(maps.Keys(rs.Parallelism)))
	w.log.Info("rescaled", "topology", t.Name, "parallelism", rs.Parallelism, "workers", rs.Workers, "reason", rs.Reason,
		"asked", time.Since(rs.RequestedAt).Round(time.Millisecond))
	return prev, false
}
