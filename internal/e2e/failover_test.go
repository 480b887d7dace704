package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
)

const failoverTopology = `{"name": "kafka-files", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 8},
  "spouts": [{"id": "events", "type": "kafka", "parallelism": 4, "config": {
      "brokers": [%q], "topics": [%q], "group": %q, "start": "earliest", "deserializer": "json", "fields": ["level"],
      "batch": {"records": 1000, "max_records": 1000, "bytes": 4194304, "time": "1h"}, "bounded": true, "dead_letter_topic": %q,
      "ledger": %s}}],
  "bolts": [
    {"id": "drop-debug", "type": "filter", "parallelism": 3, "config": {"field": "level", "equals": "debug", "invert": true},
     "inputs": [{"component": "events"}]},
    {"id": "files", "type": "file_sink", "parallelism": 3, "inputs": [{"component": "drop-debug", "grouping": "batch"}],
     "config": {"dir": %q, "field": "value", "time_partition": "hour", "dead_letter_dir": %q}}]}`

// TestFailover runs a Kafka -> lz4 file topology on three worker processes
// and SIGKILLs a random worker ten times (restarting it each time): the
// dead worker's tasks restart on the others, and in the end the files are
// exactly those of the same topology run in one process without kills,
// and gale verify is clean. It logs, per kill, the source partitions whose
// spout ran on the dead worker and how long after the kill each wrote a
// new file again, once the spout had moved.
func TestFailover(t *testing.T) {
	clusterRun(t, clusterOpts{name: "failover", n: 10, events: 1500000, measure: true, disturb: killAndRestart})
}

// FailoverHistoryVar enables TestFailover_LedgerHistory, a benchmark run
// by `make bench` (scripts/bench.sh), not by the test suite.
const FailoverHistoryVar = "GALE_BENCH_FAILOVER_HISTORY"

