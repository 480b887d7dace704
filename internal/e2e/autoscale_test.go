package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/testenv"
)

const autoscaleTopology = `{"name": "elastic", "config": {"topology.acker.executors": 1, "topology.max.spout.pending": %[5]d,
    "topology.message.timeout.secs": 60, "topology.rescale.in.place": %[7]v},
  "spouts": [{"id": "events", "type": "kafka", "parallelism": 1,
    "autoscale": {"min": 1, "max": 4, "scale_up_lag_seconds": 5, "cooldown": "15s"},
    "config": {"brokers": [%[1]q], "topics": [%[2]q], "group": "gale-e2e-elastic", "start": "earliest",
      "batch": {"records": 100, "time": "200ms"}, "ledger": {"kind": "kafka", "topic": %[3]q}}}],
  "bolts": [
    {"id": "work", "type": "noop", "parallelism": 1, "config": {"delay": %[6]q, "forward": true},
     "autoscale": {"min": 1, "max": 6, "target_capacity": 0.6, "cooldown": "15s"},
     "inputs": [{"component": "events"}]},
    {"id": "files", "type": "file_sink", "parallelism": 2, "inputs": [{"component": "work", "grouping": "batch"}],
     "config": {"dir": %[4]q, "format": "lines", "field": "value"}}]}`

// AutoscaleBenchVar makes TestAutoscale_Burst a benchmark (make bench):
// "burst", a burst of two minutes between two of calm; "steady", 800
// records/s for ten minutes, after which nothing changed past the first
// steadySettle; "flap", ten bursts shorter than the cooldown, within
// flapBound changes.
const AutoscaleBenchVar = "GALE_BENCH_AUTOSCALE"

// AutoscaleRestartVar, "1", runs the autoscale tests with
// "topology.rescale.in.place" false: every change pauses the spouts and
// restarts the tasks (make bench's baseline for the replays per change).
const AutoscaleRestartVar = "GALE_BENCH_AUTOSCALE_RESTART"

// steadySettle is the time a steady load may take to reach its
// parallelism: from 1 task, a load of 3 to 4 tasks (and the backlog built
// meanwhile) takes up to four changes, each at least ~34 s after the last
// (its cooldown of 15 s, 10 s of settling, 10 s of observation): about
// 2.5 minutes.
const steadySettle = 3 * time.Minute

// checkSteady fails when the autoscaler changed anything after the
// first steadySettle of a steady load that began at start.
func checkSteady(t *testing.T, c *api.Client, start time.Time) {
	t.Helper()
	d, err := c.Describe(context.Background(), "elastic")
	if err != nil {
		t.Fatal(err)
	}
	for _, dec := range d.Autoscale.Decisions {
		if dec.At.After(start.Add(steadySettle)) && dec.From != dec.To {
			t.Errorf("a change %v after the steady load began: %s %s %d -> %d: %s", dec.At.Sub(start).Round(time.Second),
				dec.Component, dec.Direction, dec.From, dec.To, dec.Reason)
		}
	}
}

// askedRe finds how long a rescale waited for its trees in flight.
var askedRe = regexp.MustCompile(`asked=(\S+)`)

// flapBound is the most changes a component makes in d with cooldown c:
// one per max(c, autoscaleSettle + autoscaleMinSpan) (a component is not
// judged sooner after a change: cluster/autoscale.go's 10 s of settling
// and 10 s of observation), plus the first.
func flapBound(d, c time.Duration) int { return int(d/max(c, 20*time.Second)) + 1 }

// checkFlapBound fails when a component changed more often than
// flapBound allows over the run's duration d.
func checkFlapBound(t *testing.T, ds []api.AutoscaleDecision, d, cooldown time.Duration) {
	t.Helper()
	changes := map[string]int{}
	for _, dec := range ds {
		if dec.From != dec.To {
			changes[dec.Component]++
		}
	}
	bound := flapBound(d, cooldown)
	for comp, n := range changes {
		t.Logf("flapping load: %s changed %d times in %v (bound %d)", comp, n, d.Round(time.Second), bound)
		if n > bound {
			t.Errorf("%s changed %d times in %v: more than the bound %d", comp, n, d.Round(time.Second), bound)
		}
	}
}

