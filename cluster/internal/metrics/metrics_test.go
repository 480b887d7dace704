package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gale-stream/gale/bolt"
	boltin "github.com/gale-stream/gale/bolt/builtin"
	"github.com/gale-stream/gale/cluster/internal/metrics"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	spoutin "github.com/gale-stream/gale/spout/builtin"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// meter is a test bolt: it acks every tuple, records two custom metrics,
// returns an error on every 50th tuple of its task and panics on the
// 30th, and reports a sink status built from what it saw (so that the
// engine's StatusReporter path reaches the scrape).
type meter struct {
	out  bolt.Collector
	tc   *topology.TaskContext
	n    atomic.Int64
	recs atomic.Int64
}

var (
	_ bolt.Bolt            = (*meter)(nil)
	_ local.StatusReporter = (*meter)(nil)
)

func (m *meter) Prepare(_ context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	m.tc, m.out = tc, out
	return nil
}

func (m *meter) Execute(_ context.Context, t *tuple.Tuple) error {
	n := m.n.Add(1)
	m.tc.RecordMetric("tuples", 1)
	m.tc.RecordMetric("weight", 0.25)
	switch {
	case n == 30:
		panic("meter: the 30th tuple")
	case n%50 == 0:
		return errors.New("meter: every 50th tuple fails")
	}
	m.recs.Add(1)
	m.out.Ack(t)
	return nil
}

func (m *meter) Cleanup() error { return nil }

func (m *meter) TaskStatus() local.TaskStatus {
	r := m.recs.Load()
	return local.TaskStatus{Sink: &local.SinkStatus{
		Batches: r / 10, Records: r, Bytes: 7 * r, Retries: 1, Rejected: 2, InFlight: 1,
		WriteNanos: 1500 * r, LastWrite: 1500 * time.Nanosecond,
	}}
}

func testRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	reg := registry.New()
	if err := spoutin.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := boltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(registry.Bolt[registry.NoConfig]{
		Name: "meter", Doc: "test bolt",
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return &meter{}, nil },
	}); err != nil {
		t.Fatal(err)
	}
	return reg
}

// recorder is a Source that keeps what it returned last, so that a test
// compares a scrape with the very snapshot it was made of.
type recorder struct {
	src  func() []local.Stats
	mu   sync.Mutex
	last []local.Stats
}

func (r *recorder) Stats() []local.Stats {
	st := r.src()
	r.mu.Lock()
	r.last = st
	r.mu.Unlock()
	return st
}

func (r *recorder) lastStats() []local.Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// scrape GETs /metrics from h and parses it with the Prometheus text
// parser; it also returns the body.
func scrape(t *testing.T, h http.Handler) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse the scrape: %v\n%s", err, body)
	}
	return fams, string(body)
}

// series flattens the gale_* families into "name{k=v,...}" -> value, the
// labels sorted; a summary gives name_count, name_sum and one series per
// quantile. It also checks each family's type against want.
func series(t *testing.T, fams map[string]*dto.MetricFamily) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, f := range fams {
		if !strings.HasPrefix(name, "gale_") {
			continue
		}
		wantType, ok := types[name]
		if !ok {
			t.Errorf("unexpected family %s", name)
		} else if f.GetType() != wantType {
			t.Errorf("%s is a %v, want a %v", name, f.GetType(), wantType)
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key(name, labels)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key(name, labels)] = m.GetGauge().GetValue()
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				out[key(name+"_count", labels)] = float64(s.GetSampleCount())
				out[key(name+"_sum", labels)] = s.GetSampleSum()
				for _, q := range s.GetQuantile() {
					ql := map[string]string{"quantile": strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)}
					for k, v := range labels {
						ql[k] = v
					}
					out[key(name, ql)] = q.GetValue()
				}
			default:
				t.Errorf("%s: type %v", name, f.GetType())
			}
		}
	}
	return out
}

var (
	counter = dto.MetricType_COUNTER
	gauge   = dto.MetricType_GAUGE
	summary = dto.MetricType_SUMMARY
)