// TestFailover_LedgerHistory is TestFailover with the ledger in Kafka, on a
// topic that first holds GALE_BENCH_FAILOVER_HISTORY (e.g. 1e6) batches
// of another topology's history, written through the ledger: a moved
// partition's new owner opens its ledger among them — uncompacted, just
// written, then compacted by Kafka. It logs how long after each kill the
// moved partitions wrote again.
func TestFailover_LedgerHistory(t *testing.T) {
	v := os.Getenv(FailoverHistoryVar)
	if v == "" {
		t.Skipf("SKIPPED LOUDLY: a benchmark; set %s=1e6 (make bench does)", FailoverHistoryVar)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1 {
		t.Fatalf("%s=%q: want a number of batches", FailoverHistoryVar, v)
	}
	// just written, the history is in the topic as it was written; then
	// as Kafka keeps it, compacted
	for _, compacted := range []bool{false, true} {
		t.Run(map[bool]string{false: "uncompacted", true: "compacted"}[compacted], func(t *testing.T) {
			clusterRun(t, clusterOpts{name: "failover-history", n: 5, events: 1500000, measure: true, disturb: killAndRestart,
				history: int(f), compacted: compacted})
		})
	}
}

// writeLedgerHistory writes n committed batches of another topology's
// partition into the ledger topic, through the ledger, 10,000 at a time.
func writeLedgerHistory(t *testing.T, brokers, topic string, n int) {
	t.Helper()
	s, err := ledger.NewKafkaStore([]string{brokers}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	w, _, err := s.Open(ctx, ledger.Key{Topology: "history", Spout: "events", Topic: "old", Partition: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	start := time.Now()
	const chunk = 10000
	for seq := 0; seq < n; seq += chunk {
		var b ledger.Batch
		for i := seq; i < min(seq+chunk, n); i++ {
			b.Plans = append(b.Plans, ledger.Plan{Seq: uint64(i), Start: int64(i) * 500, End: int64(i+1) * 500})
			b.Commits = append(b.Commits, uint64(i))
		}
		if err := w.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("ledger topic %s: %d batches of history written in %v", topic, n, time.Since(start).Round(100*time.Millisecond))
}

// killAndRestart SIGKILLs worker i, waits until another declares it dead
// and its tasks moved to the others, and starts it again.
func killAndRestart(t *testing.T, ws []*clustertest.Worker, i int, dir string) {
	killAndRestartTopology(t, ws, i, "kafka-files")
}

// killAndRestartTopology is killAndRestart waiting for topology's tasks.
func killAndRestartTopology(t *testing.T, ws []*clustertest.Worker, i int, topology string) {
	victim, survivor := ws[i], ws[(i+1)%len(ws)]
	killed := time.Now()
	victim.Cmd.Process.Signal(syscall.SIGKILL)
	victim.Cmd.Wait()
	// the others declare it dead and take its tasks
	c := survivor.Client()
	galetest.Eventually(t, victim.Name+" declared dead", 30*time.Second, func() bool {
		ms, err := c.Members(context.Background())
		if err != nil {
			return false
		}
		for _, m := range ms {
			if m.Name == victim.Name && m.State == "alive" {
				return false
			}
		}
		return true
	})
	t.Logf("%s declared dead %v after the kill", victim.Name, time.Since(killed).Round(100*time.Millisecond))
	galetest.Eventually(t, victim.Name+"'s tasks to move", 30*time.Second, func() bool {
		d, err := c.Describe(context.Background(), topology)
		return err == nil && len(d.Unassigned) == 0 && !runsTasks(d, victim.Name)
	})
	took := time.Since(killed)
	t.Logf("%s's tasks moved %v after the kill", victim.Name, took.Round(100*time.Millisecond))
	if took > 8*time.Second {
		// slow: show what the workers did meanwhile
		for _, w := range ws {
			t.Logf("%s log since the kill:\n%s", w.Name, logSince(w.Log, killed.Add(-time.Second)))
		}
	}
	// then it comes back as an operator would restart it: same name,
	// same addresses
	victim.Restart(t, survivor.Gossip)
}

// runsTasks reports whether worker runs a task of topology d.
func runsTasks(d *api.Topology, worker string) bool {
	for _, comp := range d.Components {
		for _, tk := range comp.Tasks {
			if tk.Worker == worker {
				return true
			}
		}
	}
	return false
}

// TestSplitBrain pauses a random worker (SIGSTOP) long enough for the
// others to declare it dead and take its tasks, then lets it go on
// (SIGCONT), three times: the paused worker wakes up still running tasks
// the others have taken over, its Kafka spouts are fenced by the batch
// ledger (no partition ever has two plan writers), and the files end up
// exactly those of a run without trouble; gale verify is clean.
func TestSplitBrain(t *testing.T) {
	clusterRun(t, clusterOpts{name: "splitbrain", n: 3, events: 1500000, waitOutput: true,
		disturb: func(t *testing.T, ws []*clustertest.Worker, i int, dir string) {
			p := ws[i].Cmd.Process
			p.Signal(syscall.SIGSTOP)
			time.Sleep(8 * time.Second) // declared dead after ~3 s; its tasks move
			p.Signal(syscall.SIGCONT)
		}})
}

// clusterOpts describes a run of clusterRun.
type clusterOpts struct {
	name      string
	n, events int // disturbances, events produced
	// disturb disturbs worker i (the k-th time: k counts from 1).
	disturb func(t *testing.T, ws []*clustertest.Worker, i int, dir string)
	// pick chooses the worker of the k-th disturbance (default: random).
	pick func(rng *rand.Rand, k int) int
	// env is the extra environment of worker i (0, 1, 2), if any.
	env func(i int) []string
	// measure: log, per disturbance, the source partitions whose spout
	// ran on the disturbed worker and when each wrote a new file again
	// after disturb returned (killAndRestart returns once the tasks moved:
	// files of batches in flight at the kill are not counted).
	measure bool
	// waitOutput: the first disturbance waits for the first file.
	waitOutput bool
	// after runs once the output was checked.
	after func(t *testing.T, ws []*clustertest.Worker, dir string)
	// history, when > 0: the ledger is in Kafka, on a topic that holds
	// this many batches of another topology's history first
	history int
	// compacted: Kafka compacts the history before the cluster starts
	// (as it has, but for its last segment, on a ledger that ran long)
	compacted bool
}

// clusterRun produces events, writes the reference files with one
// `gale run`, then runs the same topology on three workers, disturbing
// them o.n times with o.disturb, and compares.
func clusterRun(t *testing.T, o clusterOpts) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	root := t.TempDir()
	topic := fmt.Sprintf("gale-e2e-%s-%d", o.name, time.Now().UnixNano())
	produceEvents(t, brokers, topic, 8, o.events)
	ledgerTopic := topic + ".ledger"
	if o.history > 0 {
		writeLedgerHistory(t, brokers, ledgerTopic, o.history)
		if o.compacted {
			before := testenv.CountRecords(t, brokers, ledgerTopic)
			testenv.ReleaseCompaction(t, brokers, ledgerTopic)
			after := testenv.WaitCompacted(t, brokers, ledgerTopic, before, 10*time.Minute, t.Logf)
			t.Logf("ledger topic: %v before compaction, %v after", before, after)
		}
	}
	topo := func(dir string) string {
		ledgerCfg := fmt.Sprintf(`{"kind": "file", "dir": %q, "shared": true}`, filepath.Join(dir, "ledger"))
		if o.history > 0 {
			// the reference and the cluster each have a ledger of their own
			ledgerCfg = fmt.Sprintf(`{"kind": "kafka", "topic": %q}`, ledgerTopic+"."+filepath.Base(dir))
			if filepath.Base(dir) == "cluster" {
				ledgerCfg = fmt.Sprintf(`{"kind": "kafka", "topic": %q}`, ledgerTopic)
			}
		}
		return fmt.Sprintf(failoverTopology, brokers, topic, "gale-e2e-"+filepath.Base(dir), topic+".dlq",
			ledgerCfg, filepath.Join(dir, "out"), filepath.Join(dir, "dlq"))
	}

	// the reference: one process, no trouble
	ref := filepath.Join(root, "ref")
	os.MkdirAll(ref, 0o755)
	os.WriteFile(filepath.Join(ref, "topology.json"), []byte(topo(ref)), 0o644)
	waitExit(t, startGale(t, ref), ref, 4*time.Minute)
	want := files(t, filepath.Join(ref, "out"))
	if len(want) == 0 {
		t.Fatal("the reference run wrote nothing")
	}

	dir := filepath.Join(root, "cluster")
	os.MkdirAll(dir, 0o755)
	env := func(i int) []string {
		if o.env == nil {
			return nil
		}
		return o.env(i)
	}
	w1 := clustertest.StartWorkerEnv(t, gale(t), dir, "w1", "", env(0))
	ws := []*clustertest.Worker{w1,
		clustertest.StartWorkerEnv(t, gale(t), dir, "w2", w1.Gossip, env(1)),
		clustertest.StartWorkerEnv(t, gale(t), dir, "w3", w1.Gossip, env(2))}
	c := ws[1].Client()
	ctx := context.Background()
	waitMembers(t, c, 3)
	spec := topo(dir)
	os.WriteFile(filepath.Join(dir, "topology.json"), []byte(spec), 0o644)
	if _, err := c.Submit(ctx, []byte(spec)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("choices from seed %d; %d files make the whole output", seed, len(want))
	wantParts := filesByPartition(want)
	if o.waitOutput {
		galetest.Eventually(t, "the first file", 60*time.Second, func() bool { return len(files(t, out)) > 0 })
	}
	var allGaps []time.Duration
	for k := 1; k <= o.n; k++ {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		i := rng.IntN(len(ws))
		if o.pick != nil {
			i = o.pick(rng, k)
		}
		var moved []string
		if o.measure {
			moved = spoutPartitions(t, ws, ws[i].Name, 8)
		}
		before := len(files(t, out))
		hit := time.Now()
		gaps := map[string]time.Duration{}
		o.disturb(t, ws, i, dir)
		beforeParts := filesByPartition(files(t, out))
		// the moved partitions that still have files to write
		pending := map[string]bool{}
		for _, p := range moved {
			if len(beforeParts[p]) < len(wantParts[p]) {
				pending[p] = true
			}
		}
		// the others take its tasks; files keep coming (unless done)
		writing := "- (no new file within 20 s)"
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			now := files(t, out)
			for p, names := range filesByPartition(now) {
				if pending[p] && len(newNames(names, beforeParts[p])) > 0 {
					gaps[p] = time.Since(hit)
					delete(pending, p)
				}
			}
			if m := len(now); writing[0] == '-' && (m > before+1 || m >= len(want)) {
				writing = time.Since(hit).Round(100*time.Millisecond).String() + " after it"
			}
			if writing[0] != '-' && len(pending) == 0 {
				break
			}
		}
		t.Logf("%s %d: %s, %d files before; writing again %s", o.name, k, ws[i].Name, before, writing)
		if o.measure {
			var parts []string
			var kmax time.Duration
			for _, p := range moved {
				switch d, ok := gaps[p]; {
				case ok:
					parts = append(parts, fmt.Sprintf("%s:%v", p, d.Round(100*time.Millisecond)))
					allGaps = append(allGaps, d)
					kmax = max(kmax, d)
				case pending[p]:
					parts = append(parts, p+":none within 20 s")
				default:
					parts = append(parts, p+":done")
				}
			}
			t.Logf("%s %d: partitions of %s's spouts %v; wrote again after the %s: %s (max %v)", o.name, k, ws[i].Name, moved,
				map[bool]string{true: "kill", false: "disturbance"}[o.name == "failover"], strings.Join(parts, " "), kmax.Round(100*time.Millisecond))
		}
	}
	if o.measure && len(allGaps) > 0 {
		slices.Sort(allGaps)
		t.Logf("%s: moved partitions writing again: median %v, max %v over %d (partition, disturbance) pairs", o.name,
			allGaps[len(allGaps)/2].Round(100*time.Millisecond), allGaps[len(allGaps)-1].Round(100*time.Millisecond), len(allGaps))
	}
	complete := false
	defer func() {
		if complete {
			return
		}
		t.Logf("%d of %d files", len(files(t, out)), len(want))
		for _, w := range ws {
			data, _ := os.ReadFile(w.Log)
			var lines []string
			for _, l := range strings.Split(string(data), "\n") {
				if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") || strings.Contains(l, "assigned") || strings.Contains(l, "running") {
					lines = append(lines, l)
				}
			}
			if len(lines) > 40 {
				lines = lines[len(lines)-40:]
			}
			t.Logf("%s log:\n%s", w.Name, strings.Join(lines, "\n"))
		}
	}()
	galetest.Eventually(t, fmt.Sprintf("all %d files", len(want)), 4*time.Minute, func() bool { return len(files(t, out)) >= len(want) })
	complete = true
	time.Sleep(2 * time.Second) // a replayed batch may still be rewriting its file (same bytes)
	sameFiles(t, "file sink after "+o.name, want, files(t, out))

	code, report := runVerify(t, dir)
	t.Logf("gale verify:\n%s", report)
	if code != 0 {
		t.Errorf("gale verify after %s: exit %d", o.name, code)
	}
	if o.after != nil {
		o.after(t, ws, dir)
	}
}

// filesByPartition groups the names of a file sink's output by source
// partition (the directory above the file: .../<partition>/<seq>-...).
func filesByPartition(fs map[string][]byte) map[string][]string {
	out := map[string][]string{}
	for name := range fs {
		parts := strings.Split(name, "/")
		if len(parts) >= 2 {
			p := parts[len(parts)-2]
			out[p] = append(out[p], name)
		}
	}
	return out
}

func newNames(now, before []string) []string {
	var out []string
	for _, n := range now {
		if !slices.Contains(before, n) {
			out = append(out, n)
		}
	}
	return out
}

// spoutPartitions returns the source partitions (as the sink names them:
// 5 digits) read by the spout tasks that worker runs: partition p of parts
// goes to spout task p mod tasks.
func spoutPartitions(t *testing.T, ws []*clustertest.Worker, worker string, parts int) []string {
	for _, w := range ws {
		if w.Name == worker {
			continue
		}
		d, err := w.Client().Describe(context.Background(), "kafka-files")
		if err != nil {
			continue
		}
		for _, comp := range d.Components {
			if comp.ID != "events" {
				continue
			}
			var out []string
			for p := range parts {
				if comp.Tasks[p%len(comp.Tasks)].Worker == worker {
					out = append(out, fmt.Sprintf("%05d", p))
				}
			}
			return out
		}
	}
	t.Logf("cannot tell which partitions %s reads", worker)
	return nil
}

// logSince returns the lines of a worker's log written since t that tell
// about scheduling and trouble.
func logSince(path string, t time.Time) string {
	data, _ := os.ReadFile(path)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		ts, _, ok := strings.Cut(strings.TrimPrefix(l, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil || at.Before(t) {
			continue
		}
		for _, s := range []string{"level=WARN", "level=ERROR", "msg=assigned", "msg=running", "settled", "leadership", "worker gone", "worker joined"} {
			if strings.Contains(l, s) {
				out = append(out, l)
				break
			}
		}
	}
	if len(out) > 60 {
		out = out[len(out)-60:]
	}
	return strings.Join(out, "\n")
}