// TestAutoscale_Burst runs an autoscaled topology on three workers: a
// Kafka spout, a bolt that takes 2 ms a tuple (its capacity follows the
// rate: 0.2 of a task at 100 records/s, 2 at 1,000) and passes it on, and
// a file sink behind it (the batches go through the bolt's changing
// tasks). An independent producer (librdkafka, testdata/rate_produce.py)
// sends 100 records/s for 10 s, 1,000/s for 30 s, then 100/s for 10 s
// (with GALE_BENCH_AUTOSCALE set: 60 s, 120 s, 120 s).
// The bottleneck bolt scales up during the burst and back down after it,
// each decision stored with its reason; the files hold every record once
// (read by the lz4 CLI) and gale verify is clean. It logs the timeline:
// when each change was decided and applied, the lag, and the trees that
// failed (replayed) across the changes.
func TestAutoscale_Burst(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	e := startElastic(t, 40, 2*time.Millisecond, os.Getenv(AutoscaleRestartVar) != "1", nil)
	c, ctx, out := e.c, context.Background(), e.out
	start := time.Now()
	phases, burstAt, calmAt := []string{"100:10", "1000:30", "100:10"}, 10*time.Second, 40*time.Second
	steady, flap := false, false
	switch os.Getenv(AutoscaleBenchVar) {
	case "":
	case "steady":
		// make bench: 800 records/s for 10 minutes (4 tasks' worth at
		// the target): after it settled, nothing may change
		phases, burstAt, calmAt, steady = []string{"800:600"}, 0, 600*time.Second, true
	case "flap":
		// make bench: ten bursts of 10 s, shorter than the cooldown, 10 s
		// apart: the changes stay within flapBound
		phases, burstAt, calmAt, flap = nil, 0, 200*time.Second, true
		for range 10 {
			phases = append(phases, "1000:10", "100:10")
		}
	default:
		// make bench: a burst of two minutes, and the calm after it
		phases, burstAt, calmAt = []string{"100:60", "1000:120", "100:120"}, 60*time.Second, 180*time.Second
	}
	produced, stderr := e.produce(t, phases)
	burst, calm := start.Add(burstAt), start.Add(calmAt)

	// the timeline, every 2 s: parallelism of the bolt and the spout, the
	// spout's lag
	var timeline []autoscaleSample
	var records int
	maxWork, upAt, downAt := 1, time.Duration(0), time.Duration(0)
	for done := false; !done; {
		select {
		case records = <-produced:
			done = true
		case <-time.After(2 * time.Second):
		}
		d, err := c.Describe(ctx, "elastic")
		if err != nil {
			continue
		}
		s := autoscaleSample{at: time.Since(start)}
		for _, comp := range d.Components {
			switch comp.ID {
			case "work":
				s.work = len(comp.Tasks)
			case "events":
				s.spout = len(comp.Tasks)
				for _, p := range comp.Partitions {
					s.lag += p.Lag
				}
				if comp.Rates.Emitted > 0 {
					s.lagSeconds = float64(s.lag) / comp.Rates.Emitted
				}
			}
		}
		if sr, err := c.Series(ctx, "elastic", "10m"); err == nil && s.spout > 0 {
			for _, cs := range sr.Components {
				if n := len(cs.Points); cs.ID == "events" && n >= 2 {
					p := cs.Points[n-2] // the newest complete step
					s.spoutBusy, s.spoutThrottled = p.Busy/float64(s.spout), p.Throttled/float64(s.spout)
				}
			}
		}
		timeline = append(timeline, s)
		if s.work > maxWork {
			maxWork = s.work
			if upAt == 0 {
				upAt = time.Since(burst)
			}
		}
		if maxWork > 1 && s.work < maxWork && downAt == 0 && time.Now().After(calm) {
			downAt = time.Since(calm)
		}
	}
	if records == 0 {
		t.Fatalf("rate_produce.py produced nothing:\n%s", stderr.String())
	}
	// after the producer: the lag drains, the bolt scales down
	galetest.Eventually(t, "every record written", 3*time.Minute, func() bool { return countLines(t, out) >= records })
	if steady {
		checkSteady(t, c, start)
	}
	galetest.Eventually(t, "the bolt scaled down after the burst", 2*time.Minute, func() bool {
		d, err := c.Describe(ctx, "elastic")
		if err != nil {
			return false
		}
		for _, comp := range d.Components {
			if comp.ID == "work" && len(comp.Tasks) < maxWork {
				if downAt == 0 {
					downAt = time.Since(calm)
				}
				return true
			}
		}
		return false
	})
	var lines []string
	for _, s := range timeline {
		lines = append(lines, fmt.Sprintf("%5.0fs work %d spout %d lag %d (%.0f s), spout busy %.2f throttled %.2f", s.at.Seconds(),
			s.work, s.spout, s.lag, s.lagSeconds, s.spoutBusy, s.spoutThrottled))
	}
	t.Logf("timeline (phases %v):\n%s", phases, strings.Join(lines, "\n"))
	if mode := os.Getenv(AutoscaleBenchVar); mode != "" {
		if !e.inPlace {
			mode += "-restart"
		}
		path := filepath.Join(testenv.ArtifactsDir(t, "autoscale"), "autoscale-"+mode+".svg")
		if err := os.WriteFile(path, autoscaleSVG(timeline, phases, burstAt, calmAt), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("the timeline as a picture: %s", path)
	}
	if maxWork < 2 {
		t.Errorf("the bolt never scaled up (max %d tasks) during a burst at 3× its capacity", maxWork)
	} else {
		t.Logf("scaled up to %d tasks %v after the burst began; down %v after it ended", maxWork,
			upAt.Round(time.Second), downAt.Round(time.Second))
	}

	d, err := c.Describe(ctx, "elastic")
	if err != nil {
		t.Fatal(err)
	}
	if d.Autoscale == nil {
		t.Fatal("describe shows no autoscale state")
	}
	ups, downs := 0, 0
	for _, dec := range d.Autoscale.Decisions {
		t.Logf("decision %s %s %s %d -> %d: %s %s", dec.At.Format("15:04:05"), dec.Component, dec.Direction, dec.From, dec.To,
			dec.Reason, dec.Limited)
		if dec.Reason == "" {
			t.Errorf("decision without a reason: %+v", dec)
		}
		if strings.HasPrefix(dec.Limited, "slots:") {
			t.Errorf("decision limited by slots on workers without a slot limit: %+v", dec)
		}
		switch {
		case dec.Component == "work" && dec.Direction == "up":
			ups++
		case dec.Component == "work" && dec.Direction == "down":
			downs++
		}
	}
	if ups == 0 || (downs == 0 && !steady) {
		t.Errorf("the bolt's decisions: %d up, %d down; want both (a steady load: up)", ups, downs)
	}
	if steady {
		t.Logf("steady load: %d decisions, all in the first %v", len(d.Autoscale.Decisions), steadySettle)
	}
	if flap {
		checkFlapBound(t, d.Autoscale.Decisions, time.Since(start), 15*time.Second)
	} else if len(d.Autoscale.Decisions) > 12 {
		t.Errorf("%d decisions for one burst: the scaler flaps", len(d.Autoscale.Decisions))
	}

	// what each change cost: a graceful one pauses the spouts from the
	// decision until the trees in flight completed and the tasks
	// restarted; one of the bolt or the spout (both elastic) changes its
	// tasks in place at once, the spout's tasks handing their partitions
	// over
	var applied []string
	paused, inPlace := 0, 0
	for _, w := range e.ws {
		for _, m := range askedRe.FindAllStringSubmatch(grepLines(w.Log, "msg=rescaled"), -1) {
			applied = append(applied, m[1])
		}
		paused += nLines(grepLines(w.Log, "spouts paused until"))
		inPlace += nLines(grepLines(w.Log, "tasks changed in place"))
	}
	changes, spoutChanges := 0, 0
	for _, dec := range d.Autoscale.Decisions {
		if dec.From != dec.To {
			changes++
			if dec.Component == "events" {
				spoutChanges++
			}
		}
	}
	t.Logf("changes applied after: %s; %d paused the spouts (%d were of the spout), %d worker shares changed in place",
		strings.Join(applied, ", "), paused, spoutChanges, inPlace)
	if e.inPlace && ups > 0 && inPlace == 0 {
		t.Errorf("the bolt changed %d times up, never in place", ups)
	}
	if e.inPlace && paused > 0 {
		t.Errorf("%d changes paused the spouts (%d of them were the spout's): changes of elastic components should not", paused,
			spoutChanges)
	}
	if e.inPlace && spoutChanges > 0 {
		var handed int
		for _, w := range e.ws {
			handed += nLines(grepLines(w.Log, "partition taken over"))
		}
		t.Logf("the spout changed %d times in place: %d partitions handed over", spoutChanges, handed)
		if handed == 0 {
			t.Errorf("the spout changed %d times, no partition changed hands", spoutChanges)
		}
	}
	replayed := e.checkOnce(t, records)
	t.Logf("replays per change (in place %v): %d trees replayed over %d changes = %.1f", e.inPlace, replayed, changes,
		float64(replayed)/float64(max(1, changes)))
}

// TestAutoscale_SpoutInPlace changes the Kafka spout's parallelism by
// hand (gale rebalance within its policy, the autoscaler off) 1 -> 4 -> 2
// -> 1 while an independent producer sends 300 records/s: each change is
// made in place — the spouts never pause, the tasks that stay keep their
// partitions and go on, a partition moves once its previous owner
// committed what it planned (no forced takeover), nothing replays — and
// every record is written once (lz4 CLI, gale verify).
func TestAutoscale_SpoutInPlace(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	e := startElastic(t, 40, time.Millisecond, true, nil)
	ctx := context.Background()
	if err := e.c.SetAutoscale(ctx, "elastic", false); err != nil {
		t.Fatal(err)
	}
	produced, stderr := e.produce(t, []string{"300:45"})
	spoutTasks := func() int {
		d, err := e.c.Describe(ctx, "elastic")
		if err != nil {
			return -1
		}
		for _, c := range d.Components {
			if c.ID == "events" {
				return len(c.Tasks)
			}
		}
		return -1
	}
	moved := 0
	for _, n := range []int{4, 2, 1} {
		time.Sleep(8 * time.Second)
		was := spoutTasks()
		if err := e.c.Rebalance(ctx, "elastic", api.Rebalance{Parallelism: map[string]int{"events": n}}); err != nil {
			t.Fatalf("rebalance the spout to %d: %v", n, err)
		}
		galetest.Eventually(t, fmt.Sprintf("the spout at %d tasks", n), 60*time.Second, func() bool { return spoutTasks() == n })
		// the partitions of 4 that change hands: 1 -> 4 moves 3, 4 -> 2
		// moves 2 (2 and 3 to 0 and 1), 2 -> 1 moves 2 (1 and 3); more
		// when the scheduler moves a spout task to another worker too
		// (its partitions go with it, in place as well)
		moved += map[[2]int]int{{1, 4}: 3, {4, 2}: 2, {2, 1}: 2}[[2]int{was, n}]
	}
	records := <-produced
	if records == 0 {
		t.Fatalf("rate_produce.py produced nothing:\n%s", stderr.String())
	}
	galetest.Eventually(t, "every record written", 2*time.Minute, func() bool { return countLines(t, e.out) >= records })
	var paused, inPlace int
	var taken []string
	for _, w := range e.ws {
		paused += nLines(grepLines(w.Log, "spouts paused until"))
		inPlace += nLines(grepLines(w.Log, "tasks changed in place"))
		if l := grepLines(w.Log, "partition taken over"); l != "" {
			taken = append(taken, strings.Split(l, "\n")...)
		}
	}
	t.Logf("%d worker shares changed in place, %d paused the spouts; partitions taken over:\n%s", inPlace, paused,
		strings.Join(taken, "\n"))
	if paused != 0 {
		t.Errorf("%d changes of the spout paused the spouts; want none (in place)", paused)
	}
	if len(taken) < moved {
		t.Errorf("%d partitions taken over, want at least %d", len(taken), moved)
	}
	for _, l := range taken {
		if strings.Contains(l, "forced=true") {
			t.Errorf("a partition taken over from an owner that had not released it: %s", l)
		}
	}
	if replayed := e.checkOnce(t, records); replayed != 0 {
		t.Errorf("%d trees replayed across the spout's changes; want 0", replayed)
	}
}

// TestAutoscale_LeaderKilled: the leader stores a decision (a pending
// rescale of the bottleneck bolt) and is SIGKILLed before it applies it:
// the new leader applies the stored change once (one decision for it,
// the parallelism it named), decides nothing for a cooldown after taking
// over, and every record is written once (lz4 CLI, gale verify). The bolt
// takes 10 ms a tuple behind 200 pending trees, so a change waits about
// two seconds for the trees in flight: the kill lands in that window. (A
// change in place, the default for this bolt, is applied milliseconds
// after it is stored, the same way: the test makes every change wait, with
// "topology.rescale.in.place" false, to have a window to kill in.)
func TestAutoscale_LeaderKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	e := startElastic(t, 200, 10*time.Millisecond, false, nil)
	ctx := context.Background()
	produced, stderr := e.produce(t, []string{"300:40"}) // three tasks' worth of the bolt

	// the first autoscale change stored and not yet applied
	var pending *api.Rescale
	galetest.Eventually(t, "an autoscale change pending", 90*time.Second, func() bool {
		d, err := e.c.Describe(ctx, "elastic")
		if err == nil && d.Rescale != nil && d.Rescale.Reason == "autoscale" {
			pending = d.Rescale
			return true
		}
		time.Sleep(30 * time.Millisecond)
		return false
	})
	var leader *clustertest.Worker
	for _, w := range e.ws {
		if grepLines(w.Log, "msg=autoscale ") != "" {
			leader = w
		}
	}
	if leader == nil {
		t.Fatal("no worker logged the decision")
	}
	leader.Cmd.Process.Signal(syscall.SIGKILL)
	leader.Cmd.Wait()
	killed := time.Now()
	if got := grepLines(leader.Log, "msg=rescaled"); got != "" {
		t.Fatalf("the leader %s applied the change before it was killed (the kill came too late):\n%s", leader.Name, got)
	}
	t.Logf("SIGKILLed the leader %s with a change pending: %v (%s)", leader.Name, pending.Parallelism, pending.Reason)
	var c *api.Client
	var survivors []*clustertest.Worker
	for _, w := range e.ws {
		if w != leader {
			survivors, c = append(survivors, w), w.Client()
		}
	}

	// the new leader applies it: the parallelism it named
	galetest.Eventually(t, "the stored change applied by the new leader", 90*time.Second, func() bool {
		d, err := c.Describe(ctx, "elastic")
		if err != nil || d.Rescale != nil {
			return false
		}
		for _, comp := range d.Components {
			if want, ok := pending.Parallelism[comp.ID]; ok && len(comp.Tasks) != want {
				return false
			}
		}
		return true
	})
	applier := ""
	for _, w := range survivors {
		if grepLines(w.Log, "msg=rescaled") != "" {
			applier = w.Name
		}
	}
	if applier == "" {
		t.Error("no surviving worker logged the rescale")
	}
	records := <-produced
	if records == 0 {
		t.Fatalf("rate_produce.py produced nothing:\n%s", stderr.String())
	}
	galetest.Eventually(t, "every record written", 3*time.Minute, func() bool { return countLines(t, e.out) >= records })

	d, err := c.Describe(ctx, "elastic")
	if err != nil {
		t.Fatal(err)
	}
	cooldown := 15 * time.Second // autoscaleTopology's
	for comp, to := range pending.Parallelism {
		n := 0
		for _, dec := range d.Autoscale.Decisions {
			t.Logf("decision %s %s %s %d -> %d: %s %s", dec.At.Format("15:04:05.000"), dec.Component, dec.Direction, dec.From,
				dec.To, dec.Reason, dec.Limited)
			if dec.Component != comp || dec.From == dec.To {
				continue
			}
			if dec.To == to && dec.At.Before(killed) {
				n++
			} else if dec.At.Before(killed.Add(cooldown)) {
				t.Errorf("%s changed %d -> %d at %s, within a cooldown of the takeover (killed at %s)", comp, dec.From, dec.To,
					dec.At.Format("15:04:05.000"), killed.Format("15:04:05.000"))
			}
		}
		if n != 1 {
			t.Errorf("%d decisions to take %s to %d tasks; want the one stored before the kill", n, comp, to)
		}
	}
	t.Logf("the change stored by %s was applied by %s", leader.Name, applier)
	e.checkOnce(t, records)
}

