package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/internal/monitor"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/topology"
)

var _ api.Backend = (*Worker)(nil)

func storeErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", api.ErrNotFound, err)
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("%w: %w", api.ErrExists, err)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: a concurrent change; try again: %w", api.ErrBadRequest, err)
	}
	return fmt.Errorf("%w: %w", api.ErrUnavailable, err)
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
	procs := w.processes(ctx)
	var out []api.Member
	for _, m := range w.ms.All() {
		p := procs[m.Name]
		state := string(m.State)
		if m.State == membership.Alive && m.Meta.Leaving {
			state = "leaving" // a graceful leave: its tasks are moving away
		}
		out = append(out, api.Member{Name: m.Name, Addr: m.Addr, State: state, API: m.Meta.API,
			Transport: m.Meta.Transport, Started: m.Meta.Started, Slots: m.Meta.Slots, Tasks: tasks[m.Name], Version: m.Meta.Version,
			CPUPercent: p.CPUPercent, RSSBytes: p.RSSBytes})
	}
	return out, nil
}

// Submit validates a topology here and on the types of every worker,
// checks that it fits a cluster (topology.ClusterChecker), and stores it;
// the leader assigns it.
func (w *Worker) Submit(ctx context.Context, data []byte) (api.TopologySummary, error) {
	topo, err := topology.Decode(data, w.full)
	if err == nil {
		err = topo.CheckCluster()
	}
	if err != nil {
		return api.TopologySummary{}, &api.InvalidError{Details: details(err)}
	}
	var missing []string
	for _, list := range []struct {
		name  string
		comps []*topology.Component
	}{{"spouts", topo.Spouts}, {"bolts", topo.Bolts}} {
		for i, c := range list.comps {
			if !typeAllowed(w.cfg, c.Type) {
				missing = append(missing, fmt.Sprintf("%s[%d].type: worker %s refuses type %q (--allow-types/--deny-types)",
					list.name, i, w.cfg.Name, c.Type))
			}
		}
	}
	for _, m := range w.ms.Members() {
		if m.Name == w.cfg.Name {
			continue // checked above, with the component's path
		}
		if m.Meta.Types == nil && m.Meta.TypesHash != "" {
			// its list did not fit in gossip: the same hash as ours means
			// the same types, which the decode above checked
			if m.Meta.TypesHash != w.typesHash {
				missing = append(missing, fmt.Sprintf("worker %s has other component types than %s, and too many to gossip: submit through it",
					m.Name, w.cfg.Name))
			}
			continue
		}
		for _, c := range append(slices.Clone(topo.Spouts), topo.Bolts...) {
			if !slices.Contains(m.Meta.Types, c.Type) {
				missing = append(missing, fmt.Sprintf("worker %s has no type %q, or refuses it (component %q)", m.Name, c.Type, c.ID))
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

// details lists a topology's problems, each with its JSON path.
func details(err error) []string {
	var errs *topology.Errors
	if !errors.As(err, &errs) {
		return []string{err.Error()}
	}
	var d []string
	for _, e := range errs.List {
		d = append(d, e.Error())
	}
	return d
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
	topo, err := w.decode(t)
	if err != nil {
		return &api.Topology{TopologySummary: summary(t)}, nil
	}
	a, _ := w.st.GetAssignment(ctx, t.Name)
	owner := ownerOf(topo, a)
	d := monitor.Describe(topo, summary(t), owner, w.gather(ctx, t.Name, ""))
	if r := t.Rescale; r != nil {
		d.Rescale = &api.Rescale{Parallelism: r.Parallelism, Workers: r.Workers, Reason: r.Reason, RequestedAt: r.RequestedAt}
	}
	d.Autoscale = autoscaleState(topo, t.Scaling)
	if err := topo.CheckCluster(); err != nil {
		// not assigned, not run (reconcile): for this reason, not for
		// want of slots
		d.Refused, d.Unassigned = details(err), nil
	}
	return d, nil
}

// ownerOf maps an engine task id to the worker assignment a gives it.
func ownerOf(topo *topology.Topology, a store.Assignment) func(int) string {
	keys := keysByID(topo, taskIDs(topo))
	return func(id int) string { return a.Tasks[keys[id]] }
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

// SetAutoscale pauses or resumes the autoscaler for topology name.
func (w *Worker) SetAutoscale(ctx context.Context, name string, on bool) error {
	return w.update(ctx, name, func(t *store.Topology) error {
		if t.Scaling == nil {
			t.Scaling = &store.Scaling{}
		}
		t.Scaling.Paused = !on
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
		if _, err := topo.WithParallelism(r.Parallelism); err != nil {
			return fmt.Errorf("%w: %w", api.ErrBadRequest, err)
		}
		// applied by the leader once the trees in flight completed
		// (rescale.go); a rebalance asked while one waits joins it
		rs := t.Rescale
		if rs == nil {
			rs = &store.Rescale{RequestedAt: time.Now().UTC()}
		}
		if rs.Parallelism == nil && len(r.Parallelism) > 0 {
			rs.Parallelism = map[string]int{}
		}
		for c, n := range r.Parallelism {
			rs.Parallelism[c] = n
		}
		if r.Workers > 0 {
			rs.Workers = r.Workers
		}
		rs.Reason = "rebalance"
		t.Rescale = rs
		return nil
	})
}

// Info describes this worker.
func (w *Worker) Info(context.Context) api.Info {
	return api.Info{Mode: "cluster", Worker: w.cfg.Name, Version: w.cfg.Version, Started: w.start, Rebalance: true}
}

// Series returns the live charts' points of topology name.
func (w *Worker) Series(ctx context.Context, name, window string) (*api.Series, error) {
	t, err := w.st.GetTopology(ctx, name)
	if err != nil {
		return nil, storeErr(err)
	}
	topo, err := w.decode(t)
	if err != nil {
		return nil, fmt.Errorf("topology %s: %w", name, err)
	}
	return monitor.BuildSeries(topo, window, w.gather(ctx, name, window)), nil
}
