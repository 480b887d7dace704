package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/engine"
	"github.com/gale-stream/gale/topology"
)

var _ api.Backend = (*Worker)(nil)

func storeErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %v", api.ErrNotFound, err)
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("%w: %v", api.ErrExists, err)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: a concurrent change; try again: %v", api.ErrBadRequest, err)
	}
	return fmt.Errorf("%w: %v", api.ErrUnavailable, err)
}

// Members lists the workers with the tasks each runs.
func (w *Worker) Members(ctx context.Context) ([]api.Member, error) {
	tasks := map[string]int{}
	if tops, err := w.st.ListTopologies(ctx); err == nil {
		for _, t := range tops {
			if a, err := w.st.GetAssignment(ctx, t.Name); err == nil {
				for _, wk := range a.Tasks {
					tasks[wk]++
				}
			}
		}
	}
	var out []api.Member
	for _, m := range w.ms.All() {
		out = append(out, api.Member{Name: m.Name, Addr: m.Addr, State: string(m.State), API: m.Meta.API,
			Transport: m.Meta.Transport, Started: m.Meta.Started, Slots: m.Meta.Slots, Tasks: tasks[m.Name], Version: m.Meta.Version})
	}
	return out, nil
}

// Submit validates a topology here and on the types of every worker, and
// stores it; the leader assigns it.
func (w *Worker) Submit(ctx context.Context, data []byte) (api.TopologySummary, error) {
	topo, err := topology.Decode(data, w.cfg.Registry)
	var errs *topology.Errors
	if errors.As(err, &errs) {
		var d []string
		for _, e := range errs.List {
			d = append(d, e.Error())
		}
		return api.TopologySummary{}, &api.InvalidError{Details: d}
	}
	if err != nil {
		return api.TopologySummary{}, &api.InvalidError{Details: []string{err.Error()}}
	}
	var missing []string
	for _, m := range w.ms.Members() {
		for _, c := range append(slices.Clone(topo.Spouts), topo.Bolts...) {
			if !slices.Contains(m.Meta.Types, c.Type) {
				missing = append(missing, fmt.Sprintf("worker %s has no type %q (component %q)", m.Name, c.Type, c.ID))
			}
		}
	}
	if len(missing) > 0 {
		return api.TopologySummary{}, fmt.Errorf("%w: %s", api.ErrUnknownType, strings.Join(missing, "; "))
	}
	t, err := w.st.PutTopology(ctx, store.Topology{Name: topo.Name, JSON: data, Status: store.StatusActive}, 0)
	if err != nil {
		return api.TopologySummary{}, storeErr(err)
	}
	w.poke()
	return summary(t), nil
}

func summary(t store.Topology) api.TopologySummary {
	return api.TopologySummary{Name: t.Name, Status: string(t.Status), Version: int64(t.Version), Submitted: t.SubmittedAt}
}

