package cluster

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/internal/metrics"
	"github.com/gale-stream/gale/cluster/internal/monitor"
	"github.com/gale-stream/gale/cluster/internal/ui"
	"github.com/gale-stream/gale/local"
	"github.com/prometheus/client_golang/prometheus"
)

// Routes between workers (not part of the public API):
//
//	GET /api/v1/local/{name}[?series=10m|3h]  this worker's monitor.Report of a topology
//	GET /api/v1/process                       this worker's CPU and memory (api.Member fields)
func (w *Worker) serveMonitor(srv *api.Server) {
	w.rec = monitor.NewRecorder()
	srv.Handle("GET /api/v1/local/{name}", http.HandlerFunc(w.localReport))
	srv.Handle("GET /api/v1/process", http.HandlerFunc(w.process))
	serveMonitor(srv, w.cfg.Name, w.cfg.Version, w.localAll, &w.scaler.metrics, transportMetrics{w.tr})
}

// serveMonitor adds the monitor UI (at /) and the Prometheus metrics of
// the local tasks (at /metrics) to an API server; a gale worker and gale
// run --ui (ServeLocal) serve both.
func serveMonitor(srv *api.Server, worker, version string, local func() []local.Stats, extra ...prometheus.Collector) {
	srv.Handle("GET /metrics", metrics.Handler(worker, version, metrics.SourceFunc(local), extra...))
	srv.Handle("GET /", ui.Handler())
}

// localAll returns the local stats of every topology running here.
func (w *Worker) localAll() []local.Stats {
	ls := w.shares()
	out := make([]local.Stats, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.rt.Stats())
	}
	return out
}

// report is this worker's report of topology name (empty when it runs
// none of its tasks).
func (w *Worker) report(name, series string) monitor.Report {
	w.mu.Lock()
	l := w.running[name]
	w.mu.Unlock()
	st := local.Stats{Topology: name}
	if l != nil {
		st = l.rt.Stats()
	}
	return w.rec.Report(w.cfg.Name, time.Now(), st, series)
}

func (w *Worker) localReport(rw http.ResponseWriter, r *http.Request) {
	series := r.URL.Query().Get("series")
	if series != "" && series != "10m" && series != "3h" {
		http.Error(rw, "series: want 10m or 3h", http.StatusBadRequest)
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	json.NewEncoder(rw).Encode(w.report(r.PathValue("name"), series))
}

type processInfo struct {
	CPUPercent float64 `json:"cpu_percent"`
	RSSBytes   int64   `json:"rss_bytes"`
}

func (w *Worker) process(rw http.ResponseWriter, _ *http.Request) {
	cpu, rss := w.rec.Process()
	rw.Header().Set("Content-Type", "application/json")
	json.NewEncoder(rw).Encode(processInfo{CPUPercent: cpu, RSSBytes: rss})
}

// peers calls f for every live worker but this one, concurrently, with a
// client of its API, and waits.
func (w *Worker) peers(f func(name string, c *api.Client)) {
	var wg sync.WaitGroup
	for _, m := range w.ms.Members() {
		if m.Name == w.cfg.Name {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			scheme := "http://"
			if m.Meta.TLS {
				scheme = "https://"
			}
			f(m.Name, &api.Client{Base: scheme + m.Meta.API, Token: w.cfg.API.Token, HTTP: w.peerHTTP})
		}()
	}
	wg.Wait()
}

// gather fetches the reports of topology name from every live worker
// (with the chart steps of series, when not empty).
func (w *Worker) gather(ctx context.Context, name, series string) []monitor.Report {
	out := []monitor.Report{w.report(name, series)}
	var mu sync.Mutex
	path := "/api/v1/local/" + name
	if series != "" {
		path += "?series=" + series
	}
	w.peers(func(name string, c *api.Client) {
		var rep monitor.Report
		if err := c.Get(ctx, path, &rep); err != nil {
			return
		}
		if rep.Version != monitor.ReportVersion {
			// a worker of another version (a rolling upgrade): its tasks
			// show as reported by nobody rather than misread
			w.log.Warn("a worker reports in another version; its tasks are left out", "from", name,
				"version", rep.Version, "want", monitor.ReportVersion)
			return
		}
		mu.Lock()
		out = append(out, rep)
		mu.Unlock()
	})
	return out
}

// processes fetches every live worker's CPU and memory.
func (w *Worker) processes(ctx context.Context) map[string]processInfo {
	cpu, rss := w.rec.Process()
	out := map[string]processInfo{w.cfg.Name: {CPUPercent: cpu, RSSBytes: rss}}
	var mu sync.Mutex
	w.peers(func(name string, c *api.Client) {
		var p processInfo
		if err := c.Get(ctx, "/api/v1/process", &p); err == nil {
			mu.Lock()
			out[name] = p
			mu.Unlock()
		}
	})
	return out
}
