package monitor

import (
	"slices"
	"sort"
	"strings"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// keepErrors is how many errors a component shows.
const keepErrors = 10

// Components returns the spouts and bolts sorted by id.
func Components(topo *topology.Topology) []*topology.Component {
	comps := append(slices.Clone(topo.Spouts), topo.Bolts...)
	slices.SortFunc(comps, func(a, b *topology.Component) int { return strings.Compare(a.ID, b.ID) })
	return comps
}

// Streams returns the DAG's edges.
func Streams(topo *topology.Topology) []api.Stream {
	var out []api.Stream
	for _, b := range topo.Bolts {
		for _, in := range b.Inputs {
			s := api.Stream{From: in.Component, To: b.ID, Stream: in.Stream, Grouping: string(in.Grouping), Fields: in.Fields}
			if s.Stream == "" {
				s.Stream = tuple.DefaultStream
			}
			if s.Grouping == "" {
				s.Grouping = string(topology.Shuffle)
			}
			out = append(out, s)
		}
	}
	return out
}

// taskView is one task's figures, from the report that has it.
type taskView struct {
	worker string
	ts     *TaskReport
	win    []Delta
}

// index picks, for every task, the report of the worker that owns it (a
// task that just moved may briefly appear on two workers), or else any.
func index(reports []Report, owner func(task int) string) map[int]taskView {
	out := map[int]taskView{}
	for i := range reports {
		r := &reports[i]
		for j := range r.Tasks {
			ts := &r.Tasks[j]
			w := r.Worker
			if ts.Worker != "" {
				w = ts.Worker
			}
			if cur, ok := out[ts.Task]; ok && (owner == nil || owner(ts.Task) == cur.worker) {
				continue
			}
			out[ts.Task] = taskView{worker: w, ts: ts, win: ts.Windows}
		}
	}
	return out
}

func ms(ns uint64, n uint64) float64 {
	if n == 0 {
		return 0
	}
	return float64(ns) / float64(n) / 1e6
}

func capacity(d Delta) float64 {
	if d.Seconds <= 0 {
		return 0
	}
	return float64(d.BusyNs) / (d.Seconds * 1e9)
}

func rates(d Delta) api.Rates {
	if d.Seconds <= 0 {
		return api.Rates{}
	}
	return api.Rates{Emitted: float64(d.Emitted) / d.Seconds, Acked: float64(d.Acked) / d.Seconds, Failed: float64(d.Failed) / d.Seconds}
}

func window(name string, d Delta, capa float64) api.Window {
	return api.Window{
		Window: name, Seconds: d.Seconds,
		Emitted: d.Emitted, Transferred: d.Transferred, Acked: d.Acked, Failed: d.Failed,
		Executed: d.Executed, Errors: d.Errors,
		ExecuteLatencyMs: ms(d.ExecNs, d.ExecN), ProcessLatencyMs: ms(d.ProcNs, d.ProcN),
		CompleteLatencyMs: ms(d.CompNs, d.CompN), Capacity: capa,
	}
}

// Describe builds the API's description of topology topo from the reports
// of the workers that run it. sum carries the stored facts (name, status,
// version); owner gives the worker a task is assigned to ("" when none;
// nil: every task runs where it is reported).
func Describe(topo *topology.Topology, sum api.TopologySummary, owner func(task int) string, reports []Report) *api.Topology {
	out := &api.Topology{TopologySummary: sum, Streams: Streams(topo), MessageTimeoutSeconds: topo.Settings.MessageTimeout.Seconds()}
	tasks := index(reports, owner)
	for _, r := range reports {
		out.UptimeSeconds = max(out.UptimeSeconds, r.UptimeSeconds)
	}
	workers := map[string]bool{}
	ids := topology.TaskIDs(topo)
	for _, c := range Components(topo) {
		ac := api.Component{ID: c.ID, Kind: c.Kind.String(), Type: c.Type, Parallelism: c.Parallelism}
		var all Counters
		wins := make([]Delta, len(Windows))
		for _, id := range ids[c.ID] {
			out.Tasks++
			wk := ""
			if owner != nil {
				wk = owner(id)
			}
			tv, ok := tasks[id]
			if wk == "" && owner == nil && ok {
				wk = tv.worker
			}
			if wk != "" {
				workers[wk] = true
			} else {
				out.Unassigned = append(out.Unassigned, id)
			}
			at := api.Task{ID: id, Worker: wk}
			if ok {
				addTask(&ac, &at, tv, wins, &all)
				if c.Kind == topology.KindSpout {
					out.Emitted += tv.ts.Total.Emitted
					out.Acked += tv.ts.Total.Acked
					out.Failed += tv.ts.Total.Failed
				}
			}
			ac.Tasks = append(ac.Tasks, at)
		}
		ac.ExecuteLatencyMs = ms(all.ExecNs, all.ExecN)
		ac.ProcessLatencyMs = ms(all.ProcNs, all.ProcN)
		ac.CompleteLatencyMs = ms(all.CompNs, all.CompN)
		ac.Rates = rates(wins[0])
		for w := 1; w < len(Windows); w++ {
			capa := 0.0
			for _, t := range ac.Tasks {
				if tv, ok := tasks[t.ID]; ok && len(tv.win) > w {
					capa = max(capa, capacity(tv.win[w]))
				}
			}
			ac.Windows = append(ac.Windows, window(Windows[w].Name, wins[w], capa))
		}
		if c.Kind == topology.KindSpout {
			out.Rates.Emitted += ac.Rates.Emitted
			out.Rates.Acked += ac.Rates.Acked
			out.Rates.Failed += ac.Rates.Failed
		}
		if ac.Sink != nil {
			ac.Sink.Backend = c.Type
			if ac.Sink.Batches > 0 {
				ac.Sink.WriteLatencyMs = ms(uint64(ac.Sink.WriteLatencyMs), uint64(ac.Sink.Batches))
			} else {
				ac.Sink.WriteLatencyMs = 0
			}
		}
		sort.Slice(ac.LastErrors, func(i, j int) bool { return ac.LastErrors[i].Time.Before(ac.LastErrors[j].Time) })
		if n := len(ac.LastErrors); n > keepErrors {
			ac.LastErrors = ac.LastErrors[n-keepErrors:]
		}
		sort.Slice(ac.Partitions, func(i, j int) bool {
			a, b := ac.Partitions[i], ac.Partitions[j]
			if a.Topic != b.Topic {
				return a.Topic < b.Topic
			}
			return a.Partition < b.Partition
		})
		out.Components = append(out.Components, ac)
	}
	out.Workers = len(workers)
	return out
}

// addTask fills at from tv and adds it to its component.
func addTask(ac *api.Component, at *api.Task, tv taskView, wins []Delta, all *Counters) {
	ts, c := tv.ts, tv.ts.Total
	*at = api.Task{
		ID: at.ID, Worker: at.Worker,
		Emitted: c.Emitted, Transferred: c.Transferred, Acked: c.Acked, Failed: c.Failed,
		Executed: c.Executed, Errors: c.Errors, Pending: ts.Pending, QueueLen: ts.QueueLen,
		ExecuteLatencyMs:  ms(c.ExecNs, c.ExecN),
		ProcessLatencyMs:  ms(c.ProcNs, c.ProcN),
		CompleteLatencyMs: ms(c.CompNs, c.CompN),
	}
	if at.Worker == "" {
		at.Worker = tv.worker
	}
	if len(tv.win) == len(Windows) {
		at.Rates = rates(tv.win[0])
		at.Capacity = capacity(tv.win[1])
		ac.Capacity = max(ac.Capacity, at.Capacity)
		for w := range wins {
			wins[w].add(tv.win[w].Counters)
			wins[w].Seconds = max(wins[w].Seconds, tv.win[w].Seconds)
		}
	}
	all.add(c)
	ac.Emitted += c.Emitted
	ac.Transferred += c.Transferred
	ac.Acked += c.Acked
	ac.Failed += c.Failed
	ac.Executed += c.Executed
	ac.Errors += c.Errors
	ac.CompleteP50Ms = max(ac.CompleteP50Ms, float64(ts.CompleteP50)/1e6)
	ac.CompleteP99Ms = max(ac.CompleteP99Ms, float64(ts.CompleteP99)/1e6)
	for _, e := range ts.LastErrors {
		rec := api.ErrorRecord{Time: e.Time, Worker: at.Worker, Task: at.ID, Message: e.Message}
		ac.LastErrors = append(ac.LastErrors, rec)
		at.LastErrors = append(at.LastErrors, rec)
	}
	for k, v := range ts.Custom {
		if ac.Custom == nil {
			ac.Custom = map[string]float64{}
		}
		ac.Custom[k] += v
	}
	if ts.Status == nil {
		return
	}
	for _, p := range ts.Status.Partitions {
		ac.Partitions = append(ac.Partitions, api.Partition{Task: at.ID, Worker: at.Worker, PartitionStatus: p, Lag: p.Lag()})
	}
	if s := ts.Status.Sink; s != nil {
		if ac.Sink == nil {
			ac.Sink = &api.Sink{}
		}
		k := ac.Sink
		k.Batches += s.Batches
		k.Records += s.Records
		k.Bytes += s.Bytes
		k.Retries += s.Retries
		k.Rejected += s.Rejected
		k.InFlight += s.InFlight
		k.WriteLatencyMs += float64(s.WriteNanos) // divided by the batches at the end
		k.LastWriteMs = max(k.LastWriteMs, float64(s.LastWrite)/1e6)
		if s.LastError != "" && s.LastErrorAt.After(k.LastErrorAt) {
			k.LastError, k.LastErrorAt = s.LastError, s.LastErrorAt
		}
	}
}

// BuildSeries merges the reports' chart steps of window ("10m" or "3h").
func BuildSeries(topo *topology.Topology, window string, reports []Report) *api.Series {
	step := Step
	if window == "3h" {
		step = CoarseStep
	}
	out := &api.Series{Topology: topo.Name, Window: window, StepSeconds: step.Seconds()}
	for _, c := range Components(topo) {
		byT := map[int64]*Steps{}
		for _, r := range reports {
			for _, s := range r.Series[c.ID] {
				k := s.T.Truncate(Step).Unix()
				m := byT[k]
				if m == nil {
					m = &Steps{T: s.T.Truncate(Step)}
					byT[k] = m
				}
				m.add(s.Counters)
				m.Seconds = max(m.Seconds, s.Seconds)
			}
		}
		keys := make([]int64, 0, len(byT))
		for k := range byT {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		cs := api.ComponentSeries{ID: c.ID, Kind: c.Kind.String(), Points: []api.Point{}}
		for _, k := range keys {
			s := byT[k]
			if s.Seconds <= 0 {
				continue
			}
			cs.Points = append(cs.Points, api.Point{
				Time:    s.T.UTC(),
				Emitted: float64(s.Emitted) / s.Seconds, Acked: float64(s.Acked) / s.Seconds,
				Failed: float64(s.Failed) / s.Seconds, Executed: float64(s.Executed) / s.Seconds,
				ExecuteLatencyMs: ms(s.ExecNs, s.ExecN), CompleteLatencyMs: ms(s.CompNs, s.CompN),
				Busy: float64(s.BusyNs) / (s.Seconds * 1e9), Throttled: float64(s.ThrottledNs) / (s.Seconds * 1e9),
			})
		}
		out.Components = append(out.Components, cs)
	}
	return out
}