// Topologies lists the topologies with their totals.
func (w *Worker) Topologies(ctx context.Context) ([]api.TopologySummary, error) {
	tops, err := w.st.ListTopologies(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	var out []api.TopologySummary
	for _, t := range tops {
		d, err := w.describe(ctx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, d.TopologySummary)
	}
	return out, nil
}

// Describe describes a topology: components, tasks, workers, metrics.
func (w *Worker) Describe(ctx context.Context, name string) (*api.Topology, error) {
	t, err := w.st.GetTopology(ctx, name)
	if err != nil {
		return nil, storeErr(err)
	}
	return w.describe(ctx, t)
}

func (w *Worker) describe(ctx context.Context, t store.Topology) (*api.Topology, error) {
	out := &api.Topology{TopologySummary: summary(t)}
	topo, err := w.decode(t)
	if err != nil {
		return out, nil
	}
	a, _ := w.st.GetAssignment(ctx, t.Name)
	stats := w.gather(ctx, t.Name)
	byTask := map[int]engine.TaskStats{}
	for _, st := range stats {
		for _, ts := range st.Tasks {
			byTask[ts.Task] = ts
		}
	}
	workers := map[string]bool{}
	ids := taskIDs(topo)
	comps := append(slices.Clone(topo.Spouts), topo.Bolts...)
	slices.SortFunc(comps, func(a, b *topology.Component) int { return strings.Compare(a.ID, b.ID) })
	for _, c := range comps {
		ac := api.Component{ID: c.ID, Kind: c.Kind.String(), Type: c.Type, Parallelism: c.Parallelism}
		for idx, id := range ids[c.ID] {
			out.Tasks++
			wk := a.Tasks[taskKey(c.ID, idx)]
			if wk != "" {
				workers[wk] = true
			} else {
				out.Unassigned = append(out.Unassigned, id)
			}
			ts := byTask[id]
			ac.Tasks = append(ac.Tasks, api.Task{ID: id, Worker: wk, Emitted: ts.Emitted, Acked: ts.Acked, Failed: ts.Failed})
			ac.Emitted += ts.Emitted
			ac.Transferred += ts.Transferred
			ac.Acked += ts.Acked
			ac.Failed += ts.Failed
			ac.Executed += ts.Executed
			ac.Errors += ts.Errors
			ac.CompleteP50Ms = max(ac.CompleteP50Ms, float64(ts.CompleteP50)/1e6)
			ac.CompleteP99Ms = max(ac.CompleteP99Ms, float64(ts.CompleteP99)/1e6)
			for _, e := range ts.LastErrors {
				ac.LastErrors = append(ac.LastErrors, api.ErrorRecord{Time: e.Time, Worker: ts.Worker, Task: id, Message: e.Message})
			}
			if c.Kind == topology.KindSpout {
				out.Emitted += ts.Emitted
				out.Acked += ts.Acked
				out.Failed += ts.Failed
			}
		}
		sort.Slice(ac.LastErrors, func(i, j int) bool { return ac.LastErrors[i].Time.Before(ac.LastErrors[j].Time) })
		if n := len(ac.LastErrors); n > 10 {
			ac.LastErrors = ac.LastErrors[n-10:]
		}
		out.Components = append(out.Components, ac)
	}
	out.Workers = len(workers)
	return out, nil
}

// gather fetches the local stats of topology name from every live worker.
func (w *Worker) gather(ctx context.Context, name string) []engine.Stats {
	var mu sync.Mutex
	var out []engine.Stats
	var wg sync.WaitGroup
	for _, m := range w.ms.Members() {
		if m.Name == w.cfg.Name {
			if st, ok := w.localStatsOf(name); ok {
				mu.Lock()
				out = append(out, st)
				mu.Unlock()
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &api.Client{Base: "http://" + m.Meta.API, HTTP: &http.Client{Timeout: 3 * time.Second}}
			var st engine.Stats
			if err := c.Get(ctx, "/api/v1/local/"+name, &st); err == nil {
				mu.Lock()
				out = append(out, st)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

func (w *Worker) localStatsOf(name string) (engine.Stats, bool) {
	w.mu.Lock()
	l := w.running[name]
	w.mu.Unlock()
	if l == nil {
		return engine.Stats{}, false
	}
	return l.rt.Stats(), true
}

func (w *Worker) localStats(rw http.ResponseWriter, r *http.Request) {
	st, ok := w.localStatsOf(r.PathValue("name"))
	if !ok {
		st = engine.Stats{Topology: r.PathValue("name")}
	}
	rw.Header().Set("Content-Type", "application/json")
	json.NewEncoder(rw).Encode(st)
}

// update applies f to topology name's record (compare-and-set, retried).
func (w *Worker) update(ctx context.Context, name string, f func(*store.Topology) error) error {
	for range 5 {
		t, err := w.st.GetTopology(ctx, name)
		if err != nil {
			return storeErr(err)
		}
		if err := f(&t); err != nil {
			return err
		}
		_, err = w.st.PutTopology(ctx, t, t.Version)
		if err == nil {
			w.poke()
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return storeErr(err)
		}
	}
	return fmt.Errorf("%w: topology %q keeps changing; try again", api.ErrBadRequest, name)
}

// Kill marks a topology killed: its spouts stop, the trees in flight have
// drain to complete, then every worker stops its tasks.
func (w *Worker) Kill(ctx context.Context, name string, drain time.Duration) error {
	return w.update(ctx, name, func(t *store.Topology) error {
		t.Status = store.StatusKilled
		t.KillDrainSeconds = int(drain.Seconds())
		return nil
	})
}

// SetActive resumes or pauses a topology's spouts.
func (w *Worker) SetActive(ctx context.Context, name string, on bool) error {
	return w.update(ctx, name, func(t *store.Topology) error {
		if t.Status == store.StatusKilled {
			return fmt.Errorf("%w: topology %q is being killed", api.ErrBadRequest, name)
		}
		t.Status = store.StatusInactive
		if on {
			t.Status = store.StatusActive
		}
		return nil
	})
}

// Rebalance changes parallelism or the number of workers, live.
func (w *Worker) Rebalance(ctx context.Context, name string, r api.Rebalance) error {
	return w.update(ctx, name, func(t *store.Topology) error {
		topo, err := w.decode(*t)
		if err != nil {
			return err
		}
		for c := range r.Parallelism {
			found := false
			for _, x := range append(slices.Clone(topo.Spouts), topo.Bolts...) {
				found = found || x.ID == c
			}
			if !found {
				return fmt.Errorf("%w: topology %q has no component %q", api.ErrBadRequest, name, c)
			}
		}
		if t.Parallelism == nil {
			t.Parallelism = map[string]int{}
		}
		for c, n := range r.Parallelism {
			t.Parallelism[c] = n
		}
		if r.Workers > 0 {
			t.Workers = r.Workers
		}
		return nil
	})
}

// Info describes this worker.
func (w *Worker) Info(context.Context) api.Info {
	return api.Info{Mode: "cluster", Worker: w.cfg.Name, Version: w.cfg.Version, Started: w.start, Rebalance: true}
}

// Series returns the live charts' points of topology name.
func (w *Worker) Series(ctx context.Context, name, window string) (*api.Series, error) {
	return nil, fmt.Errorf("%w: series not yet", api.ErrUnsupported)
}
