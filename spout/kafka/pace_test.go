package kafka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/local"
)

// TestSpout_PaceBehindSlowBolt: a Kafka spout with a backlog, behind a
// bolt that takes 2 ms a tuple, spends its time held at
// max_pending_batches: its task reads as throttled, not busy (what the
// autoscaler reads: its lag is the bolt's to fix); reading the same
// backlog behind a fast bolt, it is not throttled.
func TestSpout_PaceBehindSlowBolt(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, _ := newTopic(t, brokers, 4, 20000, func(i int) string { return fmt.Sprintf("record %d", i) })
	run := func(delay time.Duration) local.TaskStats {
		r := newRecorder(0)
		r.delay = delay
		topo := spoutTopology(t, testRegistry(r), map[string]any{
			"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest",
			"group": fmt.Sprintf("pace-%d", time.Now().UnixNano()),
			"batch": map[string]any{"records": 100, "time": "200ms"}, "ledger": map[string]any{"kind": "file", "dir": t.TempDir()},
		}, 1)
		rt, err := local.New(topo, local.Options{DrainTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- rt.Run(ctx) }()
		time.Sleep(4 * time.Second)
		var ts local.TaskStats
		for _, s := range rt.Stats().Tasks {
			if s.Component == "events" {
				ts = s
			}
		}
		cancel()
		<-done
		return ts
	}
	slow := run(2 * time.Millisecond)
	t.Logf("behind a slow bolt: busy %v, throttled %v of 4 s", time.Duration(slow.BusyNanos), time.Duration(slow.ThrottledNanos))
	if slow.ThrottledNanos <= 4*slow.BusyNanos {
		t.Errorf("behind a slow bolt: throttled %v, busy %v: want it held back far more than busy",
			time.Duration(slow.ThrottledNanos), time.Duration(slow.BusyNanos))
	}
	fast := run(0)
	t.Logf("behind a fast bolt: busy %v, throttled %v of 4 s", time.Duration(fast.BusyNanos), time.Duration(fast.ThrottledNanos))
	if fast.ThrottledNanos >= slow.ThrottledNanos/2 {
		t.Errorf("behind a fast bolt: throttled %v (slow: %v): want far less", time.Duration(fast.ThrottledNanos),
			time.Duration(slow.ThrottledNanos))
	}
}