// types are the families the package doc lists, with their types.
var types = map[string]dto.MetricType{
	"gale_worker_info":                                  gauge,
	"gale_topology_uptime_seconds":                      gauge,
	"gale_topology_start_time_seconds":                  gauge,
	"gale_task_emitted_total":                           counter,
	"gale_task_transferred_total":                       counter,
	"gale_task_acked_total":                             counter,
	"gale_task_failed_total":                            counter,
	"gale_task_errors_total":                            counter,
	"gale_task_panics_total":                            counter,
	"gale_task_timed_out_total":                         counter,
	"gale_task_pending":                                 gauge,
	"gale_task_complete_latency_seconds":                summary,
	"gale_task_executed_total":                          counter,
	"gale_task_queue_length":                            gauge,
	"gale_task_busy_seconds_total":                      counter,
	"gale_task_execute_latency_seconds":                 summary,
	"gale_task_process_latency_seconds":                 summary,
	"gale_task_custom_total":                            counter,
	"gale_kafka_partition_batches_planned_total":        counter,
	"gale_kafka_partition_batches_committed_total":      counter,
	"gale_kafka_partition_batches_in_flight":            gauge,
	"gale_kafka_partition_batches_replaying":            gauge,
	"gale_kafka_partition_next_offset":                  gauge,
	"gale_kafka_partition_committed_offset":             gauge,
	"gale_kafka_partition_high_watermark":               gauge,
	"gale_kafka_partition_lag":                          gauge,
	"gale_kafka_partition_batches_committing":           gauge,
	"gale_kafka_partition_commit_retries_total":         counter,
	"gale_kafka_partition_lost_records_total":           counter,
	"gale_kafka_partition_stopped":                      gauge,
	"gale_kafka_partition_last_error_timestamp_seconds": gauge,
	"gale_sink_batches_total":                           counter,
	"gale_sink_records_total":                           counter,
	"gale_sink_bytes_total":                             counter,
	"gale_sink_retries_total":                           counter,
	"gale_sink_rejected_total":                          counter,
	"gale_sink_write_seconds_total":                     counter,
	"gale_sink_last_write_seconds":                      gauge,
	"gale_sink_batches_in_flight":                       gauge,
	"gale_sink_last_error_timestamp_seconds":            gauge,
}

