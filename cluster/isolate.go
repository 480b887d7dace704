package cluster

import (
	"context"
	"time"

	"github.com/gale-stream/gale/cluster/store"
)

// A worker cut from the cluster store but not from the other workers (a
// broken route to Kafka, say) stays a gossip member: without more, nobody
// would take its tasks, and its Kafka partitions would stall for as long
// as the cut lasts. So a worker checks that it reaches the store (Sync,
// for stores that serve reads from a local view), and when it has not for
// isolateAfter it stops its tasks and says so in its gossip metadata
// (Meta.Isolated): the leader moves them to the others at once, as for a
// dead worker (their batches replay from the ledger, fenced). Once the
// store answers again, the worker clears the flag and gets tasks back
// like a worker that joins.

// isolateAfter is how long a worker may go without reaching the store
// before it gives up its tasks: twice the leader lease's time to live
// (default 3 s), so that a leader cut this way has lost the lease too.
func (w *Worker) isolateAfter() time.Duration { return 2 * w.cfg.LeaderTTL }

// storeCheckEvery is how often a worker checks that it reaches the store.
const storeCheckEvery = time.Second

// watchStore syncs with the store every storeCheckEvery (when it is a
// store.Syncer) and records when it last answered, until ctx ends.
func (w *Worker) watchStore(ctx context.Context) {
	sy, ok := w.st.(store.Syncer)
	if !ok {
		return // a file store: its reads are the store
	}
	w.storeOK.Store(time.Now().UnixNano())
	tick := time.NewTicker(storeCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := sy.Sync(sctx)
		cancel()
		if err == nil {
			w.storeOK.Store(time.Now().UnixNano())
		}
	}
}

// checkIsolation isolates this worker (its tasks stopped, Meta.Isolated
// gossiped) when the store has not answered for isolateAfter, and ends
// the isolation once it answers again. The reconcile loop calls it.
func (w *Worker) checkIsolation() {
	ok := w.storeOK.Load()
	if ok == 0 || w.leaving.Load() {
		return
	}
	since := time.Since(time.Unix(0, ok))
	cut := since > w.isolateAfter()
	if cut == w.isolated {
		return
	}
	w.isolated = cut
	w.meta.Isolated = cut
	if err := w.ms.UpdateMeta(w.meta, time.Second); err != nil {
		w.log.Warn("cannot tell the others about the cluster store", "isolated", cut, "err", err)
	}
	if !cut {
		w.log.Info("the cluster store answers again: this worker takes tasks again")
		return
	}
	w.log.Error("the cluster store has not answered: stopping this worker's tasks, the others take them over",
		"for", since.Round(100*time.Millisecond))
	ls := w.shares()
	for _, l := range ls {
		w.stopShare(l)
	}
}
