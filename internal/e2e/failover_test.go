package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/testenv"
)

const failoverTopology = `{"name": "kafka-files", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 8},
  "spouts": [{"id": "events", "type": "kafka", "parallelism": 4, "config": {
      "brokers": [%q], "topics": [%q], "group": %q, "start": "earliest", "deserializer": "json", "fields": ["level"],
      "batch": {"records": 1000, "bytes": 4194304, "time": "1h"}, "bounded": true, "dead_letter_topic": %q,
      "ledger": {"kind": "file", "dir": %q}}}],
  "bolts": [
    {"id": "drop-debug", "type": "filter", "parallelism": 3, "config": {"field": "level", "equals": "debug", "invert": true},
     "inputs": [{"component": "events"}]},
    {"id": "files", "type": "file_sink", "parallelism": 3, "inputs": [{"component": "drop-debug", "grouping": "batch"}],
     "config": {"dir": %q, "field": "value", "time_partition": "hour", "dead_letter_dir": %q}}]}`

// TestFailover runs a Kafka -> lz4 file topology on three worker processes
// and SIGKILLs a random worker ten times (restarting it each time): the
// dead worker's tasks restart on the others, and in the end the files are
// exactly those of the same topology run in one process without kills,
// and gale verify is clean.
func TestFailover(t *testing.T) {
	clusterRun(t, "failover", 10, 1500000, func(t *testing.T, ws []*clustertest.Worker, i int, dir string) {
		victim, survivor := ws[i], ws[(i+1)%len(ws)]
		killed := time.Now()
		victim.Cmd.Process.Signal(syscall.SIGKILL)
		victim.Cmd.Wait()
		// the others declare it dead and take its tasks
		c := survivor.Client()
		dead := eventually(t, victim.Name+" declared dead", 30*time.Second, func() bool {
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
		t.Logf("%s declared dead %v after the kill", victim.Name, (time.Since(killed) - time.Since(killed) + dead).Round(100*time.Millisecond))
		// then it comes back as an operator would restart it: same name,
		// same addresses
		victim.Restart(t, survivor.Gossip)
	})
}

// TestSplitBrain pauses a random worker (SIGSTOP) long enough for the
// others to declare it dead and take its tasks, then lets it go on
// (SIGCONT), three times: the paused worker wakes up still running tasks
// the others have taken over, its Kafka spouts are fenced by the batch
// ledger (no partition ever has two plan writers), and the files end up
// exactly those of a run without trouble; gale verify is clean.
func TestSplitBrain(t *testing.T) {
	clusterRun(t, "splitbrain", 3, 300000, func(t *testing.T, ws []*clustertest.Worker, i int, dir string) {
		p := ws[i].Cmd.Process
		p.Signal(syscall.SIGSTOP)
		time.Sleep(8 * time.Second) // declared dead after ~3 s; its tasks move
		p.Signal(syscall.SIGCONT)
	})
}

// clusterRun produces events, writes the reference files with one
// `gale run`, then runs the same topology on three workers, disturbing
// them n times with disturb, and compares.
func clusterRun(t *testing.T, name string, n, events int, disturb func(t *testing.T, ws []*clustertest.Worker, i int, dir string)) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	root := t.TempDir()
	topic := fmt.Sprintf("gale-e2e-%s-%d", name, time.Now().UnixNano())
	produceEvents(t, brokers, topic, 8, events)
	topo := func(dir string) string {
		return fmt.Sprintf(failoverTopology, brokers, topic, "gale-e2e-"+filepath.Base(dir), topic+".dlq",
			filepath.Join(dir, "ledger"), filepath.Join(dir, "out"), filepath.Join(dir, "dlq"))
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
	ws := []*clustertest.Worker{startWorker(t, dir, "w1", "")}
	ws = append(ws, startWorker(t, dir, "w2", ws[0].Gossip), startWorker(t, dir, "w3", ws[0].Gossip))
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
	for k := 1; k <= n; k++ {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		i := rng.IntN(len(ws))
		before := len(files(t, out))
		hit := time.Now()
		disturb(t, ws, i, dir)
		// the others take its tasks; files keep coming (unless done)
		writing := "- (no new file within 20 s)"
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if m := len(files(t, out)); m > before+1 || m >= len(want) {
				writing = time.Since(hit).Round(100*time.Millisecond).String() + " after it"
				break
			}
		}
		t.Logf("%s %d: %s, %d files before; writing again %s", name, k, ws[i].Name, before, writing)
	}
	for deadline := time.Now().Add(4 * time.Minute); len(files(t, out)) < len(want); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
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
			t.Fatalf("%d of %d files after 4 minutes", len(files(t, out)), len(want))
		}
	}
	time.Sleep(2 * time.Second) // a replayed batch may still be rewriting its file (same bytes)
	sameFiles(t, "file sink after "+name, want, files(t, out))

	code, report := runVerify(t, dir)
	t.Logf("gale verify:\n%s", report)
	if code != 0 {
		t.Errorf("gale verify after %s: exit %d", name, code)
	}
}