func key(name string, labels map[string]string) string {
	ks := make([]string, 0, len(labels))
	for k, v := range labels {
		ks = append(ks, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(ks)
	return name + "{" + strings.Join(ks, ",") + "}"
}

// expect computes, from stats alone, the series a scrape must hold
// (except gale_topology_uptime_seconds, whose value moves).
func expect(worker, version string, sts []local.Stats) map[string]float64 {
	out := map[string]float64{key("gale_worker_info", map[string]string{"worker": worker, "version": version}): 1}
	for _, st := range sts {
		if !st.Started.IsZero() {
			out[key("gale_topology_start_time_seconds", map[string]string{"topology": st.Topology, "worker": worker})] =
				float64(st.Started.UnixNano()) / 1e9
		}
		for _, ts := range st.Tasks {
			l := map[string]string{"topology": st.Topology, "component": ts.Component, "kind": ts.Kind,
				"task": strconv.Itoa(ts.Task), "worker": worker}
			put := func(name string, v float64) { out[key(name, l)] = v }
			put("gale_task_emitted_total", float64(ts.Emitted))
			put("gale_task_transferred_total", float64(ts.Transferred))
			put("gale_task_acked_total", float64(ts.Acked))
			put("gale_task_failed_total", float64(ts.Failed))
			put("gale_task_errors_total", float64(ts.Errors))
			put("gale_task_panics_total", float64(ts.Panics))
			if ts.Kind == "spout" {
				put("gale_task_timed_out_total", float64(ts.TimedOut))
				put("gale_task_pending", float64(ts.Pending))
				put("gale_task_complete_latency_seconds_count", float64(ts.CompleteSamples))
				put("gale_task_complete_latency_seconds_sum", float64(ts.CompleteSum)/1e9)
				p50, p99 := math.NaN(), math.NaN()
				if ts.CompleteSamples > 0 {
					p50, p99 = float64(ts.CompleteP50)/1e9, float64(ts.CompleteP99)/1e9
				}
				l["quantile"] = "0.5"
				put("gale_task_complete_latency_seconds", p50)
				l["quantile"] = "0.99"
				put("gale_task_complete_latency_seconds", p99)
				delete(l, "quantile")
			} else {
				put("gale_task_executed_total", float64(ts.Executed))
				put("gale_task_queue_length", float64(ts.QueueLen))
				put("gale_task_busy_seconds_total", float64(ts.BusyNanos)/1e9)
				put("gale_task_execute_latency_seconds_count", float64(ts.ExecuteSamples))
				put("gale_task_execute_latency_seconds_sum", float64(ts.ExecuteSum)/1e9)
				put("gale_task_process_latency_seconds_count", float64(ts.ProcessSamples))
				put("gale_task_process_latency_seconds_sum", float64(ts.ProcessSum)/1e9)
			}
			for name, v := range ts.Custom {
				l["name"] = name
				put("gale_task_custom_total", v)
				delete(l, "name")
			}
			if ts.Status == nil {
				continue
			}
			for _, p := range ts.Status.Partitions {
				l["topic"], l["partition"] = p.Topic, strconv.Itoa(int(p.Partition))
				put("gale_kafka_partition_batches_planned_total", float64(p.Planned))
				put("gale_kafka_partition_batches_committed_total", float64(p.Committed))
				put("gale_kafka_partition_batches_in_flight", float64(p.InFlight))
				put("gale_kafka_partition_batches_replaying", float64(p.Replaying))
				put("gale_kafka_partition_next_offset", float64(p.NextOffset))
				if p.CommittedOffset >= 0 {
					put("gale_kafka_partition_committed_offset", float64(p.CommittedOffset))
				}
				if p.HighWatermark >= 0 {
					put("gale_kafka_partition_high_watermark", float64(p.HighWatermark))
				}
				if p.CommittedOffset >= 0 && p.HighWatermark >= 0 {
					put("gale_kafka_partition_lag", float64(max(p.HighWatermark-p.CommittedOffset, 0)))
				}
				put("gale_kafka_partition_batches_committing", float64(p.Committing))
				put("gale_kafka_partition_commit_retries_total", float64(p.CommitRetries))
				put("gale_kafka_partition_lost_records_total", float64(p.LostOffsets))
				stopped := 0.0
				if p.Stopped != "" {
					stopped = 1
				}
				put("gale_kafka_partition_stopped", stopped)
				if !p.LastErrorAt.IsZero() {
					put("gale_kafka_partition_last_error_timestamp_seconds", float64(p.LastErrorAt.UnixNano())/1e9)
				}
				delete(l, "topic")
				delete(l, "partition")
			}
			if s := ts.Status.Sink; s != nil {
				put("gale_sink_batches_total", float64(s.Batches))
				put("gale_sink_records_total", float64(s.Records))
				put("gale_sink_bytes_total", float64(s.Bytes))
				put("gale_sink_retries_total", float64(s.Retries))
				put("gale_sink_rejected_total", float64(s.Rejected))
				put("gale_sink_write_seconds_total", float64(s.WriteNanos)/1e9)
				put("gale_sink_last_write_seconds", float64(s.LastWrite)/1e9)
				put("gale_sink_batches_in_flight", float64(s.InFlight))
				if !s.LastErrorAt.IsZero() {
					put("gale_sink_last_error_timestamp_seconds", float64(s.LastErrorAt.UnixNano())/1e9)
				}
			}
		}
	}
	return out
}

// compare reports every series missing, extra or different. Values are
// compared exactly, but for a relative 1e-12 (a float64 sent through the
// text format and back, after the division by 1e9).
func compare(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing %s (want %v)", k, w)
		case math.IsNaN(w) != math.IsNaN(g):
			t.Errorf("%s = %v, want %v", k, g, w)
		case !math.IsNaN(w) && math.Abs(g-w) > 1e-12*math.Max(1, math.Abs(w)):
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected series %s = %v", k, g)
		}
	}
}