// TestAutoscale_SlotsExhausted: three workers of 2, 2 and 1 slots run
// the topology's 5 tasks; a burst at 3× the bolt's capacity wants more
// tasks than fit: the autoscaler records once that it waits for slots (a
// decision "none", limited "slots: 0 free"), leaves no task unassigned,
// changes nothing, and its gauge
// gale_cluster_workers_wanted asks for more workers. Every record is
// written once.
func TestAutoscale_SlotsExhausted(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	e := startElastic(t, 40, 2*time.Millisecond, true, func(name string) []string {
		if name == "w3" {
			return []string{"--slots", "1"}
		}
		return []string{"--slots", "2"}
	})
	ctx := context.Background()
	produced, stderr := e.produce(t, []string{"1000:30"})
	var refusal api.AutoscaleDecision
	unassigned := 0
	galetest.Eventually(t, "a decision waiting for slots", 90*time.Second, func() bool {
		d, err := e.c.Describe(ctx, "elastic")
		if err != nil || d.Autoscale == nil {
			return false
		}
		unassigned = max(unassigned, len(d.Unassigned))
		for _, dec := range d.Autoscale.Decisions {
			if dec.Direction == "none" && dec.Limited == "slots: 0 free" {
				refusal = dec
				return true
			}
		}
		return false
	})
	t.Logf("refused: %s %d -> %d: %s (%s)", refusal.Component, refusal.From, refusal.To, refusal.Reason, refusal.Limited)
	if !strings.Contains(refusal.Reason, "but at slots: 0 free") {
		t.Errorf("reason %q: want it to say the slots stopped it", refusal.Reason)
	}
	// the leader's gauge asks for more workers than the three
	var wanted float64
	for _, w := range e.ws {
		s, err := scrapeMetrics(t, w)
		if err != nil {
			t.Fatal(err)
		}
		if f := s.fams["gale_cluster_workers_wanted"]; f != nil {
			wanted = max(wanted, f.GetMetric()[0].GetGauge().GetValue())
		}
	}
	if wanted <= 3 {
		t.Errorf("gale_cluster_workers_wanted %v with the slots exhausted: want more than 3", wanted)
	}
	records := <-produced
	if records == 0 {
		t.Fatalf("rate_produce.py produced nothing:\n%s", stderr.String())
	}
	galetest.Eventually(t, "every record written", 3*time.Minute, func() bool { return countLines(t, e.out) >= records })
	d, err := e.c.Describe(ctx, "elastic")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dec := range d.Autoscale.Decisions {
		t.Logf("decision %s %s %s %d -> %d: %s %s", dec.At.Format("15:04:05"), dec.Component, dec.Direction, dec.From, dec.To,
			dec.Reason, dec.Limited)
		if dec.Limited == "slots: 0 free" && dec.Component == refusal.Component && dec.From == refusal.From {
			n++
		}
		if dec.From != dec.To {
			t.Errorf("a change with no free slot: %s %d -> %d", dec.Component, dec.From, dec.To)
		}
	}
	if n != 1 {
		t.Errorf("the refusal recorded %d times; want once while nothing changes", n)
	}
	if unassigned > 0 || len(d.Unassigned) > 0 {
		t.Errorf("tasks left unassigned: %d during the burst, %v after", unassigned, d.Unassigned)
	}
	t.Logf("slots exhausted: gale_cluster_workers_wanted %v", wanted)
	e.checkOnce(t, records)
}

