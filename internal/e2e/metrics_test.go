package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
)

// metricsTopology is a word count. Its message timeout is short: the
// tuples a worker sends before the other one runs its share are lost, and
// their trees stay pending until they time out (1.5 times the timeout,
// on the spouts' side), which the test waits for after the deactivation.
const metricsTopology = `{"name": "wc-metrics", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 500,
    "topology.message.timeout.secs": 5},
  "spouts": [{"id": "sentences", "type": "generator", "parallelism": 2, "config": {"seed": 11, "rate": 2000}}],
  "bolts": [
    {"id": "split", "type": "split", "parallelism": 3, "inputs": [{"component": "sentences", "grouping": "shuffle"}]},
    {"id": "count", "type": "count", "parallelism": 3, "config": {"field": "word"},
     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}]}`

// taskCounters are what the test compares per task: the API's counters
// and the matching gale_task_*_total series.
var taskCounters = []struct {
	metric string
	api    func(api.Task) uint64
}{
	{"gale_task_emitted_total", func(t api.Task) uint64 { return t.Emitted }},
	{"gale_task_transferred_total", func(t api.Task) uint64 { return t.Transferred }},
	{"gale_task_acked_total", func(t api.Task) uint64 { return t.Acked }},
	{"gale_task_failed_total", func(t api.Task) uint64 { return t.Failed }},
	{"gale_task_executed_total", func(t api.Task) uint64 { return t.Executed }},
	{"gale_task_errors_total", func(t api.Task) uint64 { return t.Errors }},
}

// scraped is one series of a gale_task_* family, from one worker's
// /metrics.
type scraped struct {
	from   string // the worker whose /metrics had it
	labels map[string]string
	value  float64
}

// workerScrape is one worker's /metrics, parsed.
type workerScrape struct {
	fams map[string]*dto.MetricFamily
	body string
}

