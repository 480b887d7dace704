// Package monitor turns the engine's cumulative task counters into what
// the monitor UI and the API show: metrics over time windows (the last
// 10 minutes, 3 hours, all time), rates over the last minute, capacity, and
// time series for the live charts.
//
// Every process (a cluster worker, or gale run with --ui) keeps a Recorder
// that samples the stats of its own tasks every Step (5 s, aligned to the
// wall clock so that the samples of several workers line up). A Report is
// one process's view of one topology: its tasks' current counters and
// their differences over each window; Describe and BuildSeries merge the
// reports of every worker into the API's answers.
//
// A task whose counters start again from zero (its runtime restarted, or
// it moved to this worker) is counted from its start, not negative.
package monitor

import (
	"sync"
	"time"

	"github.com/gale-stream/gale/local"
)

// Sampling steps: fine samples cover the 10-minute window and its charts,
// coarse ones the 3-hour window.
const (
	Step       = 5 * time.Second
	CoarseStep = time.Minute
	fineKeep   = int(10*time.Minute/Step) + 2
	coarseKeep = int(3*time.Hour/CoarseStep) + 2
)

// Windows are the windows a Report carries, in this order: the last
// minute (for rates), 10 minutes, 3 hours, all time.
var Windows = []struct {
	Name string
	Len  time.Duration // 0: all time
}{{"1m", time.Minute}, {"10m", 10 * time.Minute}, {"3h", 3 * time.Hour}, {"all", 0}}

// Counters are the additive counters of one task (or of several).
type Counters struct {
	Emitted     uint64 `json:"emitted,omitempty"`
	Transferred uint64 `json:"transferred,omitempty"`
	Acked       uint64 `json:"acked,omitempty"`
	Failed      uint64 `json:"failed,omitempty"`
	Executed    uint64 `json:"executed,omitempty"`
	Errors      uint64 `json:"errors,omitempty"`
	ExecN       uint64 `json:"exec_n,omitempty"`
	ExecNs      uint64 `json:"exec_ns,omitempty"`
	ProcN       uint64 `json:"proc_n,omitempty"`
	ProcNs      uint64 `json:"proc_ns,omitempty"`
	CompN       uint64 `json:"comp_n,omitempty"`
	CompNs      uint64 `json:"comp_ns,omitempty"`
	BusyNs      uint64 `json:"busy_ns,omitempty"`
	ThrottledNs uint64 `json:"throttled_ns,omitempty"`
}

func countersOf(ts *local.TaskStats) Counters {
	return Counters{
		Emitted: ts.Emitted, Transferred: ts.Transferred, Acked: ts.Acked, Failed: ts.Failed,
		Executed: ts.Executed, Errors: ts.Errors,
		ExecN: ts.ExecuteSamples, ExecNs: uint64(ts.ExecuteSum),
		ProcN: ts.ProcessSamples, ProcNs: uint64(ts.ProcessSum),
		CompN: ts.CompleteSamples, CompNs: uint64(ts.CompleteSum),
		BusyNs: ts.BusyNanos, ThrottledNs: ts.ThrottledNanos,
	}
}

// minus returns c - b; when any counter of c is below b's, the task
// started again in between: c itself is the difference, and reset is true.
func (c Counters) minus(b Counters) (d Counters, reset bool) {
	if c.Emitted < b.Emitted || c.Transferred < b.Transferred || c.Acked < b.Acked || c.Failed < b.Failed ||
		c.Executed < b.Executed || c.Errors < b.Errors || c.ExecN < b.ExecN || c.ExecNs < b.ExecNs ||
		c.ProcN < b.ProcN || c.ProcNs < b.ProcNs || c.CompN < b.CompN || c.CompNs < b.CompNs || c.BusyNs < b.BusyNs ||
		c.ThrottledNs < b.ThrottledNs {
		return c, true
	}
	return Counters{
		Emitted: c.Emitted - b.Emitted, Transferred: c.Transferred - b.Transferred,
		Acked: c.Acked - b.Acked, Failed: c.Failed - b.Failed, Executed: c.Executed - b.Executed,
		Errors: c.Errors - b.Errors, ExecN: c.ExecN - b.ExecN, ExecNs: c.ExecNs - b.ExecNs,
		ProcN: c.ProcN - b.ProcN, ProcNs: c.ProcNs - b.ProcNs, CompN: c.CompN - b.CompN,
		CompNs: c.CompNs - b.CompNs, BusyNs: c.BusyNs - b.BusyNs, ThrottledNs: c.ThrottledNs - b.ThrottledNs,
	}, false
}