// elastic is the three-worker cluster of the autoscale tests, running
// autoscaleTopology.
type elastic struct {
	ws             []*clustertest.Worker
	c              *api.Client // w1's
	dir, out       string
	brokers, topic string
	lz4, py        string
	inPlace        bool // "topology.rescale.in.place"
}

// startElastic starts three workers and runs autoscaleTopology on a new
// topic of 4 partitions, with max spout pending pending and a bolt taking
// delay a tuple.
func startElastic(t *testing.T, pending int, delay time.Duration, inPlace bool, workerArgs func(name string) []string) *elastic {
	t.Helper()
	e := &elastic{brokers: testenv.KafkaBrokers(t), lz4: testenv.Command(t, "lz4", "lz4"),
		py: testenv.PythonVenv(t, "confluent", testenv.ConfluentRequirements...)}
	e.topic = fmt.Sprintf("gale-e2e-elastic-%d", time.Now().UnixNano())
	createTopic(t, e.brokers, e.topic, 4)
	e.dir = t.TempDir()
	e.out = filepath.Join(e.dir, "out")
	e.inPlace = inPlace
	spec := fmt.Sprintf(autoscaleTopology, e.brokers, e.topic, e.topic+".ledger", e.out, pending, delay.String(), e.inPlace)
	os.WriteFile(filepath.Join(e.dir, "topology.json"), []byte(spec), 0o644)
	args := func(name string) []string {
		if workerArgs == nil {
			return nil
		}
		return workerArgs(name)
	}
	w1 := clustertest.StartWorkerEnv(t, gale(t), e.dir, "w1", "", nil, args("w1")...)
	e.ws = []*clustertest.Worker{w1,
		clustertest.StartWorkerEnv(t, gale(t), e.dir, "w2", w1.Gossip, nil, args("w2")...),
		clustertest.StartWorkerEnv(t, gale(t), e.dir, "w3", w1.Gossip, nil, args("w3")...)}
	e.c = w1.Client()
	waitMembers(t, e.c, 3)
	ctx := context.Background()
	if _, err := e.c.Submit(ctx, []byte(spec)); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "the topology running", 60*time.Second, func() bool {
		d, err := e.c.Describe(ctx, "elastic")
		return err == nil && len(d.Unassigned) == 0 && d.Workers > 0
	})
	return e
}

