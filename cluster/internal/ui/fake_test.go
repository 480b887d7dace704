package ui_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/local"
)

// call is a mutating call the fake backend received.
type call struct {
	Op, Name  string
	Active    bool
	Rebalance api.Rebalance
	Drain     time.Duration
}

// fakeBackend is an api.Backend with made-up data whose counters rise on
// every Describe, so that pages change between polls.
type fakeBackend struct {
	mu     sync.Mutex // guards the fields below
	info   api.Info
	topos  map[string]*api.Topology
	calls  []call
	polls  int
	t0     time.Time
	member []api.Member
}

var _ api.Backend = (*fakeBackend)(nil)

func newFake(local bool, topos ...*api.Topology) *fakeBackend {
	now := time.Now()
	f := &fakeBackend{t0: now, topos: map[string]*api.Topology{},
		info: api.Info{Mode: "cluster", Worker: "w1", Version: "test", Started: now.Add(-time.Hour), Rebalance: true}}
	if local {
		f.info.Mode, f.info.Rebalance = "local", false
	}
	for _, t := range topos {
		f.topos[t.Name] = t
	}
	f.member = []api.Member{
		{Name: "w1", Addr: "127.0.0.1:7946", State: "alive", API: "127.0.0.1:8080", Transport: "127.0.0.1:7947", Started: now.Add(-2 * time.Hour),
			Slots: 8, Tasks: 9, Version: "test", CPUPercent: 42.5, RSSBytes: 180 << 20},
		{Name: "w2", Addr: "127.0.0.1:7948", State: "alive", API: "127.0.0.1:8081", Transport: "127.0.0.1:7949", Started: now.Add(-90 * time.Minute),
			Slots: 8, Tasks: 8, Version: "test", CPUPercent: 12.25, RSSBytes: 95 << 20},
	}
	return f
}

func (f *fakeBackend) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeBackend) Members(context.Context) ([]api.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Member(nil), f.member...), nil
}

func (f *fakeBackend) Topologies(context.Context) ([]api.TopologySummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.TopologySummary
	for _, t := range f.topos {
		out = append(out, t.TopologySummary)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeBackend) Submit(context.Context, []byte) (api.TopologySummary, error) {
	return api.TopologySummary{}, api.ErrUnsupported
}

// Describe returns the topology with its counters moved on by one poll.
func (f *fakeBackend) Describe(_ context.Context, name string) (*api.Topology, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.topos[name]
	if !ok {
		return nil, fmt.Errorf("topology %q: %w", name, api.ErrNotFound)
	}
	f.polls++
	t.Acked += 1000
	t.Emitted += 3000
	for i := range t.Components {
		c := &t.Components[i]
		c.Emitted += 1000
		c.Acked += 1000
		c.Executed += 1000
		for j := range c.Windows {
			c.Windows[j].Emitted += 1000
			c.Windows[j].Acked += 1000
		}
	}
	cp := *t
	cp.Components = append([]api.Component(nil), t.Components...)
	return &cp, nil
}

func (f *fakeBackend) Kill(_ context.Context, name string, drain time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.topos[name]; !ok {
		return api.ErrNotFound
	}
	f.calls = append(f.calls, call{Op: "kill", Name: name, Drain: drain})
	delete(f.topos, name)
	return nil
}

func (f *fakeBackend) SetActive(_ context.Context, name string, active bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.topos[name]
	if !ok {
		return api.ErrNotFound
	}
	f.calls = append(f.calls, call{Op: "active", Name: name, Active: active})
	t.Status = map[bool]string{true: "active", false: "inactive"}[active]
	return nil
}

func (f *fakeBackend) SetAutoscale(context.Context, string, bool) error { return api.ErrUnsupported }

func (f *fakeBackend) Rebalance(_ context.Context, name string, r api.Rebalance) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.topos[name]
	if !ok {
		return api.ErrNotFound
	}
	f.calls = append(f.calls, call{Op: "rebalance", Name: name, Rebalance: r})
	t.Version++
	for i := range t.Components {
		if n, ok := r.Parallelism[t.Components[i].ID]; ok {
			t.Components[i].Parallelism = n
		}
	}
	return nil
}

func (f *fakeBackend) Series(_ context.Context, name, window string) (*api.Series, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.topos[name]
	if !ok {
		return nil, api.ErrNotFound
	}
	step, n := 5*time.Second, 120
	if window == "3h" {
		step, n = time.Minute, 180
	}
	end := time.Now().Truncate(step)
	s := &api.Series{Topology: name, Window: window, StepSeconds: step.Seconds()}
	for ci, c := range t.Components {
		cs := api.ComponentSeries{ID: c.ID, Kind: c.Kind}
		for i := 0; i < n; i++ {
			x := float64((i + ci*7) % 40)
			cs.Points = append(cs.Points, api.Point{Time: end.Add(-time.Duration(n-1-i) * step),
				Emitted: 900 + 10*x, Acked: 850 + 9*x, Failed: float64(i % 3), Executed: 880 + 10*x,
				ExecuteLatencyMs: 0.2 + x/100, CompleteLatencyMs: 12 + x/2})
		}
		s.Components = append(s.Components, cs)
	}
	return s, nil
}

