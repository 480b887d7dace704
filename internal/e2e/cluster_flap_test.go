package e2e

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
)

// assignments counts the assignments the workers logged writing.
func assignments(ws []*clustertest.Worker) int {
	n := 0
	for _, w := range ws {
		data, _ := os.ReadFile(w.Log)
		n += strings.Count(string(data), "msg=assigned")
	}
	return n
}

// TestCluster_FlapMovesNothing runs three workers with a 4 s membership
// debounce. A worker paused (SIGSTOP) until another declares it dead and
// 1.5 s more, then resumed, rejoins within the debounce: no task moves (no
// assignment is written; without the debounce, its tasks would move away
// and back). A worker that dies (SIGKILL) has its tasks moved once the
// debounce has passed.
func TestCluster_FlapMovesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	dir := t.TempDir()
	debounce := []string{"--debounce", "4s"}
	w1 := startWorker(t, dir, "w1", "", debounce...)
	ws := []*clustertest.Worker{w1, startWorker(t, dir, "w2", w1.Gossip, debounce...), startWorker(t, dir, "w3", w1.Gossip, debounce...)}
	c := w1.Client()
	ctx := context.Background()
	waitMembers(t, c, 3)
	if _, err := c.Submit(ctx, []byte(clusterTopology)); err != nil {
		t.Fatal(err)
	}
	spread := func(n int) func() bool {
		return func() bool {
			d, err := c.Describe(ctx, "wc-cluster")
			return err == nil && d.Workers == n && len(d.Unassigned) == 0 && d.Acked > 0
		}
	}
	galetest.Eventually(t, "the topology to run on 3 workers", 60*time.Second, spread(3))
	time.Sleep(5 * time.Second) // nothing pending
	before := assignments(ws)
	if before == 0 {
		t.Fatal("no assignment logged")
	}
	state := func(name string) string {
		ms, err := c.Members(ctx)
		if err != nil {
			return ""
		}
		for _, m := range ms {
			if m.Name == name {
				return m.State
			}
		}
		return "unknown"
	}

	// w3 flaps: paused until w1 declares it dead, then resumed
	p := ws[2].Cmd.Process
	p.Signal(syscall.SIGSTOP)
	dead := galetest.Eventually(t, "w3 declared dead", 30*time.Second, func() bool { s := state("w3"); return s == "dead" || s == "left" })
	time.Sleep(1500 * time.Millisecond)
	p.Signal(syscall.SIGCONT)
	back := galetest.Eventually(t, "w3 alive again", 30*time.Second, func() bool { return state("w3") == "alive" })
	t.Logf("w3 paused: declared dead after %v, resumed 1.5 s later, alive again %v after SIGCONT", dead.Round(100*time.Millisecond), back.Round(100*time.Millisecond))
	time.Sleep(6 * time.Second) // beyond the debounce
	if n := assignments(ws); n != before {
		t.Errorf("w3 flapped: %d assignment(s) written, want none", n-before)
	}
	if !spread(3)() {
		t.Error("the topology no longer runs on 3 workers after the flap")
	}

	// w3 dies: its tasks move once the debounce has passed
	killed := time.Now()
	p.Signal(syscall.SIGKILL)
	ws[2].Cmd.Wait()
	moved := galetest.Eventually(t, "w3's tasks to move", 60*time.Second, spread(2))
	t.Logf("w3 killed: tasks moved %v after the SIGKILL (debounce 4 s)", time.Since(killed).Round(100*time.Millisecond))
	if moved < 4*time.Second {
		t.Errorf("tasks moved %v after the kill, before the 4 s debounce", moved)
	}
	if n := assignments(ws); n == before {
		t.Error("no assignment written after w3 died")
	}
}
