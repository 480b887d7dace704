package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
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
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process failover test (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	root := t.TempDir()
	topic := fmt.Sprintf("gale-e2e-failover-%d", time.Now().UnixNano())
	produceEvents(t, brokers, topic, 8, 300000)
	topo := func(dir string) string {
		return fmt.Sprintf(failoverTopology, brokers, topic, "gale-e2e-"+filepath.Base(dir), topic+".dlq",
			filepath.Join(dir, "ledger"), filepath.Join(dir, "out"), filepath.Join(dir, "dlq"))
	}

	// the reference: one process, no kills
	ref := filepath.Join(root, "ref")
	os.MkdirAll(ref, 0o755)
	os.WriteFile(filepath.Join(ref, "topology.json"), []byte(topo(ref)), 0o644)
	waitExit(t, startGale(t, ref), ref, 4*time.Minute)
	want := files(t, filepath.Join(ref, "out"))
	if len(want) == 0 {
		t.Fatal("the reference run wrote nothing")
	}

	// three workers; kill one at random ten times
	dir := filepath.Join(root, "cluster")
	os.MkdirAll(dir, 0o755)
	ws := []*worker{startWorker(t, dir, "w1", "")}
	ws = append(ws, startWorker(t, dir, "w2", ws[0].gossip), startWorker(t, dir, "w3", ws[0].gossip))
	c := &api.Client{Base: "http://" + ws[1].http, Token: "s3cret"}
	ctx := context.Background()
	eventually(t, "three live members", 30*time.Second, func() bool {
		ms, err := c.Members(ctx)
		n := 0
		for _, m := range ms {
			if m.State == "alive" {
				n++
			}
		}
		return err == nil && n == 3
	})
	spec := topo(dir)
	os.WriteFile(filepath.Join(dir, "topology.json"), []byte(spec), 0o644)
	if _, err := c.Submit(ctx, []byte(spec)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("kill choices from seed %d", seed)
	for k := 1; k <= 10; k++ {
		time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond)
		i := rng.IntN(len(ws))
		victim := ws[i]
		before := len(files(t, out))
		victim.cmd.Process.Signal(syscall.SIGKILL)
		victim.cmd.Wait()
		killed := time.Now()
		// the others take its tasks; files keep coming (unless done)
		writing := "-"
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if n := len(files(t, out)); n > before+1 || n == len(want) {
				writing = time.Since(killed).Round(100 * time.Millisecond).String()
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("kill %d: %s, files %d -> writing again after %s", k, victim.name, before, writing)
		// restart it under the same name, joining a survivor
		join := ws[(i+1)%len(ws)].gossip
		ws[i] = startWorker(t, dir, victim.name, join)
	}
	// let it finish: every batch in the files
	eventually(t, "the files of every batch", 4*time.Minute, func() bool { return len(files(t, out)) >= len(want) })
	time.Sleep(2 * time.Second) // a replayed batch may still be rewriting its file (same bytes)
	sameFiles(t, "file sink after 10 worker kills", want, files(t, out))

	code, report := runVerify(t, dir)
	t.Logf("gale verify:\n%s", report)
	if code != 0 {
		t.Errorf("gale verify after the kills: exit %d", code)
	}
}
