package e2e

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/wallclock"
)

// TestFailover_ClockSkew runs the Kafka -> lz4 file topology on three
// workers whose wall clocks disagree: w2 runs one hour ahead, w3 one hour
// behind (internal/wallclock's test hook, which shifts the times a worker
// writes into the cluster state and its gossip). Two workers are
// SIGKILLed and restarted, w1 (the first leader) then w2: the output is
// exactly the reference's and gale verify is clean. Then `gale kill
// --wait --drain 3s` is sent to w2, so the kill's record carries a time an
// hour ahead of w1 and two ahead of w3, one of which holds the leader
// lease (w2 restarted last and cannot have taken it from a live holder):
// it returns after the drain, not hours later.
func TestFailover_ClockSkew(t *testing.T) {
	skews := []string{"", "1h", "-1h"}
	clusterRun(t, clusterOpts{name: "clockskew", n: 2, events: 300000, measure: true, waitOutput: true, disturb: killAndRestart,
		env: func(i int) []string {
			if skews[i] == "" {
				return nil
			}
			return []string{wallclock.SkewEnv + "=" + skews[i]}
		},
		pick: func(_ *rand.Rand, k int) int { return []int{0, 1}[k-1] },
		after: func(t *testing.T, ws []*clustertest.Worker, dir string) {
			// the workers' start times, as each one wrote them
			ms, err := ws[0].Client().Members(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				t.Logf("member %s (%s) started at %s by its own clock", m.Name, m.State, m.Started.Format(time.TimeOnly))
			}
			for _, w := range ws {
				t.Logf("%s: leadership changes:\n%s", w.Name, grepLines(w.Log, "msg=leadership"))
			}
			const drain = 3 * time.Second
			cmd := exec.Command(gale(t), "kill", "--api", ws[1].HTTP, "--drain", drain.String(), "--wait", "kafka-files")
			cmd.Env = append(os.Environ(), "GALE_AUTH_TOKEN="+clustertest.Token)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			err = cmd.Run()
			took := time.Since(start)
			t.Logf("gale kill --wait --drain %v took %v:\n%s", drain, took.Round(100*time.Millisecond), out.String())
			if err != nil {
				t.Fatalf("gale kill --wait: %v", err)
			}
			if took < drain || took > drain+30*time.Second {
				t.Errorf("gale kill --wait --drain %v took %v, want the drain and a few seconds", drain, took)
			}
		}})
}

// TestFailover_Rebalance runs the Kafka -> lz4 file topology on three
// workers and rebalances it twice mid-run: the file sink from 3 to 5
// tasks, then the topology from 3 workers to 2. Nothing acked is lost or
// written twice: the output is exactly that of the undisturbed
// single-process run, and gale verify is clean. No tree replays: each
// rebalance paused the spouts until the trees in flight completed
// (rescale.go). Applied at once, as before rescale.go, the two
// rebalances left 53 trees (batches of 1,000 records) pending when the
// shares stopped, all replayed.
func TestFailover_Rebalance(t *testing.T) {
	steps := []api.Rebalance{{Parallelism: map[string]int{"files": 5}}, {Workers: 2}}
	clusterRun(t, clusterOpts{name: "rebalance", n: len(steps), events: 600000, waitOutput: true,
		pick: func(_ *rand.Rand, k int) int { return k - 1 },
		disturb: func(t *testing.T, ws []*clustertest.Worker, i int, dir string) {
			c := ws[0].Client()
			ctx := context.Background()
			r := steps[i]
			if err := c.Rebalance(ctx, "kafka-files", r); err != nil {
				t.Fatal(err)
			}
			took := galetest.Eventually(t, "the rebalance to apply", 60*time.Second, func() bool {
				d, err := c.Describe(ctx, "kafka-files")
				if err != nil || len(d.Unassigned) > 0 {
					return false
				}
				if r.Workers > 0 {
					return d.Workers == r.Workers
				}
				for _, comp := range d.Components {
					if comp.ID == "files" {
						return len(comp.Tasks) == r.Parallelism["files"]
					}
				}
				return false
			})
			t.Logf("rebalance %+v applied after %v", r, took.Round(100*time.Millisecond))
		},
		after: func(t *testing.T, ws []*clustertest.Worker, dir string) {
			var failed, emitted, abandoned uint64
			stops := 0
			for _, w := range ws {
				f, e, n := spoutCounters(t, w.Log)
				failed, emitted, stops = failed+f, emitted+e, stops+n
				abandoned += abandonedTrees(t, w.Log)
			}
			t.Logf("rebalances: %d shares stopped, their spouts emitted %d tuples; %d trees failed, %d left pending at a stop (both replay)",
				stops, emitted, failed, abandoned)
			if stops < 2 {
				t.Errorf("%d shares stopped: the workers' logs do not show the rebalances", stops)
			}
			if failed+abandoned != 0 {
				t.Errorf("%d trees failed and %d were left pending across the rebalances: want none (nothing replayed)", failed, abandoned)
			}
		}})
}

var drainTimedOut = regexp.MustCompile(`drain timed out; pending trees will be replayed.* pending=(\d+)`)

// abandonedTrees sums the trees a worker's shares left pending when they
// stopped (their drain timed out): the spouts replay them.
func abandonedTrees(t *testing.T, log string) uint64 {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, m := range drainTimedOut.FindAllStringSubmatch(string(data), -1) {
		k, _ := strconv.ParseUint(m[1], 10, 64)
		n += k
	}
	return n
}

// grepLines returns the lines of file path that contain s.
func grepLines(path, s string) string {
	data, _ := os.ReadFile(path)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