func (f *fakeBackend) Info(context.Context) api.Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info
}

// windows are a component's 10m, 3h and all windows, scaled from x.
func windows(x uint64, capacity float64) []api.Window {
	var out []api.Window
	for i, w := range []string{"10m", "3h", "all"} {
		k := uint64(1 + 4*i)
		out = append(out, api.Window{Window: w, Seconds: []float64{600, 3600, 5400}[i], Emitted: x * k, Transferred: x * k, Acked: x * k * 9 / 10,
			Failed: x * k / 100, Executed: x * k, Errors: uint64(i), ExecuteLatencyMs: 0.3, ProcessLatencyMs: 0.5, CompleteLatencyMs: 14.5,
			Capacity: capacity})
	}
	return out
}

func component(id, kind, typ string, par int, capacity float64, workers ...string) api.Component {
	c := api.Component{ID: id, Kind: kind, Type: typ, Parallelism: par, Emitted: 10000, Transferred: 10000, Acked: 9000, Executed: 10000,
		ExecuteLatencyMs: 0.3, ProcessLatencyMs: 0.5, Capacity: capacity, Rates: api.Rates{Emitted: 1000, Acked: 900, Failed: 1},
		Windows: windows(10000, capacity)}
	if kind == "spout" {
		c.CompleteLatencyMs, c.CompleteP50Ms, c.CompleteP99Ms = 14.5, 11, 48
	}
	for i := 0; i < par; i++ {
		w := "w1"
		if len(workers) > 0 {
			w = workers[i%len(workers)]
		}
		c.Tasks = append(c.Tasks, api.Task{ID: i + 1, Worker: w, Emitted: 10000 / uint64(par), Acked: 9000 / uint64(par), Executed: 10000 / uint64(par),
			ExecuteLatencyMs: 0.3, ProcessLatencyMs: 0.5, Capacity: capacity, Rates: api.Rates{Emitted: 1000 / float64(par)}})
	}
	return c
}

// wordcount is a topology like the e2e one: a Kafka spout, split, a bolt
// that fails and reports errors, count, and a file sink.
func wordcount(name string) *api.Topology {
	now := time.Now()
	t := &api.Topology{TopologySummary: api.TopologySummary{Name: name, Status: "active", Version: 1, Submitted: now.Add(-time.Hour),
		Workers: 2, Tasks: 11, Emitted: 123456, Acked: 100000, Failed: 12, Rates: api.Rates{Emitted: 2000, Acked: 1900, Failed: 0.5}, UptimeSeconds: 3600}}
	spout := component("sentences", "spout", "kafka", 2, 0, "w1", "w2")
	spout.Partitions = []api.Partition{
		{Task: 1, Worker: "w1", Lag: 5000, PartitionStatus: local.PartitionStatus{Topic: "sentences", Partition: 0, Planned: 40, Committed: 36,
			InFlight: 3, Replaying: 1, NextOffset: 40000, CommittedOffset: 36000, HighWatermark: 41000, Committing: 1, CommitRetries: 3,
			LastError: "commit batch sentences/00000/000000000036: ledger: broker timed out", LastErrorAt: now.Add(-5 * time.Second),
			LostOffsets: 1200, LastLost: &local.LostRange{Batch: "sentences/00000/000000000012", Start: 11800, End: 12000}}},
		{Task: 2, Worker: "w2", PartitionStatus: local.PartitionStatus{Topic: "sentences", Partition: 1, Planned: 38, Committed: 38,
			NextOffset: 38000, CommittedOffset: 38000, HighWatermark: -1}},
		{Task: 2, Worker: "w2", PartitionStatus: local.PartitionStatus{Topic: "sentences", Partition: 2, Planned: 5, Committed: 5,
			NextOffset: 5000, CommittedOffset: 5000, HighWatermark: 9000,
			Stopped: "sentences/2: offsets [5000, 7000) of batch sentences/00002/000000000005: records deleted by Kafka before they were read (the log now starts at 7000)"}},
	}
	fail := component("flaky", "bolt", "fail", 2, 0.35, "w2")
	fail.Errors = 2
	fail.LastErrors = []api.ErrorRecord{
		{Time: now.Add(-30 * time.Second), Worker: "w2", Task: 5, Message: "flaky: tuple failed on purpose <b>not bold</b>"},
		{Time: now.Add(-10 * time.Second), Worker: "w2", Task: 6, Message: "flaky: second failure"},
	}
	sink := component("files", "bolt", "file_sink", 2, 0.12, "w1", "w2")
	sink.Sink = &api.Sink{Backend: "file_sink", Batches: 74, Records: 74000, Bytes: 5 << 20, InFlight: 1, WriteLatencyMs: 3.2, LastWriteMs: 2.9, Retries: 1,
		LastError: "write /data/x: disk full", LastErrorAt: now.Add(-5 * time.Minute)}
	t.Components = []api.Component{spout, component("split", "bolt", "split", 3, 0.62, "w1", "w2"), fail,
		component("count", "bolt", "count", 2, 0.93, "w1"), sink}
	t.Streams = []api.Stream{
		{From: "sentences", To: "split", Stream: "default", Grouping: "shuffle"},
		{From: "split", To: "flaky", Stream: "default", Grouping: "local_or_shuffle"},
		{From: "flaky", To: "count", Stream: "default", Grouping: "fields", Fields: []string{"word"}},
		{From: "sentences", To: "files", Stream: "default", Grouping: "batch"},
		{From: "count", To: "files", Stream: "counts", Grouping: "global"},
	}
	return t
}

