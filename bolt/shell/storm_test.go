package shell_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/internal/multilang/multilangtest"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/local"
)

// The tests below run components written against Apache Storm's own
// multilang adapters, storm.py and storm.js (fetched from Storm's jars,
// multilangtest.StormAdapters), unchanged, with `gale run` and a topology
// that uses Storm's setting names and otherwise the defaults.

// stormDir lays out a directory as Storm's resources/: Storm's adapters
// and the components of testdata/storm side by side.
func stormDir(t *testing.T) string {
	t.Helper()
	adapters := multilangtest.StormAdapters(t)
	dir := t.TempDir()
	copyFile := func(from string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(from)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(adapters, "storm.py"))
	copyFile(filepath.Join(adapters, "storm.js"))
	comps, err := filepath.Glob("testdata/storm/*")
	if err != nil || len(comps) == 0 {
		t.Fatalf("testdata/storm: %v", err)
	}
	for _, c := range comps {
		copyFile(c)
	}
	return dir
}

// galeRun runs `gale run FILE --json` for d and returns the final stats
// and what it logged.
func galeRun(t *testing.T, dir, topo string, d time.Duration) (local.Stats, string) {
	t.Helper()
	file := filepath.Join(dir, "topology.json")
	if err := os.WriteFile(file, []byte(topo), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	args := []string{"run", file, "--json", "--quiet", "--duration", d.String(), "--drain-timeout", "3s"}
	if code := cli.Run(context.Background(), &cli.Env{Stdout: &out, Stderr: &errs}, args); code != 0 {
		t.Fatalf("gale %s: exit %d\n%s", strings.Join(args, " "), code, errs.String())
	}
	var st local.Stats
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("gale run --json: %v\n%s", err, out.String())
	}
	return st, errs.String()
}

// TestStorm_BatchingBoltAcksOnTicks: a spout emitting as fast as it is
// asked and a batching bolt that acks only on ticks, both on Storm's
// adapters, with Storm's topology.tick.tuple.freq.secs and the default
// max pending: every tree completes (before Storm's meaning of
// topology.shellbolt.max.pending, the bolt held its 100 slots with
// un-acked tuples, the tick needed one more, and every tree timed out).
// The bolts check Storm's tick value and handshake context themselves
// and report what differs.
func TestStorm_BatchingBoltAcksOnTicks(t *testing.T) {
	py := multilangtest.Python(t)
	node := testenv.Command(t, "node", "nodejs")
	dir := stormDir(t)
	const n = 1000
	for _, lang := range []struct{ name, interp, ext string }{{"python", py, "py"}, {"node", node, "js"}} {
		t.Run(lang.name, func(t *testing.T) {
			topo := fmt.Sprintf(`{"name": "storm-batching-%[1]s",
			  "config": {"topology.tick.tuple.freq.secs": 1, "topology.subprocess.timeout.secs": 30},
			  "spouts": [{"id": "spout", "type": "shell",
			    "config": {"command": [%[2]q, "slow_spout.%[3]s"], "dir": %[4]q, "env": {"SPOUT_RATE": "0", "SPOUT_COUNT": "%[5]d"}},
			    "outputs": {"default": ["sentence"]}}],
			  "bolts": [{"id": "batch", "type": "shell", "parallelism": 2,
			    "config": {"command": [%[2]q, "batch_bolt.%[3]s"], "dir": %[4]q},
			    "inputs": [{"component": "spout"}], "outputs": {"default": ["sentence"]}}]}`,
				lang.name, lang.interp, lang.ext, dir, n)
			st, logs := galeRun(t, dir, topo, 10*time.Second)
			sp, b := st.Component("spout"), st.Component("batch")
			if sp.Acked != n || sp.Failed != 0 {
				t.Errorf("spout acked %d failed %d (timed out %d), want %d acked", sp.Acked, sp.Failed, sp.TimedOut, n)
			}
			if sp.Errors != 0 || b.Errors != 0 {
				t.Errorf("errors: spout %+v bolt %+v", sp.LastErrors, b.LastErrors)
			}
			if b.Emitted != n {
				t.Errorf("the batching bolt emitted %d, want %d", b.Emitted, n)
			}
			for _, want := range []string{"spout activated", "flushed on tick [1]", fmt.Sprintf("all %d acked", n)} {
				if !strings.Contains(logs, want) {
					t.Errorf("the log lacks %q", want)
				}
			}
			if t.Failed() {
				t.Logf("gale run's log:\n%s", logs)
			}
			t.Logf("spout acked %d, complete latency p50 %v p99 %v (ticks every second)", sp.Acked, sp.CompleteP50, sp.CompleteP99)
		})
	}
}

