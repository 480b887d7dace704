package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/testenv"
)

const monitorTopology = `{"name": "monitored", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 8},
  "spouts": [{"id": "events", "type": "kafka", "parallelism": 2, "config": {
      "brokers": [%q], "topics": [%q], "group": %q, "start": "earliest", "deserializer": "json", "fields": ["level"],
      "batch": {"records": 500, "max_records": 500, "time": "1h"}, "bounded": true, "dead_letter_topic": %q,
      "ledger": {"kind": "file", "dir": %q, "shared": true}}}],
  "bolts": [
    {"id": "drop-debug", "type": "filter", "parallelism": 2, "config": {"field": "level", "equals": "debug", "invert": true},
     "inputs": [{"component": "events"}]},
    {"id": "files", "type": "file_sink", "parallelism": 2, "inputs": [{"component": "drop-debug", "grouping": "batch"}],
     "config": {"dir": %q, "field": "value", "dead_letter_dir": %q}}]}`

// TestMonitor_Cluster runs Kafka -> filter -> file sink on two worker
// processes and checks what the monitor API says against what happened:
// every Kafka partition read to its end (all batches committed, no lag),
// the sink's own count of written records equal to the tuples the filter
// passed, windows, rates and chart points filled in, each worker's CPU and
// memory.
func TestMonitor_Cluster(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	const events, parts = 60000, 4
	topic := fmt.Sprintf("gale-e2e-monitor-%d", time.Now().UnixNano())
	produceEvents(t, brokers, topic, parts, events)
	dir := t.TempDir()
	w1 := startWorker(t, dir, "w1", "")
	w2 := startWorker(t, dir, "w2", w1.Gossip)
	t.Cleanup(func() {
		if t.Failed() {
			for _, w := range []string{"w1", "w2"} {
				b, _ := os.ReadFile(filepath.Join(dir, w+".log"))
				t.Logf("%s log:\n%s", w, b)
			}
		}
	})
	c := w2.Client()
	ctx := context.Background()
	waitMembers(t, c, 2)
	js := fmt.Sprintf(monitorTopology, brokers, topic, "gale-e2e-monitor-"+filepath.Base(dir), topic+".dlq",
		filepath.Join(dir, "ledger"), filepath.Join(dir, "out"), filepath.Join(dir, "dlq"))
	if _, err := c.Submit(ctx, []byte(js)); err != nil {
		t.Fatal(err)
	}
	comp := func(d *api.Topology, id string) *api.Component {
		for i := range d.Components {
			if d.Components[i].ID == id {
				return &d.Components[i]
			}
		}
		t.Fatalf("no component %q in %+v", id, d.Components)
		return nil
	}
	// the run is over when every partition is committed to its end
	var d *api.Topology
	var lastLog time.Time
	galetest.Eventually(t, "every partition read and committed to its end", 3*time.Minute, func() bool {
		var err error
		if d, err = c.Describe(ctx, "monitored"); err != nil {
			return false
		}
		ps := comp(d, "events").Partitions
		if time.Since(lastLog) > 10*time.Second {
			lastLog = time.Now()
			t.Logf("partitions %+v; tasks %+v", ps, comp(d, "events").Tasks)
		}
		if len(ps) != parts {
			return false
		}
		for _, p := range ps {
			if p.Lag != 0 || p.InFlight != 0 || p.Committed != p.Planned || p.HighWatermark <= 0 {
				return false
			}
		}
		return true
	})
	total := int64(0)
	for _, p := range comp(d, "events").Partitions {
		total += p.HighWatermark
		if p.Worker == "" || p.Topic != topic || p.CommittedOffset != p.HighWatermark {
			t.Errorf("partition %+v: want its worker, the topic, committed to the end", p)
		}
		owner := ""
		for _, tk := range comp(d, "events").Tasks {
			if tk.ID == p.Task {
				owner = tk.Worker
			}
		}
		if owner != p.Worker {
			t.Errorf("partition %d reported by %s, but its task %d runs on %s", p.Partition, p.Worker, p.Task, owner)
		}
	}
	if total != events {
		t.Errorf("partitions end at %d records in all, want %d produced", total, events)
	}

	// the sink's own count: every record the filter keeps, written once (no
	// replays: tuples that reach a worker before its runtime starts wait
	// for it; the last batches may still be writing when the spouts
	// committed)
	galetest.Eventually(t, "the sink to write what the filter passed", 30*time.Second, func() bool {
		var err error
		if d, err = c.Describe(ctx, "monitored"); err != nil {
			return false
		}
		k, f := comp(d, "files").Sink, comp(d, "drop-debug")
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			t.Logf("sink %+v; the filter emitted %d", k, f.Emitted)
		}
		// kept: not debug (one in ten), not poison (every 5000th: dead-lettered by the spout)
		return k != nil && f.Emitted > 0 && k.Records == events-events/10-events/5000 && k.InFlight == 0
	})
	k := comp(d, "files").Sink
	if k.Backend != "file_sink" || k.Batches == 0 || k.Bytes == 0 || k.WriteLatencyMs <= 0 || k.Retries != 0 {
		t.Errorf("sink %+v: want file_sink, batches, bytes, a write latency, no retries", k)
	}
	// windows of the bolts: 10m, 3h, all, each holding the work done
	for _, id := range []string{"drop-debug", "files"} {
		bc := comp(d, id)
		if len(bc.Windows) != 3 || bc.Windows[0].Window != "10m" || bc.Windows[2].Window != "all" {
			t.Fatalf("%s windows %+v", id, bc.Windows)
		}
		for _, w := range bc.Windows {
			if w.Executed != bc.Executed || w.Seconds <= 0 || w.ExecuteLatencyMs <= 0 {
				t.Errorf("%s window %s: executed %d of %d over %.1f s, execute latency %.4f ms: want all of it (the run is younger than the window)",
					id, w.Window, w.Executed, bc.Executed, w.Seconds, w.ExecuteLatencyMs)
			}
		}
		if bc.Capacity < 0 || bc.Capacity > 1.5 {
			t.Errorf("%s capacity %.3f: want a fraction", id, bc.Capacity)
		}
	}
	if len(d.Streams) != 2 || d.Workers != 2 {
		t.Errorf("streams %+v, workers %d: want 2 and 2", d.Streams, d.Workers)
	}

	// the charts (their sums are checked by cluster/internal/monitor's tests; this
	// run may end within a step or two): points of every component, on
	// 5-second steps, never more than what was emitted
	var sr *api.Series
	galetest.Eventually(t, "chart points", 30*time.Second, func() bool {
		var err error
		sr, err = c.Series(ctx, "monitored", "10m")
		return err == nil && len(sr.Components) == 3 && len(sr.Components[1].Points) >= 2
	})
	if sr.StepSeconds != 5 || sr.Components[1].ID != "events" {
		t.Fatalf("series step %.0f s, components %+v", sr.StepSeconds, sr.Components)
	}
	var sum float64
	for _, p := range sr.Components[1].Points {
		if p.Time.Unix()%5 != 0 || p.Emitted < 0 || p.Acked < 0 {
			t.Errorf("chart point %+v: want a 5 s step, no negative rate", p)
		}
		sum += p.Emitted * sr.StepSeconds
	}
	if sum > float64(comp(d, "events").Emitted)*1.01 {
		t.Errorf("events' chart sums to %.0f tuples; the spouts emitted %d", sum, comp(d, "events").Emitted)
	}

	ms, err := c.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.RSSBytes <= 0 || m.CPUPercent < 0 {
			t.Errorf("member %s: rss %d, cpu %.1f %%: want its process's figures", m.Name, m.RSSBytes, m.CPUPercent)
		}
	}
	t.Logf("%d events; sink: %d batches, %d records, %.2f ms a write; members: %v",
		events, k.Batches, k.Records, k.WriteLatencyMs, ms)
}