// scrapeMetrics GETs w's /metrics and parses it with the Prometheus text
// parser.
func scrapeMetrics(t *testing.T, w *clustertest.Worker) (workerScrape, error) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + w.HTTP + "/metrics")
	if err != nil {
		return workerScrape{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return workerScrape{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return workerScrape{}, fmt.Errorf("GET %s/metrics: %s: %s", w.Name, resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return workerScrape{}, fmt.Errorf("parse %s/metrics: %w", w.Name, err)
	}
	return workerScrape{fams: fams, body: string(body)}, nil
}

// taskSeries returns the series of family name for topology topo, from
// every scrape (by worker name).
func taskSeries(scrapes map[string]workerScrape, name, topo string) []scraped {
	var out []scraped
	for from, s := range scrapes {
		for _, m := range s.fams[name].GetMetric() {
			ls := map[string]string{}
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			if ls["topology"] != topo {
				continue
			}
			v := m.GetCounter().GetValue()
			if m.GetGauge() != nil {
				v = m.GetGauge().GetValue()
			}
			out = append(out, scraped{from: from, labels: ls, value: v})
		}
	}
	return out
}

// counterTotal sums every gale_task_*_total series of topo, and the
// spouts' pending trees: when two scrapes agree and nothing is pending,
// the counters stopped.
func counterTotal(scrapes map[string]workerScrape, topo string) (total, pending float64) {
	for _, c := range taskCounters {
		for _, s := range taskSeries(scrapes, c.metric, topo) {
			total += s.value
		}
	}
	for _, s := range taskSeries(scrapes, "gale_task_pending", topo) {
		pending += s.value
	}
	return total, pending
}

// TestMetrics_Cluster runs a word count on two `gale worker` processes,
// scrapes both workers' /metrics, deactivates the topology, waits until
// the counters stop, and checks the scrapes against the API's describe:
// each task is exported by exactly the worker the API says runs it, with
// the API's counters, and the per-component sums over both workers equal
// the API's component counters.
func TestMetrics_Cluster(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	dir := t.TempDir()
	w1 := startWorker(t, dir, "w1", "")
	w2 := startWorker(t, dir, "w2", w1.Gossip)
	workers := []*clustertest.Worker{w1, w2}
	c := w1.Client()
	ctx := context.Background()
	waitMembers(t, c, 2)
	if _, err := c.Submit(ctx, []byte(metricsTopology)); err != nil {
		t.Fatal(err)
	}
	const topo = "wc-metrics"
	galetest.Eventually(t, "the topology to run on both workers", 60*time.Second, func() bool {
		d, err := c.Describe(ctx, topo)
		return err == nil && d.Workers == 2 && len(d.Unassigned) == 0 && d.Acked > 1000
	})

	scrapeAll := func() (map[string]workerScrape, error) {
		out := map[string]workerScrape{}
		for _, w := range workers {
			s, err := scrapeMetrics(t, w)
			if err != nil {
				return nil, err
			}
			out[w.Name] = s
		}
		return out, nil
	}

	// while it runs: every worker exports its tasks, itself, its process,
	// and nothing promlint objects to
	var running map[string]workerScrape
	galetest.Eventually(t, "both workers to export tasks of the topology", 30*time.Second, func() bool {
		var err error
		running, err = scrapeAll()
		if err != nil {
			t.Logf("scrape: %v", err)
			return false
		}
		for _, w := range workers {
			n := 0
			for _, s := range taskSeries(running, "gale_task_emitted_total", topo) {
				if s.from == w.Name {
					n++
				}
			}
			if n == 0 {
				return false
			}
		}
		return true
	})
	for _, w := range workers {
		s := running[w.Name]
		info := s.fams["gale_worker_info"].GetMetric()
		if len(info) != 1 || info[0].GetGauge().GetValue() != 1 || labelValue(info[0], "worker") != w.Name {
			t.Errorf("%s: gale_worker_info = %v, want one series worker=%q 1", w.Name, info, w.Name)
		}
		for _, f := range []string{"gale_topology_uptime_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes",
			"go_goroutines", "gale_task_complete_latency_seconds", "gale_task_busy_seconds_total"} {
			if len(s.fams[f].GetMetric()) == 0 {
				t.Errorf("%s: no %s", w.Name, f)
			}
		}
		problems, err := promlint.New(strings.NewReader(s.body)).Lint()
		if err != nil {
			t.Errorf("%s: promlint: %v", w.Name, err)
		}
		for _, p := range problems {
			t.Errorf("%s: lint: %s: %s", w.Name, p.Metric, p.Text)
		}
	}
	t1, _ := counterTotal(running, topo)

	// deactivate, then wait until the counters stop moving
	if err := c.SetActive(ctx, topo, false); err != nil {
		t.Fatal(err)
	}
	var last map[string]workerScrape
	var lastTotal float64 = -1
	stopped := galetest.Eventually(t, "the counters to stop after the deactivation", 60*time.Second, func() bool {
		time.Sleep(400 * time.Millisecond)
		s, err := scrapeAll()
		if err != nil {
			t.Logf("scrape: %v", err)
			return false
		}
		total, pending := counterTotal(s, topo)
		still := total == lastTotal && pending == 0
		if !still {
			t.Logf("after the deactivation: counters' total %v, pending trees %v", total, pending)
		}
		last, lastTotal = s, total
		return still
	})
	t.Logf("counters still %v after the deactivation", stopped.Round(100*time.Millisecond))
	// a deactivation pauses the spouts; it does not restart the runtimes
	// (which would restart the counters from zero)
	started := func(s map[string]workerScrape) map[string]float64 {
		out := map[string]float64{}
		for _, x := range taskSeries(s, "gale_topology_start_time_seconds", topo) {
			out[x.from] = x.value
		}
		return out
	}
	if s0, s1 := started(running), started(last); len(s0) != 2 || fmt.Sprint(s0) != fmt.Sprint(s1) {
		t.Errorf("the runtimes' start times went from %v to %v with the deactivation, want both workers' unchanged", s0, s1)
	}
	if lastTotal <= t1 {
		t.Errorf("the counters' total %v did not grow after the first scrape (%v)", lastTotal, t1)
	}

	// describe, and make sure nothing moved around it
	var d *api.Topology
	for attempt := 0; ; attempt++ {
		var err error
		if d, err = c.Describe(ctx, topo); err != nil {
			t.Fatal(err)
		}
		s, err := scrapeAll()
		if err != nil {
			t.Fatal(err)
		}
		total, _ := counterTotal(s, topo)
		if total == lastTotal {
			break
		}
		if attempt == 5 {
			t.Fatalf("the counters still move after the deactivation: %v then %v", lastTotal, total)
		}
		last, lastTotal = s, total
		time.Sleep(time.Second)
	}

	// each task: exported once, by the worker the API names, with the
	// API's counters; and each component's sums
	apiTasks := map[string]api.Task{}
	for _, comp := range d.Components {
		for _, tk := range comp.Tasks {
			apiTasks[strconv.Itoa(tk.ID)] = tk
		}
	}
	checked := 0
	for _, tc := range taskCounters {
		series := taskSeries(last, tc.metric, topo)
		byTask := map[string][]scraped{}
		for _, s := range series {
			byTask[s.labels["task"]] = append(byTask[s.labels["task"]], s)
			if s.labels["worker"] != s.from {
				t.Errorf("%s task %s: label worker=%q on %s's /metrics", tc.metric, s.labels["task"], s.labels["worker"], s.from)
			}
		}
		for id := range byTask {
			if _, ok := apiTasks[id]; !ok {
				t.Errorf("%s: task %s is exported but not in the API's describe", tc.metric, id)
			}
		}
		for _, comp := range d.Components {
			var sum float64
			var apiSum uint64
			for _, tk := range comp.Tasks {
				id := strconv.Itoa(tk.ID)
				got := byTask[id]
				apiSum += tc.api(tk)
				if tc.metric == "gale_task_executed_total" && comp.Kind == "spout" {
					if len(got) != 0 {
						t.Errorf("%s: spout task %s exported", tc.metric, id)
					}
					continue
				}
				if len(got) != 1 {
					var from []string
					for _, s := range got {
						from = append(from, s.from)
					}
					t.Errorf("%s: task %s (%s) exported by %q, want exactly by %s (the API)", tc.metric, id, comp.ID, from, tk.Worker)
					continue
				}
				if got[0].from != tk.Worker {
					t.Errorf("%s: task %s (%s) exported by %s, the API says it runs on %s", tc.metric, id, comp.ID, got[0].from, tk.Worker)
				}
				if got[0].labels["component"] != comp.ID || got[0].labels["kind"] != comp.Kind {
					t.Errorf("%s: task %s labels %v, want component %s kind %s", tc.metric, id, got[0].labels, comp.ID, comp.Kind)
				}
				if got[0].value != float64(tc.api(tk)) {
					t.Errorf("%s: task %s (%s on %s) = %v, the API says %d", tc.metric, id, comp.ID, tk.Worker, got[0].value, tc.api(tk))
				}
				sum += got[0].value
				checked++
			}
			var apiComp uint64
			switch tc.metric {
			case "gale_task_emitted_total":
				apiComp = comp.Emitted
			case "gale_task_transferred_total":
				apiComp = comp.Transferred
			case "gale_task_acked_total":
				apiComp = comp.Acked
			case "gale_task_failed_total":
				apiComp = comp.Failed
			case "gale_task_executed_total":
				apiComp = comp.Executed
			case "gale_task_errors_total":
				apiComp = comp.Errors
			}
			if apiComp != apiSum {
				t.Errorf("API: component %s %s = %d, but its tasks sum to %d", comp.ID, tc.metric, apiComp, apiSum)
			}
			if sum != float64(apiComp) {
				t.Errorf("component %s: %s summed over both workers = %v, the API says %d", comp.ID, tc.metric, sum, apiComp)
			}
		}
	}
	// the comparison covered real work on both workers
	on := map[string]bool{}
	for _, tk := range apiTasks {
		on[tk.Worker] = true
	}
	if !on["w1"] || !on["w2"] {
		t.Errorf("the API places tasks on %v, want both workers", on)
	}
	var acked uint64
	spoutTasks := 0
	for _, comp := range d.Components {
		if comp.Kind == "spout" {
			acked += comp.Acked
			spoutTasks += len(comp.Tasks)
		}
	}
	if want := len(taskCounters)*len(apiTasks) - spoutTasks; acked == 0 || checked != want {
		t.Errorf("compared %d task counters, spouts acked %d: the test compared too little", checked, acked)
	}
	t.Logf("compared %d task counters of %d tasks over 2 workers; spouts acked %d trees", checked, len(apiTasks), acked)
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