// TestStorm_SlowSpoutLatency: a storm.py spout that emits one tuple per
// next, 10 a second, into Storm's split-sentence bolt on storm.py, with
// the defaults: every tree completes; the complete latency is logged (no
// threshold in a test: see the README for the figure).
func TestStorm_SlowSpoutLatency(t *testing.T) {
	py := multilangtest.Python(t)
	dir := stormDir(t)
	const n = 50
	topo := fmt.Sprintf(`{"name": "storm-slow-spout",
	  "config": {"topology.subprocess.timeout.secs": 30, "topology.shellbolt.max.pending": 100},
	  "spouts": [{"id": "spout", "type": "shell",
	    "config": {"command": [%[1]q, "slow_spout.py"], "dir": %[2]q, "env": {"SPOUT_RATE": "10", "SPOUT_COUNT": "%[3]d"}},
	    "outputs": {"default": ["sentence"]}}],
	  "bolts": [{"id": "split", "type": "shell",
	    "config": {"command": [%[1]q, "split_bolt.py"], "dir": %[2]q},
	    "inputs": [{"component": "spout"}], "outputs": {"default": ["word"]}}]}`, py, dir, n)
	st, _ := galeRun(t, dir, topo, n*100*time.Millisecond+2*time.Second)
	sp := st.Component("spout")
	if sp.Acked != n || sp.Failed != 0 || sp.Errors != 0 {
		t.Errorf("spout acked %d failed %d errors %+v, want %d acked", sp.Acked, sp.Failed, sp.LastErrors, n)
	}
	t.Logf("slow storm.py spout, 10 tuples/s, %d trees: complete latency p50 %v p99 %v mean %v",
		sp.Acked, sp.CompleteP50, sp.CompleteP99, sp.CompleteLat)
}

// TestStorm_DirectStream: a storm.py bolt emits with emitDirect on a
// stream declared direct in "outputs", read with the direct grouping;
// its one emitDirect on the default stream (not direct) is reported with
// Storm's error and dropped.
func TestStorm_DirectStream(t *testing.T) {
	py := multilangtest.Python(t)
	dir := stormDir(t)
	const n = 20
	topo := fmt.Sprintf(`{"name": "storm-direct",
	  "spouts": [{"id": "spout", "type": "shell",
	    "config": {"command": [%[1]q, "slow_spout.py"], "dir": %[2]q, "env": {"SPOUT_RATE": "0", "SPOUT_COUNT": "%[3]d"}},
	    "outputs": {"default": ["sentence"]}}],
	  "bolts": [{"id": "route", "type": "shell",
	    "config": {"command": [%[1]q, "direct_bolt.py"], "dir": %[2]q},
	    "inputs": [{"component": "spout"}],
	    "outputs": {"default": ["sentence"], "routed": {"fields": ["sentence"], "direct": true}}},
	   {"id": "sink", "type": "noop", "parallelism": 2,
	    "inputs": [{"component": "route", "stream": "routed", "grouping": "direct"}]}]}`, py, dir, n)
	st, _ := galeRun(t, dir, topo, 4*time.Second)
	sp, route, sink := st.Component("spout"), st.Component("route"), st.Component("sink")
	if sp.Acked != n || sink.Executed != n {
		t.Errorf("spout acked %d, sink executed %d, want %d", sp.Acked, sink.Executed, n)
	}
	if route.Errors != 1 || len(route.LastErrors) == 0 ||
		!strings.Contains(route.LastErrors[0].Message, "Cannot emitDirect to a task expecting a regular grouping") {
		t.Errorf("route errors %d %+v, want Storm's error for the direct emit on the default stream", route.Errors, route.LastErrors)
	}
	var perTask []uint64
	for _, ts := range st.Tasks {
		if ts.Component == "sink" {
			perTask = append(perTask, ts.Executed)
		}
	}
	if len(perTask) != 2 || perTask[0] != n/2 || perTask[1] != n/2 {
		t.Errorf("sink tasks executed %v, want %d each (the bolt alternates)", perTask, n/2)
	}
}
