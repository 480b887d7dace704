package cluster

import (
	"errors"
	"slices"

	"github.com/gale-stream/gale/local"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/topology"
)

// Changes that keep the other tasks running
//
// A change of parallelism of elastic components only (topology.Elastic:
// bolts that read spouts only, spouts whose tasks share their work anew,
// each with an autoscale policy that holds its task ids) is not a
// graceful move (rescale.go): the leader stores the new parallelism at
// once, with no pause, and stores without a pause an assignment that only
// adds, removes or moves those components' tasks (the scheduler moves
// elastic tasks first when a worker must give some up:
// schedule.Component.Elastic). Each worker then changes its running
// share in place (reshape): it starts the new tasks it runs, points its
// producers at the new set, tells its spout tasks their new share, and
// retires its leaving tasks once their queues stay empty, or, for spouts,
// once they handed their work over (local.Runtime.Reshape; a task that
// moved is started on its new worker first; what is still sent to a bolt
// task here goes there, and the completions of a spout task's trees go to
// both its workers for a while: remote.SendTask). The other spouts never
// pause, nothing else restarts, and no tree fails. Any other change (a
// bolt that reads bolts, another task that moves) goes the graceful way,
// and a worker that cannot apply a change in place restarts its share, as
// before.

// elasticChange reports whether rescale rs changes only the parallelism
// of elastic components of topo (stored with workers).
func elasticChange(topo *topology.Topology, workers int, rs *store.Rescale) bool {
	if topo == nil || rs == nil || len(rs.Parallelism) == 0 || rs.Workers > 0 && rs.Workers != workers {
		return false
	}
	for comp := range rs.Parallelism {
		if !topo.Elastic(comp) {
			return false
		}
	}
	return true
}

// elasticMoves reports whether tasks differs from prev only in tasks of
// elastic components of topo, added, removed or moved (one that moves
// stops where it ran and starts where it goes, with no pause; a spout
// task's trees complete at whichever of its two workers emitted them:
// remote.SendTask).
func elasticMoves(topo *topology.Topology, prev, tasks map[string]string) bool {
	if topo == nil {
		return false
	}
	for _, m := range []map[string]string{prev, tasks} {
		for key := range m {
			if was, now := prev[key], tasks[key]; was == now {
				continue
			}
			comp, _, ok := parseKey(key)
			if !ok || !topo.Elastic(comp) {
				return false
			}
		}
	}
	return true
}

func isSpout(topo *topology.Topology, comp string) bool {
	return slices.ContainsFunc(topo.Spouts, func(c *topology.Component) bool { return c.ID == comp })
}

// reshape applies record t and assignment a to the running share l in
// place when they differ from what it runs only in the tasks of elastic
// components (see above): the other tasks keep running. It reports
// whether it did; if not, the caller restarts the share.
func (w *Worker) reshape(l *share, t store.Topology, topo *topology.Topology, a store.Assignment, mine []string) bool {
	if l.rt == nil || l.topo == nil || string(t.JSON) != l.json || t.Workers != l.workers {
		return false
	}
	select {
	case <-l.done:
		return false // its runtime stopped
	default:
	}
	was, now := taskIDs(l.topo), taskIDs(topo)
	tasks := map[string][]int{}
	for comp, ids := range now {
		if !topo.Elastic(comp) {
			if len(ids) != len(was[comp]) {
				return false
			}
			continue
		}
		for idx, id := range ids {
			if _, ok := a.Tasks[taskKey(comp, idx)]; ok {
				tasks[comp] = append(tasks[comp], id)
			}
		}
		if len(tasks[comp]) == 0 {
			return false // none assigned: nothing to send its tuples to
		}
	}
	if len(tasks) == 0 {
		return false
	}
	// the tasks of other components that run here stay the same
	other := func(keys []string) []string {
		return slices.DeleteFunc(slices.Clone(keys), func(k string) bool {
			comp, _, ok := parseKey(k)
			return ok && topo.Elastic(comp)
		})
	}
	if !slices.Equal(other(l.mine), other(mine)) {
		return false
	}
	here := map[int]bool{}
	for _, k := range mine {
		if comp, idx, ok := parseKey(k); ok && topo.Elastic(comp) && idx < len(now[comp]) {
			here[now[comp][idx]] = true
		}
	}
	// the new owners first: the tasks added elsewhere are sent to there
	w.follow(l, a)
	switch err := l.rt.Reshape(tasks, here); {
	case errors.Is(err, local.ErrNotRunning):
		return true // the runtime is starting: again at the next round
	case err != nil:
		w.log.Warn("cannot change the tasks in place; restarting them", "topology", t.Name, "err", err)
		return false
	}
	if l.spec != specOf(t) || !slices.Equal(l.mine, mine) {
		w.log.Info("tasks changed in place", "topology", t.Name, "version", t.Version, "epoch", a.Epoch, "tasks", len(mine))
	}
	l.spec, l.version, l.topo, l.mine = specOf(t), t.Version, topo, mine
	w.resume(l, t, a)
	return true
}
