package monitor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/topology"
)

// Local answers the cluster API for one topology running in this process
// (gale run --ui), so that the monitor UI and the CLI work on a local run
// too. A local run cannot take submissions nor rebalance (501).
type Local struct {
	Topo    *topology.Topology
	RT      *local.Runtime
	Rec     *Recorder
	Worker  string // the name shown for this process
	Addr    string // the UI's address
	Version string
	// Stop ends the run, draining in-flight tuples for at most drain.
	Stop func(drain time.Duration)

	// Started is when the run started (for the member's uptime).
	Started time.Time

	once   sync.Once
	mu     sync.Mutex
	status string
}

var _ api.Backend = (*Local)(nil)

func (l *Local) init() {
	l.once.Do(func() {
		l.status = "active"
		if l.Started.IsZero() {
			l.Started = time.Now()
		}
	})
}

// Finished marks the run as over (the topology stays visible as killed).
func (l *Local) Finished() {
	l.init()
	l.mu.Lock()
	l.status = "killed"
	l.mu.Unlock()
}

func (l *Local) summary() api.TopologySummary {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	return api.TopologySummary{Name: l.Topo.Name, Status: l.status, Version: 1, Submitted: l.Started}
}

func (l *Local) check(name string) error {
	if name != l.Topo.Name {
		return fmt.Errorf("%w: %q (this process runs %q)", api.ErrNotFound, name, l.Topo.Name)
	}
	return nil
}

func (l *Local) report(series string) []Report {
	return []Report{l.Rec.Report(l.Worker, time.Now(), l.RT.Stats(), series)}
}

// Members returns this process.
func (l *Local) Members(context.Context) ([]api.Member, error) {
	l.init()
	cpu, rss := l.Rec.Process()
	tasks := 0
	for _, c := range Components(l.Topo) {
		tasks += max(1, c.Parallelism)
	}
	return []api.Member{{Name: l.Worker, Addr: l.Addr, State: "alive", API: l.Addr, Started: l.Started,
		Tasks: tasks, Version: l.Version, CPUPercent: cpu, RSSBytes: rss}}, nil
}

// Topologies returns the one topology.
func (l *Local) Topologies(ctx context.Context) ([]api.TopologySummary, error) {
	d, err := l.Describe(ctx, l.Topo.Name)
	if err != nil {
		return nil, err
	}
	return []api.TopologySummary{d.TopologySummary}, nil
}

// Submit is refused: a local run runs one topology.
func (l *Local) Submit(context.Context, []byte) (api.TopologySummary, error) {
	return api.TopologySummary{}, fmt.Errorf("%w: gale run runs one topology; submit to a cluster of gale workers", api.ErrUnsupported)
}

// Describe describes the topology.
func (l *Local) Describe(_ context.Context, name string) (*api.Topology, error) {
	if err := l.check(name); err != nil {
		return nil, err
	}
	return Describe(l.Topo, l.summary(), nil, l.report("")), nil
}

// Kill stops the run.
func (l *Local) Kill(_ context.Context, name string, drain time.Duration) error {
	if err := l.check(name); err != nil {
		return err
	}
	l.Finished()
	if l.Stop != nil {
		go l.Stop(drain)
	}
	return nil
}

// SetActive pauses or resumes the spouts.
func (l *Local) SetActive(_ context.Context, name string, on bool) error {
	if err := l.check(name); err != nil {
		return err
	}
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status == "killed" {
		return fmt.Errorf("%w: the run is over", api.ErrBadRequest)
	}
	if on {
		l.RT.Activate()
		l.status = "active"
	} else {
		l.RT.Deactivate()
		l.status = "inactive"
	}
	return nil
}

// SetAutoscale is refused: a local run has a fixed parallelism.
func (l *Local) SetAutoscale(_ context.Context, name string, _ bool) error {
	if err := l.check(name); err != nil {
		return err
	}
	return fmt.Errorf("%w: a local run does not autoscale; run the topology on gale workers", api.ErrUnsupported)
}

// Rebalance is refused: a local run has a fixed parallelism.
func (l *Local) Rebalance(_ context.Context, name string, _ api.Rebalance) error {
	if err := l.check(name); err != nil {
		return err
	}
	return fmt.Errorf("%w: a local run cannot rebalance; run the topology on gale workers", api.ErrUnsupported)
}

// Series returns the live charts' points.
func (l *Local) Series(_ context.Context, name, window string) (*api.Series, error) {
	if err := l.check(name); err != nil {
		return nil, err
	}
	return BuildSeries(l.Topo, window, l.report(window)), nil
}

// Info describes this process.
func (l *Local) Info(context.Context) api.Info {
	l.init()
	return api.Info{Mode: "local", Worker: l.Worker, Version: l.Version, Started: l.Started, Rebalance: false}
}
