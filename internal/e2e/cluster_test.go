package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
)

// startWorker starts a gale worker process (the binary of this test run).
func startWorker(t *testing.T, dir, name, join string, extra ...string) *clustertest.Worker {
	return clustertest.StartWorker(t, gale(t), dir, name, join, extra...)
}

const clusterTopology = `{"name": "wc-cluster", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 2000},
  "spouts": [{"id": "sentences", "type": "generator", "parallelism": 2, "config": {"seed": 7, "rate": 20000}}],
  "bolts": [
    {"id": "split", "type": "split", "parallelism": 3, "inputs": [{"component": "sentences"}]},
    {"id": "count", "type": "count", "parallelism": 3, "config": {"field": "word"},
     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}]}`

// TestCluster runs three `gale worker` processes on 127.0.0.1 and drives
// them through the API as the CLI does: submit (tasks spread over all
// three; tuples cross between them), rebalance, a SIGKILLed worker (its
// tasks move to the others), kill; and the bad input: no token, an
// invalid topology, a duplicate, a worker with another cluster key or none.
// The workers share a cluster key: gossip encrypted, transport sealed.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	dir := t.TempDir()
	// a keyed cluster: gossip encrypted, transport connections and frames authenticated
	key := filepath.Join(dir, "cluster.key")
	if err := os.WriteFile(key, []byte(strings.Repeat("5a", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	w1 := startWorker(t, dir, "w1", "", "--cluster-key-file", key)
	w2 := startWorker(t, dir, "w2", w1.Gossip, "--cluster-key-file", key)
	w3 := startWorker(t, dir, "w3", w1.Gossip, "--cluster-key-file", key)
	c := w2.Client()
	ctx := context.Background()
	waitMembers(t, c, 3)

	// bad input first
	anon := &api.Client{Base: c.Base}
	var se *api.StatusError
	if _, err := anon.Submit(ctx, []byte(clusterTopology)); !errors.As(err, &se) || se.Status != 401 {
		t.Errorf("submit without the token: %v", err)
	}
	if _, err := c.Submit(ctx, []byte(`{"name": "bad", "spouts": [{"id": "s", "type": "nope"}]}`)); !errors.As(err, &se) || se.Status != 400 ||
		!strings.Contains(strings.Join(se.Details, " "), "spouts[0].type") {
		t.Errorf("invalid topology: %v", err)
	}
	if _, err := c.Submit(ctx, []byte(clusterTopology)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, []byte(clusterTopology)); !errors.As(err, &se) || se.Status != 409 {
		t.Errorf("submit twice: %v", err)
	}

	acked := func() uint64 {
		d, err := c.Describe(ctx, "wc-cluster")
		if err != nil {
			return 0
		}
		return d.Acked
	}
	spread := func(n int) func() bool {
		return func() bool {
			d, err := c.Describe(ctx, "wc-cluster")
			if err != nil {
				t.Logf("describe: %v", err)
				return false
			}
			ok := d.Workers == n && d.Acked > 0 && len(d.Unassigned) == 0
			if !ok {
				t.Logf("workers %d acked %d unassigned %v", d.Workers, d.Acked, d.Unassigned)
			}
			return ok
		}
	}
	galetest.Eventually(t, "the topology to run on 3 workers", 60*time.Second, spread(3))
	a0 := acked()
	galetest.Eventually(t, "acked trees to rise", 30*time.Second, func() bool { return acked() > a0+1000 })
	_ = w3

	// rebalance: more split tasks, live
	if err := c.Rebalance(ctx, "wc-cluster", api.Rebalance{Parallelism: map[string]int{"split": 5}}); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "the rebalance", 60*time.Second, func() bool {
		d, err := c.Describe(ctx, "wc-cluster")
		// version 2: the rescale stored; 3: applied once the trees in
		// flight completed
		if err != nil || d.Version != 3 || d.Rescale != nil {
			return false
		}
		for _, comp := range d.Components {
			if comp.ID == "split" && len(comp.Tasks) == 5 && comp.Executed > 0 {
				return true
			}
		}
		return false
	})

	// a worker dies: its tasks move to the two others
	killedAt := time.Now()
	w3.Cmd.Process.Signal(syscall.SIGKILL)
	w3.Cmd.Wait()
	moved := galetest.Eventually(t, "the tasks to leave the dead worker", 60*time.Second, func() bool {
		d, err := c.Describe(ctx, "wc-cluster")
		if err != nil || d.Workers != 2 || len(d.Unassigned) > 0 {
			return false
		}
		for _, comp := range d.Components {
			for _, tk := range comp.Tasks {
				if tk.Worker == "w3" {
					return false
				}
			}
		}
		return true
	})
	// counters restart with the moved tasks: wait until they rise
	rising := func() bool {
		x := acked()
		time.Sleep(500 * time.Millisecond)
		return acked() > x+100
	}
	galetest.Eventually(t, "acked trees to rise after the failover", 60*time.Second, rising)
	t.Logf("failover: tasks moved %v after the SIGKILL, trees acked again %v after it", moved.Round(100*time.Millisecond),
		time.Since(killedAt).Round(100*time.Millisecond))

	// a worker with another key cannot join, nor one without a key
	err := clustertest.StartFailingWorker(t, gale(t), dir, "w9", w1.Gossip, "--cluster-key-file", writeKey(t, dir))
	if err == nil || !strings.Contains(err.Error(), "exited at its start (exit status 1)") || !strings.Contains(err.Error(), "gossip key") {
		t.Errorf("a worker with a wrong key: %v; want it to exit naming the gossip key", err)
	}
	if err := clustertest.StartFailingWorker(t, gale(t), dir, "w8", w1.Gossip); err == nil {
		t.Error("a worker without the key joined the keyed cluster")
	}

	// kill
	if err := c.Kill(ctx, "wc-cluster", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "the topology to be gone", 60*time.Second, func() bool {
		_, err := c.Describe(ctx, "wc-cluster")
		return errors.As(err, &se) && se.Status == 404
	})
}

func waitMembers(t *testing.T, c *api.Client, n int) { t.Helper(); clustertest.WaitMembers(t, c, n) }

func writeKey(t *testing.T, dir string) string {
	p := filepath.Join(dir, "other.key")
	os.WriteFile(p, []byte(strings.Repeat("ab", 32)), 0o600)
	return p
}
