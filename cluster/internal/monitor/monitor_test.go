package monitor

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/topology"
)

// wordcount: spout "a" (1 task: id 1), bolt "b" (2 tasks: ids 2, 3).
func testTopology(t *testing.T) *topology.Topology {
	t.Helper()
	topo := &topology.Topology{Name: "wc",
		Spouts: []*topology.Component{{ID: "a", Type: "generator", Parallelism: 1, Kind: topology.KindSpout}},
		Bolts: []*topology.Component{{ID: "b", Type: "count", Parallelism: 2, Kind: topology.KindBolt,
			Inputs: []topology.Input{{Component: "a", Grouping: topology.FieldsGrouping, Fields: []string{"word"}}}}},
	}
	return topo
}

// stats makes engine stats whose counters grow by rate per second of
// elapsed time since started.
func stats(started, now time.Time, worker string, tasks map[int]string, rate float64) local.Stats {
	el := now.Sub(started).Seconds()
	st := local.Stats{Topology: "wc", Started: started, Uptime: now.Sub(started)}
	for id, comp := range tasks {
		n := uint64(el * rate)
		st.Tasks = append(st.Tasks, local.TaskStats{Component: comp, Task: id, Worker: worker,
			Emitted: n, Acked: n, Executed: n,
			ExecuteSamples: n / 16, ExecuteSum: time.Duration(n/16) * time.Millisecond,
			// busy a quarter of the time, throttled a tenth
			BusyNanos: uint64(el * 0.25 * 1e9), ThrottledNanos: uint64(el * 0.1 * 1e9)})
	}
	return st
}

func near(a, b float64) bool { return math.Abs(a-b) <= 0.02*math.Max(math.Abs(a), math.Abs(b))+1e-9 }

func TestRecorder_Windows(t *testing.T) {
	r := NewRecorder()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tasks := map[int]string{1: "a", 2: "b"}
	var now time.Time
	// 20 minutes of samples at 100/s
	for i := 0; i <= 240; i++ {
		now = t0.Add(time.Duration(i) * Step)
		r.Record(now, []local.Stats{stats(t0, now, "w1", tasks, 100)})
	}
	rep := r.Report("w1", now, stats(t0, now, "w1", tasks, 100), "")
	ds := rep.task(2).Windows
	if len(ds) != len(Windows) {
		t.Fatalf("windows: got %d, want %d", len(ds), len(Windows))
	}
	// 1m: 6000 tuples over 60 s; 10m: 60000 over 600 s; 3h and all: since the start (20 min)
	want := []struct {
		n    uint64
		secs float64
	}{{6000, 60}, {60000, 600}, {120000, 1200}, {120000, 1200}}
	for i, w := range want {
		if ds[i].Executed != w.n || !near(ds[i].Seconds, w.secs) {
			t.Errorf("window %s: executed %d over %.0f s, want %d over %.0f s", Windows[i].Name, ds[i].Executed, ds[i].Seconds, w.n, w.secs)
		}
		if c := capacity(ds[i]); !near(c, 0.25) {
			t.Errorf("window %s: capacity %.3f, want 0.25", Windows[i].Name, c)
		}
	}
}

func TestRecorder_RestartedTaskCountsFromItsStart(t *testing.T) {
	r := NewRecorder()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tasks := map[int]string{2: "b"}
	var now time.Time
	for i := 0; i <= 120; i++ { // 10 minutes
		now = t0.Add(time.Duration(i) * Step)
		r.Record(now, []local.Stats{stats(t0, now, "w1", tasks, 100)})
	}
	// the runtime restarts (a rebalance): counters from zero
	t1 := now
	for i := 1; i <= 6; i++ { // 30 s
		now = t1.Add(time.Duration(i) * Step)
		r.Record(now, []local.Stats{stats(t1, now, "w1", tasks, 100)})
	}
	rep := r.Report("w1", now, stats(t1, now, "w1", tasks, 100), "")
	d := rep.task(2).Windows[1] // 10m
	if d.Executed != 3000 || !near(d.Seconds, 30) {
		t.Fatalf("10m window after a restart: %d over %.1f s, want 3000 over 30 s (never negative or mixed)", d.Executed, d.Seconds)
	}
	// the chart has no step across the restart
	rep = r.Report("w1", now, stats(t1, now, "w1", tasks, 100), "10m")
	for _, s := range rep.Series["b"] {
		if s.Executed > 600 { // 100/s over 5 s = 500
			t.Fatalf("a chart step of %d tuples over %.0f s spans the restart", s.Executed, s.Seconds)
		}
	}
}

