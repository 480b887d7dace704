package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gale-stream/gale/bench/peers"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/clustertest/netns"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/testenv"
)

// clusterWordCount is bench/rows' word count (acking on, max spout
// pending 1000) with the built-in generator, endless.
const clusterWordCount = `{"name": "bench-cluster", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 1000},
  "spouts": [{"id": "sentences", "type": "generator", "parallelism": 1, "config": {"seed": 1}}],
  "bolts": [
    {"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "sentences"}]},
    {"id": "count", "type": "count", "parallelism": 2, "config": {"field": "word"},
     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}]}`

// BenchmarkClusterWordCount runs the word count on one worker process
// (every tuple stays in the process) and on two (tuples, acks and
// completions cross between them over the transport), in the same run,
// and reports acked trees per second over a 15 s window after a 5 s
// warm-up, with the spout's complete latency. One iteration is one
// measurement: run it with -benchtime 1x. With GALE_BENCH_PROFILE=DIR each
// worker writes a CPU profile of its whole run into DIR.
func BenchmarkClusterWordCount(b *testing.B) {
	bin := clustertest.Gale(b, "")
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			for range b.N {
				rate, p50, p99, cpuPerM := clusterRun(b, bin, n)
				b.ReportMetric(rate, "trees/s")
				b.ReportMetric(p50, "p50-ms")
				b.ReportMetric(p99, "p99-ms")
				b.ReportMetric(cpuPerM, "cpu-s/M-trees")
			}
		})
	}
}

// clusterRun returns acked trees/s, the complete latency percentiles and
// the CPU seconds all workers spent per million trees in the window.
func clusterRun(b *testing.B, bin string, n int) (rate, p50, p99, cpuPerM float64) {
	b.StopTimer()
	dir := b.TempDir()
	// GALE_BENCH_PROFILE=DIR: each worker writes a CPU profile DIR/N-wI.prof
	profile := func(name string) []string {
		if d := os.Getenv("GALE_BENCH_PROFILE"); d != "" {
			return []string{"GALE_CPUPROFILE=" + filepath.Join(d, fmt.Sprintf("%d-%s.prof", n, name))}
		}
		return nil
	}
	ws := []*clustertest.Worker{clustertest.StartWorkerEnv(b, bin, dir, "w1", "", profile("w1"))}
	for i := 2; i <= n; i++ {
		name := fmt.Sprintf("w%d", i)
		ws = append(ws, clustertest.StartWorkerEnv(b, bin, dir, name, ws[0].Gossip, profile(name)))
	}
	return measureWordCount(b, ws)
}

// BenchmarkClusterHosts is BenchmarkClusterWordCount with each worker on
// a host of its own (a network namespace, internal/clustertest/netns:
// tuples cross a veth pair and a bridge), on 1, 2 and 3 hosts in one run.
// The hosts share this machine's cores, so CPU seconds per million trees
// is the figure that says how the work scales. Needs root and Kafka (the
// cluster state: the hosts share no disk).
func BenchmarkClusterHosts(b *testing.B) {
	netns.Require(b)
	bin := clustertest.Gale(b, "")
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				nt := netns.New(b, n)
				dir := b.TempDir()
				// hosts share no disk: the cluster state is in Kafka, reached
				// through each host's link
				brokers := testenv.KafkaBrokers(b)
				nt.Relay(brokers)
				store := []string{"--store", "kafka", "--store-brokers", brokers,
					"--store-topic", fmt.Sprintf("gale-bench-hosts-%d.cluster", time.Now().UnixNano())}
				env := []string{"GALE_CLUSTER_KEY=00112233445566778899aabbccddeeff"}
				var ws []*clustertest.Worker
				for i, h := range nt.Hosts {
					join := ""
					if i > 0 {
						join = ws[0].Gossip
					}
					ws = append(ws, h.StartWorker(b, bin, dir, fmt.Sprintf("w%d", i+1), join, env, store...))
				}
				rate, p50, p99, cpuPerM := measureWordCount(b, ws)
				b.ReportMetric(rate, "trees/s")
				b.ReportMetric(p50, "p50-ms")
				b.ReportMetric(p99, "p99-ms")
				b.ReportMetric(cpuPerM, "cpu-s/M-trees")
			}
		})
	}
}

// measureWordCount submits the word count to workers ws, waits until it
// runs on all of them, and measures 15 s after a 5 s warm-up.
func measureWordCount(b *testing.B, ws []*clustertest.Worker) (rate, p50, p99, cpuPerM float64) {
	n := len(ws)
	c := ws[0].Client()
	clustertest.WaitMembers(b, c, n)
	ctx := context.Background()
	if _, err := c.Submit(ctx, []byte(clusterWordCount)); err != nil {
		b.Fatal(err)
	}
	acked := func() (uint64, float64, float64) {
		d, err := c.Describe(ctx, "bench-cluster")
		if err != nil {
			return 0, 0, 0
		}
		for _, comp := range d.Components {
			if comp.ID == "sentences" {
				return comp.Acked, comp.CompleteP50Ms, comp.CompleteP99Ms
			}
		}
		return 0, 0, 0
	}
	galetest.Eventually(b, "the topology to run on every worker", time.Minute, func() bool {
		d, err := c.Describe(ctx, "bench-cluster")
		return err == nil && d.Workers == n && d.Acked > 0
	})
	time.Sleep(5 * time.Second) // warm-up
	cpu := func() time.Duration {
		var sum time.Duration
		for _, w := range ws {
			st, err := peers.ReadStat(w.Cmd.Process.Pid)
			if err != nil {
				b.Fatal(err)
			}
			sum += st.CPU + st.ChildCPU
		}
		return sum
	}
	b.StartTimer()
	a0, _, _ := acked()
	c0 := cpu()
	start := time.Now()
	time.Sleep(15 * time.Second)
	a1, p50, p99 := acked()
	c1 := cpu()
	b.StopTimer()
	c.Kill(ctx, "bench-cluster", 0)
	trees := float64(a1 - a0)
	return trees / time.Since(start).Seconds(), p50, p99, (c1 - c0).Seconds() / trees * 1e6
}