// lint runs promlint over the text of a scrape and fails on any problem.
func lint(t *testing.T, body string) {
	t.Helper()
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

const wordcount = `{
  "name": "wc",
  "config": {"topology.message.timeout.secs": 30},
  "spouts": [{"id": "gen", "type": "generator", "parallelism": 2, "config": {"count": 3000, "seed": 3}}],
  "bolts": [
    {"id": "chaos", "type": "fail", "parallelism": 1, "config": {"ratio": 0.05, "seed": 9},
     "inputs": [{"component": "gen"}]},
    {"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "chaos", "grouping": "shuffle"}]},
    {"id": "meter", "type": "meter", "parallelism": 2,
     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}
  ]
}`

// TestHandler_Engine runs a small topology to its end in the engine, then
// scrapes the handler and checks every Gale series against the runtime's
// Stats of the same snapshot, and again against a later Stats (the
// counters are still once the runtime stopped).
func TestHandler_Engine(t *testing.T) {
	reg := testRegistry(t)
	topo, err := topology.Decode([]byte(wordcount), reg)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	rt := galetest.RunToEnd(t, topo, local.Options{Logger: slog.New(slog.DiscardHandler)}, time.Minute)

	rec := &recorder{src: func() []local.Stats { return []local.Stats{rt.Stats()} }}
	before := rt.Stats()
	fams, body := scrape(t, metrics.Handler("w1", "v1.2.3", rec))
	after := rt.Stats()
	got := series(t, fams)
	snap := rec.lastStats()

	// the uptime moves: between the Stats taken before and after
	up := key("gale_topology_uptime_seconds", map[string]string{"topology": "wc", "worker": "w1"})
	if u, ok := got[up]; !ok || u < before.Uptime.Seconds() || u > after.Uptime.Seconds() {
		t.Errorf("%s = %v (present %v), want within [%v, %v]", up, u, ok, before.Uptime.Seconds(), after.Uptime.Seconds())
	}
	delete(got, up)

	compare(t, got, expect("w1", "v1.2.3", snap))
	after.Uptime = snap[0].Uptime
	compare(t, got, expect("w1", "v1.2.3", []local.Stats{after}))

	// the run did what the checks need: failures, errors, a panic, custom
	// metrics and sink statuses, and every task exported
	sum := func(name string) float64 {
		var s float64
		for k, v := range got {
			if strings.HasPrefix(k, name+"{") {
				s += v
			}
		}
		return s
	}
	for _, name := range []string{"gale_task_failed_total", "gale_task_errors_total", "gale_task_panics_total",
		"gale_task_custom_total", "gale_sink_records_total", "gale_task_complete_latency_seconds_count",
		"gale_task_execute_latency_seconds_count", "gale_task_busy_seconds_total"} {
		if sum(name) == 0 {
			t.Errorf("%s: no non-zero series; the test topology does not exercise it", name)
		}
	}
	if n := len(fams["gale_task_acked_total"].GetMetric()); n != 7 {
		t.Errorf("gale_task_acked_total has %d series, want 7 (one per task)", n)
	}
	for _, f := range []string{"go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if fams[f] == nil {
			t.Errorf("%s missing (Go and process collectors)", f)
		}
	}
	lint(t, body)
}