func TestDescribe_MergesWorkersAndPrefersOwner(t *testing.T) {
	topo := testTopology(t)
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := t0.Add(time.Minute)
	r1 := NewRecorder().Report("w1", now, stats(t0, now, "w1", map[int]string{1: "a", 2: "b"}, 100), "")
	// task 3 runs on w2; a stale copy of task 2 on w2 (it moved) must be ignored
	st2 := stats(t0, now, "w2", map[int]string{3: "b"}, 50)
	stale := stats(t0, now, "w2", map[int]string{2: "b"}, 7)
	st2.Tasks = append(st2.Tasks, stale.Tasks...)
	r2 := NewRecorder().Report("w2", now, st2, "")
	owner := func(id int) string { return map[int]string{1: "w1", 2: "w1", 3: "w2"}[id] }
	d := Describe(topo, api.TopologySummary{Name: "wc", Status: "active"}, owner, []Report{r2, r1})
	if d.Tasks != 3 || d.Workers != 2 || len(d.Components) != 2 {
		t.Fatalf("tasks %d workers %d components %d, want 3, 2, 2", d.Tasks, d.Workers, len(d.Components))
	}
	b := d.Components[1]
	if b.ID != "b" || b.Executed != 6000+3000 {
		t.Fatalf("component %s executed %d, want b with 9000 (6000 from w1's task 2, 3000 from w2's task 3)", b.ID, b.Executed)
	}
	if b.Tasks[0].Worker != "w1" || b.Tasks[1].Worker != "w2" {
		t.Fatalf("task workers %s, %s; want w1, w2", b.Tasks[0].Worker, b.Tasks[1].Worker)
	}
	if !near(b.ExecuteLatencyMs, 1) {
		t.Fatalf("execute latency %.3f ms, want 1", b.ExecuteLatencyMs)
	}
	if len(b.Windows) != 3 || b.Windows[0].Window != "10m" || b.Windows[2].Window != "all" {
		t.Fatalf("windows %+v", b.Windows)
	}
	if !near(b.Rates.Acked, 150) {
		t.Fatalf("bolt acked rate %.1f/s, want 150", b.Rates.Acked)
	}
	if d.Emitted != 6000 || !near(d.Rates.Emitted, 100) {
		t.Fatalf("topology emitted %d at %.1f/s, want the spout's 6000 at 100/s", d.Emitted, d.Rates.Emitted)
	}
	if len(d.Streams) != 1 || d.Streams[0].Grouping != "fields" || d.Streams[0].Stream != "default" || d.Streams[0].From != "a" {
		t.Fatalf("streams %+v", d.Streams)
	}
}

