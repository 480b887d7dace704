package cluster

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/store"
)

// Moving tasks between live workers without a replay
//
// When a worker dies, the trees that had tuples on it can never complete:
// they replay, and the output is the same. When every worker involved is
// alive — one leaving gracefully (SIGTERM), one joining, a rolling
// upgrade — the leader moves tasks in two steps instead:
//
//  1. it stores the assignment again, unchanged but Draining: every worker
//     pauses the topology's spouts (as a deactivate does) while the trees
//     in flight complete and their batches commit;
//  2. once every worker of the share reports nothing in flight at that
//     epoch (GET /api/v1/drained/{name}), or after handoverTimeout, it
//     stores the new tasks. Each task starts where its predecessor
//     committed: nothing is emitted twice.
//
// A leaving worker says so in its gossip metadata (Meta.Leaving): the
// leader gives it no task, so its tasks move by the steps above; it exits
// once it runs nothing, or at its drain timeout.

// DefaultDrainTimeout bounds a graceful leave (Config.DrainTimeout).
const DefaultDrainTimeout = 30 * time.Second

// handoverTimeout bounds step 1: past it the tasks move anyway, and the
// trees still in flight replay (a bolt stuck on a backend must not hold a
// worker's leave for ever).
const handoverTimeout = 10 * time.Second

// handoverPoll is how often the leader checks a drain, and a leaving
// worker whether it may go.
const handoverPoll = 100 * time.Millisecond

// drainState is GET /api/v1/drained/{name}: what this worker has in
// flight of a topology. Epoch is its share's assignment epoch (0: it runs
// no task of the topology).
type drainState struct {
	Epoch   uint64 `json:"epoch"`
	Paused  bool   `json:"paused"`
	Pending int64  `json:"pending_trees"`
	Queued  int64  `json:"queued_tuples"`
}

// drainedAt reports whether s shows nothing in flight at epoch (or later).
func (s drainState) drainedAt(epoch uint64) bool {
	return s.Epoch == 0 || s.Epoch >= epoch && s.Paused && s.Pending == 0 && s.Queued == 0
}

func (w *Worker) serveDrained(srv *api.Server) {
	srv.Handle("GET /api/v1/drained/{name}", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(w.drainState(r.PathValue("name")))
	}))
}

func (w *Worker) drainState(name string) drainState {
	w.mu.Lock()
	l := w.running[name]
	w.mu.Unlock()
	if l == nil || l.rt == nil {
		return drainState{}
	}
	// paused: asked to, and every spout's loop saw it (a NextTuple that
	// was running may have emitted one more tree, counted below)
	paused := !l.active.Load() && l.rt.SpoutsPaused()
	p, q := l.rt.InFlight()
	return drainState{Epoch: l.epochNow.Load(), Paused: paused, Pending: p, Queued: q}
}

// handoverMark is when the leader saw a Draining assignment first.
type handoverMark struct {
	epoch uint64
	at    time.Time // monotonic, local
}

// nextAssignment is what the leader stores for topology name, whose
// tasks it computed as tasks while prev is stored; write is false when
// nothing is to be stored (yet). alive are the live members' names;
// drained reports whether the workers of prev have nothing in flight
// (Worker.drained); inPlace, that tasks only adds or removes tasks of
// elastic components, which the workers do without a pause (reshape.go).
func (w *Worker) nextAssignment(name string, prev store.Assignment, tasks map[string]string,
	alive map[string]bool, drained func() bool, inPlace bool) (next store.Assignment, write bool) {
	next = store.Assignment{Topology: name, Epoch: prev.Epoch + 1, Tasks: tasks}
	if w.handovers == nil {
		w.handovers = map[string]handoverMark{}
	}
	same := prev.Epoch > 0 && mapsEqual(prev.Tasks, tasks)
	if same && !prev.Draining {
		delete(w.handovers, name)
		return next, false
	}
	if same || prev.Epoch == 0 || !workersAlive(prev.Tasks, alive) || inPlace && !prev.Draining {
		// nothing moves any more; a first assignment; a worker died: its
		// trees replay anyway, and waiting would only delay them; or
		// elastic tasks start or stop where the others keep running
		delete(w.handovers, name)
		return next, true
	}
	if !prev.Draining {
		// step 1: pause where the tasks are
		next.Tasks, next.Draining = prev.Tasks, true
		w.handovers[name] = handoverMark{epoch: next.Epoch, at: time.Now()}
		return next, true
	}
	mark, ok := w.handovers[name]
	if !ok || mark.epoch != prev.Epoch {
		// stored by a leader before this one: its clock starts now
		mark = handoverMark{epoch: prev.Epoch, at: time.Now()}
		w.handovers[name] = mark
	}
	if !drained() {
		if time.Since(mark.at) < handoverTimeout {
			return next, false // step 2 waits
		}
		w.log.Warn("tasks move before the trees in flight completed: those replay", "topology", name,
			"waited", handoverTimeout)
	}
	delete(w.handovers, name)
	return next, true
}