// fakeStats is a source with a Kafka spout, a sink and a plain bolt, set
// by hand.
func fakeStats() []local.Stats {
	errAt := time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)
	return []local.Stats{{
		Topology: "logs",
		Uptime:   90 * time.Second,
		Started:  errAt.Add(-time.Hour),
		Tasks: []local.TaskStats{
			{Component: "kafka", Kind: "spout", Task: 1, Emitted: 5000, Transferred: 5000, Acked: 40, Failed: 2, TimedOut: 1,
				Pending: 3, CompleteSamples: 3, CompleteSum: 120 * time.Millisecond,
				CompleteP50: 35 * time.Millisecond, CompleteP99: 52 * time.Millisecond,
				Status: &local.TaskStatus{Partitions: []local.PartitionStatus{
					{Topic: "logs", Partition: 0, Planned: 12, Committed: 10, InFlight: 2, Replaying: 0,
						NextOffset: 12000, CommittedOffset: 10000, HighWatermark: 15500, Committing: 1, CommitRetries: 7,
						LastError: "ledger: timed out", LastErrorAt: errAt, LostOffsets: 250,
						LastLost: &local.LostRange{Batch: "logs/00000/000000000004", Start: 750, End: 1000}},
					{Topic: "logs", Partition: 3, Planned: 1, Committed: 0, InFlight: 1, Replaying: 1,
						NextOffset: 100, CommittedOffset: -1, HighWatermark: -1, Stopped: "ledger: fenced by a newer owner"},
				}}},
			{Component: "kafka", Kind: "spout", Task: 2}, // no samples yet: NaN quantiles
			{Component: "parse", Kind: "bolt", Task: 3, Emitted: 4990, Transferred: 4990, Acked: 4990, Failed: 10, Executed: 5000,
				Errors: 10, QueueLen: 64, BusyNanos: 2_500_000_000, ExecuteSamples: 312, ExecuteSum: 156 * time.Millisecond,
				ProcessSamples: 311, ProcessSum: 400 * time.Millisecond, Custom: map[string]float64{"bad_json": 10, "ratio": 0.5}},
			{Component: "files", Kind: "bolt", Task: 4, Acked: 4990, Executed: 4990,
				Status: &local.TaskStatus{Sink: &local.SinkStatus{Batches: 10, Records: 4990, Bytes: 1 << 20,
					Retries: 3, Rejected: 4, InFlight: 2, WriteNanos: 750_000_000, LastWrite: 60 * time.Millisecond,
					LastError: "disk full", LastErrorAt: errAt}}},
		},
	}, {
		Topology: "other",
		Uptime:   5 * time.Second,
		Tasks:    []local.TaskStats{{Component: "s", Kind: "spout", Task: 1, Emitted: 1}},
	}}
}

// TestHandler_Statuses scrapes a fake source carrying Kafka partitions
// and a sink's status, with values picked by hand.
func TestHandler_Statuses(t *testing.T) {
	fams, body := scrape(t, metrics.Handler("w2", "dev", metrics.SourceFunc(fakeStats)))
	got := series(t, fams)
	want := expect("w2", "dev", fakeStats())
	want[key("gale_topology_uptime_seconds", map[string]string{"topology": "logs", "worker": "w2"})] = 90
	want[key("gale_topology_uptime_seconds", map[string]string{"topology": "other", "worker": "w2"})] = 5
	compare(t, got, want)

	// a few values written out, independently of expect
	p0 := map[string]string{"topology": "logs", "component": "kafka", "kind": "spout", "task": "1", "worker": "w2",
		"topic": "logs", "partition": "0"}
	p3 := map[string]string{"topology": "logs", "component": "kafka", "kind": "spout", "task": "1", "worker": "w2",
		"topic": "logs", "partition": "3"}
	sink := map[string]string{"topology": "logs", "component": "files", "kind": "bolt", "task": "4", "worker": "w2"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
		absent bool
	}{
		{"gale_kafka_partition_lag", p0, 5500, false},
		{"gale_kafka_partition_committed_offset", p0, 10000, false},
		{"gale_kafka_partition_high_watermark", p0, 15500, false},
		{"gale_kafka_partition_batches_planned_total", p3, 1, false},
		{"gale_kafka_partition_batches_replaying", p3, 1, false},
		{"gale_kafka_partition_lag", p3, 0, true},
		{"gale_kafka_partition_committed_offset", p3, 0, true},
		{"gale_kafka_partition_high_watermark", p3, 0, true},
		{"gale_kafka_partition_lost_records_total", p0, 250, false},
		{"gale_kafka_partition_commit_retries_total", p0, 7, false},
		{"gale_kafka_partition_batches_committing", p0, 1, false},
		{"gale_kafka_partition_last_error_timestamp_seconds", p0, 1795773600.123456789, false},
		{"gale_kafka_partition_last_error_timestamp_seconds", p3, 0, true},
		{"gale_kafka_partition_stopped", p0, 0, false},
		{"gale_kafka_partition_stopped", p3, 1, false},
		{"gale_kafka_partition_lost_records_total", p3, 0, false},
		{"gale_sink_write_seconds_total", sink, 0.75, false},
		{"gale_sink_last_write_seconds", sink, 0.06, false},
		{"gale_sink_bytes_total", sink, 1 << 20, false},
		{"gale_sink_last_error_timestamp_seconds", sink, 1795773600.123456789, false},
		{"gale_topology_start_time_seconds", map[string]string{"topology": "logs", "worker": "w2"}, 1795770000.123456789, false},
		{"gale_topology_start_time_seconds", map[string]string{"topology": "other", "worker": "w2"}, 0, true},
	} {
		v, ok := got[key(c.name, c.labels)]
		switch {
		case c.absent && ok:
			t.Errorf("%s%v = %v, want no series", c.name, c.labels, v)
		case !c.absent && (!ok || math.Abs(v-c.want) > 1e-6):
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	q := fams["gale_task_complete_latency_seconds"]
	for _, m := range q.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "task" && l.GetValue() == "2" {
				for _, qq := range m.GetSummary().GetQuantile() {
					if !math.IsNaN(qq.GetValue()) {
						t.Errorf("task 2 has no samples, quantile %v = %v, want NaN", qq.GetQuantile(), qq.GetValue())
					}
				}
			}
		}
	}
	lint(t, body)
}