func (c *Counters) add(o Counters) {
	c.Emitted += o.Emitted
	c.Transferred += o.Transferred
	c.Acked += o.Acked
	c.Failed += o.Failed
	c.Executed += o.Executed
	c.Errors += o.Errors
	c.ExecN += o.ExecN
	c.ExecNs += o.ExecNs
	c.ProcN += o.ProcN
	c.ProcNs += o.ProcNs
	c.CompN += o.CompN
	c.CompNs += o.CompNs
	c.BusyNs += o.BusyNs
	c.ThrottledNs += o.ThrottledNs
}

// Delta is a task's counters over a window and the seconds it covers.
type Delta struct {
	Counters
	Seconds float64 `json:"s"`
}

// sample is the counters of one topology's local tasks at one time.
type sample struct {
	t       time.Time
	started time.Time // the runtime's start: another one means new counters
	tasks   map[int]Counters
}

type history struct {
	fine, coarse []sample
}

func push(ring []sample, s sample, keep int) []sample {
	if len(ring) == keep {
		copy(ring, ring[1:])
		ring = ring[:keep-1]
	}
	return append(ring, s)
}

// Recorder keeps the recent history of this process's tasks. It is safe
// for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	tops map[string]*history
	proc procSampler
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	r := &Recorder{tops: map[string]*history{}}
	r.proc.sample(time.Now()) // the CPU baseline
	return r
}

// Record adds a sample of every topology in stats (the local stats of the
// topologies running here) taken at now; topologies absent from stats are
// forgotten.
func (r *Recorder) Record(now time.Time, stats []local.Stats) {
	r.proc.sample(now)
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for i := range stats {
		st := &stats[i]
		seen[st.Topology] = true
		if st.Started.IsZero() {
			continue
		}
		h := r.tops[st.Topology]
		if h == nil {
			h = &history{}
			r.tops[st.Topology] = h
		}
		s := sample{t: now, started: st.Started, tasks: make(map[int]Counters, len(st.Tasks))}
		for j := range st.Tasks {
			s.tasks[st.Tasks[j].Task] = countersOf(&st.Tasks[j])
		}
		h.fine = push(h.fine, s, fineKeep)
		if n := len(h.coarse); n == 0 || now.Sub(h.coarse[n-1].t) >= CoarseStep-Step/2 {
			h.coarse = push(h.coarse, s, coarseKeep)
		}
	}
	for name := range r.tops {
		if !seen[name] {
			delete(r.tops, name)
		}
	}
}

// Run samples src every Step, on multiples of Step of the wall clock, until
// ctx's done channel closes.
func (r *Recorder) Run(done <-chan struct{}, src func() []local.Stats) {
	for {
		now := time.Now()
		next := now.Truncate(Step).Add(Step)
		select {
		case <-done:
			return
		case <-time.After(time.Until(next)):
			r.Record(next, src())
		}
	}
}

// Process returns this process's CPU use (percent of one core, over the
// last step) and resident memory.
func (r *Recorder) Process() (cpuPercent float64, rssBytes int64) { return r.proc.get() }

// ReportVersion is the version of Report, the JSON a worker serves the
// others (GET /api/v1/local/{name}). A report of another version is left
// out rather than misread (a rolling upgrade shows what the workers of the
// reader's version report); a change of its meaning takes a new version.
const ReportVersion = 1

// Report is one process's view of one topology: its local tasks' figures
// (counters since they started and over every window of Windows, gauges,
// what they report themselves), and on request the per-component steps
// of a chart window. It is what workers exchange, versioned, and made from
// the runtime's local.Stats by Recorder.Report.
type Report struct {
	Version  int       `json:"version"`
	Worker   string    `json:"worker"`
	Topology string    `json:"topology"`
	Started  time.Time `json:"started,omitzero"`
	// UptimeSeconds is how long the topology has run here.
	UptimeSeconds float64            `json:"uptime_s"`
	Tasks         []TaskReport       `json:"tasks"`
	Series        map[string][]Steps `json:"series,omitempty"` // component -> steps, oldest first
}