func TestDescribe_PartitionsAndSinks(t *testing.T) {
	topo := testTopology(t)
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	st := stats(t0, t0.Add(time.Minute), "w1", map[int]string{1: "a", 2: "b", 3: "b"}, 10)
	for i := range st.Tasks {
		switch st.Tasks[i].Task {
		case 1:
			st.Tasks[i].Status = &local.TaskStatus{Partitions: []local.PartitionStatus{
				{Topic: "t", Partition: 1, Planned: 9, Committed: 7, InFlight: 2, CommittedOffset: 700, HighWatermark: 1000},
				{Topic: "t", Partition: 0, Planned: 3, Committed: 3, CommittedOffset: 300, HighWatermark: -1},
			}}
		case 2, 3:
			st.Tasks[i].Status = &local.TaskStatus{Sink: &local.SinkStatus{Batches: 2, Records: 20, WriteNanos: int64(4 * time.Millisecond), LastWrite: time.Millisecond}}
		}
	}
	for i := range st.Tasks {
		if st.Tasks[i].Task == 3 {
			st.Tasks[i].Status.Sink.LastError, st.Tasks[i].Status.Sink.LastErrorAt = "disk full", t0
		}
	}
	d := Describe(topo, api.TopologySummary{Name: "wc"}, nil, []Report{NewRecorder().Report("w1", t0.Add(time.Minute), st, "")})
	a, b := d.Components[0], d.Components[1]
	if len(a.Partitions) != 2 || a.Partitions[0].Partition != 0 || a.Partitions[0].Lag != -1 || a.Partitions[1].Lag != 300 {
		t.Fatalf("partitions %+v: want sorted, lag unknown (-1) then 300", a.Partitions)
	}
	if b.Sink == nil || b.Sink.Batches != 4 || b.Sink.Records != 40 || !near(b.Sink.WriteLatencyMs, 2) || b.Sink.Backend != "count" || b.Sink.LastError != "disk full" {
		t.Fatalf("sink %+v: want 4 batches, 40 records, 2 ms a write, the last error", b.Sink)
	}
}

func TestBuildSeries_AlignsWorkers(t *testing.T) {
	topo := testTopology(t)
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var reps []Report
	for _, w := range []struct {
		name string
		task int
		rate float64
	}{{"w1", 2, 100}, {"w2", 3, 40}} {
		r := NewRecorder()
		var now time.Time
		for i := 0; i <= 12; i++ {
			now = t0.Add(time.Duration(i) * Step)
			r.Record(now, []local.Stats{stats(t0, now, w.name, map[int]string{w.task: "b"}, w.rate)})
		}
		reps = append(reps, r.Report(w.name, now, stats(t0, now, w.name, map[int]string{w.task: "b"}, w.rate), "10m"))
	}
	s := BuildSeries(topo, "10m", reps)
	if len(s.Components) != 2 || s.Components[1].ID != "b" {
		t.Fatalf("components %+v", s.Components)
	}
	pts := s.Components[1].Points
	if len(pts) != 12 {
		t.Fatalf("%d points, want 12 (13 samples)", len(pts))
	}
	for _, p := range pts {
		if !near(p.Executed, 140) {
			t.Fatalf("point %v: %.1f executed/s, want 140 (100 + 40 from two workers)", p.Time, p.Executed)
		}
		if !near(p.Busy, 0.5) || !near(p.Throttled, 0.2) {
			t.Fatalf("point %v: busy %.2f, throttled %.2f: want 0.50 and 0.20 (two tasks busy a quarter, throttled a tenth)",
				p.Time, p.Busy, p.Throttled)
		}
	}
}

func TestProcess(t *testing.T) {
	r := NewRecorder()
	if _, rss := r.Process(); rss <= 0 {
		t.Fatalf("rss %d before the first step: want it measured at once", rss)
	}
	// burn some CPU
	x := 0
	start := time.Now()
	for time.Since(start) < 200*time.Millisecond {
		x++
	}
	r.Record(time.Now(), nil)
	cpu, rss := r.Process()
	if rss <= 0 {
		t.Fatalf("rss %d: want the process's resident memory", rss)
	}
	if cpu <= 0 {
		t.Fatalf("cpu %.1f %% after a busy loop: want > 0", cpu)
	}
}

// TestReport_Versioned: what workers exchange carries its version and its
// own field names (not the runtime's Stats), and reads back the same.
func TestReport_Versioned(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	st := stats(t0, t0.Add(time.Minute), "w1", map[int]string{1: "a"}, 10)
	st.Tasks[0].LastErrors = []local.ErrorRecord{{Time: t0, Message: "boom"}}
	rep := NewRecorder().Report("w1", t0.Add(time.Minute), st, "")
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version":1`, `"topology":"wc"`, `"tasks":[{"task":1,"component":"a","worker":"w1","total":{"emitted":600,`, `"last_errors":[{`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report JSON lacks %s:\n%s", want, b)
		}
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.Version != ReportVersion || back.task(1).Total != rep.task(1).Total ||
		len(back.task(1).Windows) != len(Windows) || back.task(1).LastErrors[0].Message != "boom" {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}