// produce starts testdata/rate_produce.py (librdkafka) with phases
// ("rate:seconds"); the channel gets the records it produced.
func (e *elastic) produce(t *testing.T, phases []string) (<-chan int, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(e.py, append([]string{"testdata/rate_produce.py", e.brokers, e.topic}, phases...)...)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	produced := make(chan int, 1)
	go func() {
		var rep struct {
			Records int `json:"records"`
		}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			json.Unmarshal(sc.Bytes(), &rep)
		}
		cmd.Wait()
		produced <- rep.Records
	}()
	return produced, stderr
}

// checkOnce reads the file sink's output with the lz4 CLI: records 0 to
// records-1 each once; and gale verify is clean. It returns the trees
// replayed over the run: those the spout failed, in the shares the changes
// stopped and in those running now, and those a stopping share left in
// flight (replayed from the ledger by the next).
func (e *elastic) checkOnce(t *testing.T, records int) (replayed uint64) {
	t.Helper()
	seen := map[int]int{}
	for line, n := range lz4Lines(t, e.lz4, e.out) {
		var doc struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		seen[doc.N] += n
	}
	bad := 0
	for i := range records {
		if seen[i] != 1 {
			if bad++; bad <= 5 {
				t.Errorf("record %d written %d times", i, seen[i])
			}
		}
	}
	if len(seen) != records {
		t.Errorf("%d distinct records written, %d produced", len(seen), records)
	}
	var failed, emitted, abandoned uint64
	for _, w := range e.ws {
		f, e, _ := spoutCounters(t, w.Log)
		failed, emitted = failed+f, emitted+e
		abandoned += abandonedTrees(t, w.Log)
	}
	t.Logf("%d records, each written once; the shares stopped by the changes had emitted %d trees: %d failed, %d still in flight "+
		"(a change that waited its 10 s for them: replayed from the ledger)", records, emitted, failed, abandoned)
	var errs []error
	for _, w := range e.ws { // a live one (a test may have killed w1)
		d, err := w.Client().Describe(context.Background(), "elastic")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range d.Components {
			if c.ID == "events" {
				t.Logf("the shares running now: the spout failed %d trees", c.Failed)
				failed += c.Failed
			}
		}
		errs = nil
		break
	}
	if errs != nil {
		t.Errorf("describe: %v", errors.Join(errs...))
	}
	code, report := runVerify(t, e.dir)
	t.Logf("gale verify:\n%s", report)
	if code != 0 {
		t.Errorf("gale verify: exit %d", code)
	}
	return failed + abandoned
}