// TaskReport is one task's figures in a Report.
type TaskReport struct {
	Task      int    `json:"task"`
	Component string `json:"component"`
	Worker    string `json:"worker,omitempty"`
	// Total is the task's counters since it started; Windows its counters
	// over each entry of Windows.
	Total   Counters `json:"total"`
	Windows []Delta  `json:"windows"`
	// Pending: a spout's trees in flight; QueueLen: a bolt's tuples waiting.
	Pending  int64 `json:"pending,omitempty"`
	QueueLen int   `json:"queue_len,omitempty"`
	// CompleteP50 and CompleteP99: a spout's complete latency percentiles
	// since it started.
	CompleteP50 time.Duration       `json:"complete_p50_ns,omitempty"`
	CompleteP99 time.Duration       `json:"complete_p99_ns,omitempty"`
	LastErrors  []local.ErrorRecord `json:"last_errors,omitempty"`
	Custom      map[string]float64  `json:"custom,omitempty"`
	// Status is what the spout or bolt reports itself (partitions, sink).
	Status *local.TaskStatus `json:"status,omitempty"`
}

// task returns the report of task id, or nil.
func (r *Report) task(id int) *TaskReport {
	for i := range r.Tasks {
		if r.Tasks[i].Task == id {
			return &r.Tasks[i]
		}
	}
	return nil
}

// Steps is one chart step of a component: the counters summed over the
// step of its local tasks.
type Steps struct {
	T time.Time `json:"t"`
	Delta
}

// Report returns the report of topology stats (taken now), with the series
// of window ("10m", "3h") when it is not empty.
func (r *Recorder) Report(worker string, now time.Time, st local.Stats, window string) Report {
	rep := Report{Version: ReportVersion, Worker: worker, Topology: st.Topology, Started: st.Started,
		UptimeSeconds: st.Uptime.Seconds(), Tasks: make([]TaskReport, 0, len(st.Tasks))}
	r.mu.Lock()
	h := r.tops[st.Topology]
	var fine, coarse []sample
	if h != nil {
		fine, coarse = h.fine, h.coarse
	}
	r.mu.Unlock()
	for i := range st.Tasks {
		ts := &st.Tasks[i]
		cur := countersOf(ts)
		ds := make([]Delta, len(Windows))
		for w, win := range Windows {
			ds[w] = delta(cur, ts.Task, now, st.Started, win.Len, fine, coarse)
		}
		rep.Tasks = append(rep.Tasks, TaskReport{Task: ts.Task, Component: ts.Component, Worker: ts.Worker,
			Total: cur, Windows: ds, Pending: ts.Pending, QueueLen: ts.QueueLen,
			CompleteP50: ts.CompleteP50, CompleteP99: ts.CompleteP99, LastErrors: ts.LastErrors,
			Custom: ts.Custom, Status: ts.Status})
	}
	if window != "" {
		ring := fine
		if window == "3h" {
			ring = coarse
		}
		rep.Series = series(st, ring)
	}
	return rep
}

// delta is task's counters over the window of length win (0: all time).
func delta(cur Counters, task int, now, started time.Time, win time.Duration, fine, coarse []sample) Delta {
	since := now.Sub(started).Seconds()
	if win == 0 || started.IsZero() {
		return Delta{Counters: cur, Seconds: since}
	}
	ring := fine
	if win > 10*time.Minute {
		ring = coarse
	}
	// the newest sample at least win old, of this runtime
	for i := len(ring) - 1; i >= 0; i-- {
		s := ring[i]
		if now.Sub(s.t) < win-Step/2 {
			continue
		}
		base, ok := s.tasks[task]
		if !ok || !s.started.Equal(started) {
			break
		}
		d, reset := cur.minus(base)
		if reset {
			break
		}
		return Delta{Counters: d, Seconds: now.Sub(s.t).Seconds()}
	}
	// the window reaches back before the task's start: all of it
	return Delta{Counters: cur, Seconds: min(since, win.Seconds())}
}

// series sums the differences of consecutive samples per component.
func series(st local.Stats, ring []sample) map[string][]Steps {
	comp := map[int]string{}
	for _, ts := range st.Tasks {
		comp[ts.Task] = ts.Component
	}
	out := map[string][]Steps{}
	for i := 1; i < len(ring); i++ {
		a, b := ring[i-1], ring[i]
		if !a.started.Equal(b.started) {
			continue
		}
		secs := b.t.Sub(a.t).Seconds()
		per := map[string]*Steps{}
		for task, cb := range b.tasks {
			c, ok := comp[task]
			if !ok {
				continue
			}
			ca, ok := a.tasks[task]
			if !ok {
				continue
			}
			s := per[c]
			if s == nil {
				s = &Steps{T: b.t, Delta: Delta{Seconds: secs}}
				per[c] = s
			}
			d, _ := cb.minus(ca)
			s.add(d)
		}
		for c, s := range per {
			out[c] = append(out[c], *s)
		}
	}
	return out
}