// workersAlive reports whether every worker of tasks is alive.
func workersAlive(tasks map[string]string, alive map[string]bool) bool {
	for _, wk := range tasks {
		if !alive[wk] {
			return false
		}
	}
	return true
}

// drained reports whether every worker of assignment a reports nothing
// in flight of topology name at a's epoch.
func (w *Worker) drained(ctx context.Context, name string, a store.Assignment) bool {
	var workers []string
	for _, wk := range a.Tasks {
		if !slices.Contains(workers, wk) {
			workers = append(workers, wk)
		}
	}
	members := map[string]membership.Member{}
	for _, m := range w.ms.Members() {
		members[m.Name] = m
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var mu sync.Mutex
	all := true
	var wg sync.WaitGroup
	for _, wk := range workers {
		if wk == w.cfg.Name {
			if !w.drainState(name).drainedAt(a.Epoch) {
				all = false
			}
			continue
		}
		m, ok := members[wk]
		if !ok {
			return false
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s drainState
			err := w.peerClient(m).Get(ctx, "/api/v1/drained/"+name, &s)
			if err != nil || !s.drainedAt(a.Epoch) {
				mu.Lock()
				all = false
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return all
}

// peerClient is a client of member m's API.
func (w *Worker) peerClient(m membership.Member) *api.Client {
	scheme := "http://"
	if m.Meta.TLS {
		scheme = "https://"
	}
	return &api.Client{Base: scheme + m.Meta.API, Token: w.cfg.API.Token, HTTP: w.peerHTTP}
}

// beginLeave starts a graceful leave: this worker stops leading and tells
// the others it is leaving, so that the leader moves its tasks away.
func (w *Worker) beginLeave(stopLeading func()) {
	w.leaving.Store(true)
	stopLeading()
	w.meta.Leaving = true
	// the update waits for its gossip to go out (at once when nobody is
	// left to hear it); a peer that is stopping too may never answer
	if err := w.ms.UpdateMeta(w.meta, time.Second); err != nil {
		w.log.Warn("leaving: cannot tell the others; its tasks move when it is gone", "err", err)
	}
	w.log.Info("leaving: waiting for the tasks here to move (SIGTERM again to stop now)", "drain_timeout", w.cfg.DrainTimeout)
}

// mayGo reports whether a leaving worker may stop: it runs no share any
// more, or no other worker can take its tasks and its own trees in
// flight completed (spouts paused), or its drain timeout (by) passed.
func (w *Worker) mayGo(by time.Time) bool {
	ls := w.shares()
	if len(ls) == 0 {
		return true
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.name+"@"+strconv.FormatUint(l.epochNow.Load(), 10))
	}
	if time.Now().After(by) {
		w.log.Warn("drain timeout: leaving with tasks still here; their trees in flight replay", "topologies", names)
		return true
	}
	others := false
	for _, m := range w.ms.Members() {
		if m.Name != w.cfg.Name && !m.Meta.Leaving {
			others = true
		}
	}
	if others {
		return false
	}
	// nobody takes over: drain here, as a kill does
	quiet := true
	for _, l := range ls {
		w.setActive(l, false)
		if p, q := l.rt.InFlight(); p+q > 0 {
			quiet = false
		}
	}
	if quiet {
		w.log.Info("leaving: no other worker; the trees in flight completed here", "topologies", names)
	}
	return quiet
}