// nLines counts the lines of s (grepLines' output).
func nLines(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}

// autoscaleSample is one point of TestAutoscale_Burst's timeline.
type autoscaleSample struct {
	at          time.Duration
	work, spout int
	lag         int64
	lagSeconds  float64
	// the spout's busy and throttled shares (a task's mean) in the newest
	// complete series step
	spoutBusy, spoutThrottled float64
}

// autoscaleSVG draws the timeline: the bolt's and the spout's tasks
// (steps, right axis) and the spout's lag in seconds of input (left
// axis), the burst shaded.
func autoscaleSVG(tl []autoscaleSample, phases []string, burstAt, calmAt time.Duration) []byte {
	const w, h, left, right, top, bottom = 760.0, 300.0, 60.0, 50.0, 30.0, 40.0
	pw, ph := w-left-right, h-top-bottom
	maxT, maxLag, maxTasks := 1.0, 1.0, 1
	for _, s := range tl {
		maxT = max(maxT, s.at.Seconds())
		maxLag = max(maxLag, s.lagSeconds)
		maxTasks = max(maxTasks, s.work, s.spout)
	}
	x := func(sec float64) float64 { return left + pw*min(sec, maxT)/maxT }
	yLag := func(v float64) float64 { return top + ph - ph*v/maxLag }
	yTasks := func(n int) float64 { return top + ph - ph*float64(n)/float64(maxTasks+1) }
	var b strings.Builder
	fmt.Fprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n", w, h)
	b.WriteString("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n")
	fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fdebd0\"/>\n",
		x(burstAt.Seconds()), top, x(calmAt.Seconds())-x(burstAt.Seconds()), ph)
	fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\">producer %s (records/s:seconds), the burst shaded</text>\n",
		left, top-12, strings.Join(phases, ", "))
	line := func(color string, width float64, pt func(s autoscaleSample) (float64, float64), step bool) {
		var pts []string
		var prevY float64
		for i, s := range tl {
			px, py := pt(s)
			if step && i > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, prevY))
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
			prevY = py
		}
		fmt.Fprintf(&b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" points=\"%s\"/>\n", color, width, strings.Join(pts, " "))
	}
	line("#c0392b", 1.5, func(s autoscaleSample) (float64, float64) { return x(s.at.Seconds()), yLag(s.lagSeconds) }, false)
	line("#2471a3", 2.5, func(s autoscaleSample) (float64, float64) { return x(s.at.Seconds()), yTasks(s.work) }, true)
	line("#7d3c98", 1.5, func(s autoscaleSample) (float64, float64) { return x(s.at.Seconds()), yTasks(s.spout) }, true)
	for _, l := range [][4]float64{{left, top + ph, left + pw, top + ph}, {left, top, left, top + ph}, {left + pw, top, left + pw, top + ph}} {
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", l[0], l[1], l[2], l[3])
	}
	for i := 0; i <= 4; i++ {
		sec, v := maxT*float64(i)/4, maxLag*float64(i)/4
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f s</text>\n", x(sec), top+ph+16, sec)
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#c0392b\">%.0f s</text>\n", left-4, yLag(v)+4, v)
	}
	for n := 0; n <= maxTasks; n++ {
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#2471a3\">%d</text>\n", left+pw+4, yTasks(n)+4, n)
	}
	fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#c0392b\">lag (seconds of input)</text>\n", left+6, top+14)
	fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#2471a3\">bolt tasks</text>\n", left+pw-6, top+14)
	fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#7d3c98\">spout tasks</text>\n", left+pw-6, top+28)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}