// TestCollector_Duplicates: a task that two stats report (a topology
// restarting on the worker) is exported once, from the first, and the
// registry gathers without error.
func TestCollector_Duplicates(t *testing.T) {
	st := fakeStats()[0]
	again := st
	again.Tasks = slices.Clone(st.Tasks)
	again.Tasks[0].Emitted = 1
	again.Tasks = append(again.Tasks, local.TaskStats{Component: "late", Kind: "bolt", Task: 9, Executed: 4})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewCollector("w", metrics.SourceFunc(func() []local.Stats { return []local.Stats{st, again} })))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var emitted, executed []*dto.Metric
	for _, f := range fams {
		switch f.GetName() {
		case "gale_task_emitted_total":
			emitted = f.GetMetric()
		case "gale_task_executed_total":
			executed = f.GetMetric()
		}
	}
	if len(emitted) != 5 {
		t.Fatalf("gale_task_emitted_total: %d series, want 5 (4 tasks, then the late bolt)", len(emitted))
	}
	for _, m := range emitted {
		if labelOf(m, "task") == "1" && m.GetCounter().GetValue() != 5000 {
			t.Errorf("task 1 emitted %v, want 5000 (the first stats win)", m.GetCounter().GetValue())
		}
	}
	found := false
	for _, m := range executed {
		found = found || (labelOf(m, "task") == "9" && m.GetCounter().GetValue() == 4)
	}
	if !found {
		t.Error("the task only the second stats report is missing")
	}
}

// TestCollector_InvalidLabel: a custom metric name that is not UTF-8
// spoils its own series only; the handler still serves the rest.
func TestCollector_InvalidLabel(t *testing.T) {
	src := metrics.SourceFunc(func() []local.Stats {
		return []local.Stats{{Topology: "t", Tasks: []local.TaskStats{
			{Component: "b", Kind: "bolt", Task: 1, Executed: 3, Custom: map[string]float64{"bad\xff": 1}}}}}
	})
	fams, _ := scrape(t, metrics.Handler("w", "dev", src))
	if len(fams["gale_task_executed_total"].GetMetric()) != 1 {
		t.Error("gale_task_executed_total missing next to an invalid custom metric")
	}
	if fams["gale_task_custom_total"] != nil {
		t.Error("the invalid custom metric was served")
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
