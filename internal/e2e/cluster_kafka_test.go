package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/testenv"
)

// TestCluster_KafkaStore runs three workers keeping the cluster state in
// Kafka (`gale worker --store kafka`, the real broker of testenv): submit
// (spread over the three), SIGKILL w1, the first holder of the leader
// lease (another takes the lease over and moves w1's tasks), then
// SIGKILL them all and start three new ones with empty data directories:
// they read the topology and its assignment back from the topic and run it
// again, and a kill removes it.
func TestCluster_KafkaStore(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	topic := fmt.Sprintf("gale-e2e-state-%d", time.Now().UnixNano())
	root := t.TempDir()
	storeArgs := []string{"--store", "kafka", "--store-brokers", brokers, "--store-topic", topic}
	start := func(gen int) []*clustertest.Worker {
		// a new data directory for each generation: nothing carries over
		// but the topic
		dir := filepath.Join(root, fmt.Sprint("gen", gen))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		w1 := startWorker(t, dir, "w1", "", storeArgs...)
		return []*clustertest.Worker{w1, startWorker(t, dir, "w2", w1.Gossip, storeArgs...), startWorker(t, dir, "w3", w1.Gossip, storeArgs...)}
	}
	ws := start(1)
	c := ws[1].Client()
	ctx := context.Background()
	waitMembers(t, c, 3)
	if _, err := c.Submit(ctx, []byte(clusterTopology)); err != nil {
		t.Fatal(err)
	}
	describe := func(c *api.Client) func() (*api.Topology, bool) {
		return func() (*api.Topology, bool) {
			d, err := c.Describe(ctx, "wc-cluster")
			return d, err == nil
		}
	}
	running := func(c *api.Client, workers int, not string) func() bool {
		return func() bool {
			d, ok := describe(c)()
			if !ok || d.Workers != workers || len(d.Unassigned) > 0 || d.Acked == 0 {
				return false
			}
			for _, comp := range d.Components {
				for _, tk := range comp.Tasks {
					if tk.Worker == not {
						return false
					}
				}
			}
			return true
		}
	}
	galetest.Eventually(t, "the topology to run on 3 workers", 60*time.Second, running(c, 3, ""))

	ws[0].Cmd.Process.Signal(syscall.SIGKILL)
	ws[0].Cmd.Wait()
	moved := galetest.Eventually(t, "w1's tasks to move to w2 and w3", 60*time.Second, running(c, 2, "w1"))
	t.Logf("kafka store: tasks moved %v after the SIGKILL of w1 (the first leader)", moved.Round(100*time.Millisecond))
	for _, w := range ws[1:] {
		t.Logf("%s: leadership changes:\n%s", w.Name, grepLines(w.Log, "msg=leadership"))
	}

	// every worker dies; new ones read everything back from the topic
	for _, w := range ws[1:] {
		w.Cmd.Process.Signal(syscall.SIGKILL)
		w.Cmd.Wait()
	}
	ws = start(2)
	c = ws[1].Client()
	waitMembers(t, c, 3)
	back := galetest.Eventually(t, "the topology to run again on the new workers", 60*time.Second, func() bool {
		d, ok := describe(c)()
		if !ok || d.Status != "active" || d.Version != 1 || d.Workers < 2 || len(d.Unassigned) > 0 {
			return false
		}
		a := d.Acked
		time.Sleep(500 * time.Millisecond)
		d, ok = describe(c)()
		return ok && d.Acked > a
	})
	t.Logf("kafka store: the new workers run the topology again %v after they joined", back.Round(100*time.Millisecond))

	if err := c.Kill(ctx, "wc-cluster", time.Second); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "the topology to be gone", 60*time.Second, func() bool {
		_, err := c.Describe(ctx, "wc-cluster")
		var se *api.StatusError
		return errors.As(err, &se) && se.Status == 404
	})
}