// large is a topology of n components: 3 spouts and bolts in stages, with
// long edges that skip stages, to stress the layout.
func large(name string, n int) *api.Topology {
	t := &api.Topology{TopologySummary: api.TopologySummary{Name: name, Status: "active", Version: 1, Submitted: time.Now().Add(-time.Hour), Workers: 2}}
	id := func(i int) string {
		if i < 3 {
			return fmt.Sprintf("spout-%d", i)
		}
		return fmt.Sprintf("bolt-%02d-with-a-longer-name", i)
	}
	for i := 0; i < n; i++ {
		kind, typ := "bolt", []string{"split", "count", "filter", "json", "file_sink"}[i%5]
		if i < 3 {
			kind, typ = "spout", "kafka"
		}
		t.Components = append(t.Components, component(id(i), kind, typ, 1+i%4, float64(i%10)/10, "w1", "w2"))
		t.Tasks += 1 + i%4
	}
	for i := 3; i < n; i++ {
		// each bolt reads one or two earlier components
		a := (i*7 + 3) % i
		t.Streams = append(t.Streams, api.Stream{From: id(a), To: id(i), Stream: "default", Grouping: "shuffle"})
		if i%3 == 0 {
			b := (i*13 + 5) % i
			if b != a {
				t.Streams = append(t.Streams, api.Stream{From: id(b), To: id(i), Stream: "default", Grouping: "fields", Fields: []string{"key", "user_id"}})
			}
		}
	}
	return t
}

// xssReason is a decision's reason with markup, which the page must show
// as text.
const xssReason = `capacity 0.21 < 0.75 <script>window.pwned = true</script><b>not bold</b>`

// autoscaled is wordcount with autoscale policies for sentences, split and
// count, six decisions over the last 20 minutes (up, down, and one the
// ceiling limited), and a pending rescale of split from 3 to 5 tasks.
func autoscaled(name string, paused bool) *api.Topology {
	t := wordcount(name)
	now := time.Now().UTC()
	ago := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
	t.Autoscale = &api.Autoscale{Paused: paused,
		Policies: map[string]api.AutoscalePolicy{
			"sentences": {Min: 1, Max: 4, TargetCapacity: 0.8, ScaleUpLagSeconds: 30, CooldownSeconds: 120, Parallelism: 2},
			"split":     {Min: 1, Max: 8, TargetCapacity: 0.75, CooldownSeconds: 60, Parallelism: 3},
			"count":     {Min: 2, Max: 2, TargetCapacity: 0.7, CooldownSeconds: 300, Parallelism: 2},
		},
		Decisions: []api.AutoscaleDecision{
			{At: ago(20), Component: "split", From: 1, To: 2, Direction: "up", Reason: "capacity 0.91 > 0.75"},
			{At: ago(15), Component: "sentences", From: 1, To: 2, Direction: "up", Reason: "lag 45s > 30s"},
			{At: ago(12), Component: "split", From: 2, To: 3, Direction: "up", Reason: "capacity 0.88 > 0.75"},
			{At: ago(10), Component: "count", From: 3, To: 2, Direction: "down", Reason: xssReason},
			{At: ago(8), Component: "count", From: 2, To: 2, Direction: "none", Reason: "capacity 0.95 > 0.7", Limited: "max 2 tasks"},
			{At: ago(1), Component: "split", From: 3, To: 5, Direction: "up", Reason: "capacity 0.97 > 0.75"},
		}}
	t.Rescale = &api.Rescale{Parallelism: map[string]int{"split": 5}, Reason: "autoscale", RequestedAt: ago(1)}
	return t
}
