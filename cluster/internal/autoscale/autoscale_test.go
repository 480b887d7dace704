package autoscale_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/internal/autoscale"
	"github.com/gale-stream/gale/topology"
)

func TestDecide(t *testing.T) {
	const past = time.Hour // the cooldown is over
	bolt := topology.Autoscale{Min: 1, Max: 8, TargetCapacity: 0.7, Cooldown: topology.Duration(2 * time.Minute)}
	spout := bolt
	spout.ScaleUpLagSeconds = 30
	with := func(a topology.Autoscale, f func(*topology.Autoscale)) topology.Autoscale { f(&a); return a }

	tests := []struct {
		name    string
		p       topology.Autoscale
		o       autoscale.Observation
		since   time.Duration
		free    int
		want    int
		dir     string
		reason  string // a part of Reason
		limited string
	}{
		{"capacity over target", bolt, autoscale.Observation{Parallelism: 2, Capacity: 0.93}, past, 10,
			3, autoscale.Up, "capacity 0.93 > target 0.70: 2 -> 3 tasks", ""},
		{"proportional step", bolt, autoscale.Observation{Parallelism: 2, Capacity: 0.99}, past, 10,
			3, autoscale.Up, "2 -> 3 tasks", ""}, // ceil(2 × 0.99 / 0.7) = 3
		{"saturated doubles", bolt, autoscale.Observation{Parallelism: 3, Capacity: 1.05}, past, 10,
			6, autoscale.Up, "capacity 1.05 > target 0.70 (saturated): 3 -> 6 tasks", ""},
		{"cut at max", bolt, autoscale.Observation{Parallelism: 6, Capacity: 1.5}, past, 10,
			8, autoscale.Up, "6 -> 8 tasks", "max 8"},
		{"at max", bolt, autoscale.Observation{Parallelism: 8, Capacity: 0.9}, past, 10,
			8, autoscale.None, "capacity 0.90 > target 0.70, but at max 8", "max 8"},
		{"cut by slots", bolt, autoscale.Observation{Parallelism: 2, Capacity: 2}, past, 1,
			3, autoscale.Up, "2 -> 3 tasks", "slots: 1 free"},
		{"no free slot", bolt, autoscale.Observation{Parallelism: 2, Capacity: 2}, past, 0,
			2, autoscale.None, "but at slots: 0 free", "slots: 0 free"},
		{"spout at its partitions", spout, autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.9, Partitions: 2}, past, 10,
			2, autoscale.None, "at partitions 2", "partitions 2"},
		{"spout cut at partitions", spout, autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 1.2, Partitions: 3}, past, 10,
			3, autoscale.Up, "2 -> 3 tasks", "partitions 3"},
		{"lag drained within the threshold", spout,
			// rate 100/s over 2 tasks, input 100/s: 100 + 6000/30 = 300/s wants 6 tasks
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.5, LagRecords: 6000, LagSeconds: 60}, past, 10,
			6, autoscale.Up, "lag 60s > 30s and not shrinking (+0 records/s): 2 -> 6 tasks", ""},
		{"growing lag", spout,
			// input 150/s: 150 + 200 = 350/s at 50/s a task: 7 tasks
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.5, LagRecords: 6000, LagSeconds: 60, LagTrend: 50}, past, 10,
			7, autoscale.Up, "2 -> 7 tasks", ""},
		{"stalled spout", spout,
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.1, LagRecords: 6000, LagSeconds: math.Inf(1), LagTrend: 100}, past, 10,
			2, autoscale.None, "consumes nothing", ""},
		{"stalled spout at capacity", spout,
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.9, LagRecords: 6000, LagSeconds: math.Inf(1)}, past, 10,
			3, autoscale.Up, "capacity 0.90 > target 0.70: 2 -> 3", ""},
		{"lag without records", spout,
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.1, LagSeconds: 45}, past, 10,
			3, autoscale.Up, "lag 45s > 30s", ""},
		{"below min, at partitions", with(spout, func(a *topology.Autoscale) { a.Min = 5 }),
			autoscale.Observation{Parallelism: 2, Spout: true, Partitions: 4}, past, 10,
			4, autoscale.Up, "2 tasks is below min 5: 2 -> 4 tasks", "partitions 4"},
		{"lag of a throttled spout is downstream's", spout,
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.1, Throttled: 0.8, LagRecords: 6000, LagSeconds: 60}, past, 10,
			2, autoscale.None, "lag 60s > 30s, but the spout waits on max spout pending 80% of the time: the bottleneck is downstream", ""},
		{"lag of a spout behind a busy bolt", spout,
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.1, Bottleneck: "work at 0.98", LagRecords: 6000, LagSeconds: 60}, past, 10,
			2, autoscale.None, "lag 60s > 30s, but bolt work at 0.98 is over its target: the bottleneck is downstream", ""},
		{"a lag seen once", spout,
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.1, LagNew: true, LagRecords: 6000, LagSeconds: 60}, past, 10,
			2, autoscale.None, "lag 60s > 30s since this evaluation only", ""},
		{"lag of a spout throttled at times", spout,
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.1, Throttled: 0.3, LagRecords: 6000, LagSeconds: 60}, past, 10,
			6, autoscale.Up, "lag 60s > 30s", ""},
		{"shrinking lag", spout,
			autoscale.Observation{Parallelism: 2, Spout: true, Capacity: 0.5, LagRecords: 6000, LagSeconds: 60, LagTrend: -10}, past, 10,
			2, autoscale.None, "steady: lag 60s is not under 7.5s", ""},
		{"spout lag holds a scale-down", spout,
			autoscale.Observation{Parallelism: 4, Spout: true, Capacity: 0.1, LagRecords: 1000, LagSeconds: 10, LagTrend: -1}, past, 10,
			4, autoscale.None, "lag 10s is not under 7.5s (a quarter of 30s)", ""},
		{"spout scales down with little lag", spout,
			autoscale.Observation{Parallelism: 4, Spout: true, Capacity: 0.1, LagRecords: 10, LagSeconds: 1}, past, 10,
			2, autoscale.Down, "4 -> 2 tasks", "at most half"},
		{"scale down", bolt, autoscale.Observation{Parallelism: 4, Capacity: 0.2}, past, 0,
			2, autoscale.Down, "capacity 0.20 at 4 tasks projects 0.40 at 2, within 0.56 (0.8 × target 0.70): 4 -> 2 tasks", ""},
		{"at most half", bolt, autoscale.Observation{Parallelism: 8, Capacity: 0.05}, past, 0,
			4, autoscale.Down, "8 -> 4 tasks", "at most half"},
		{"down to min", with(bolt, func(a *topology.Autoscale) { a.Min = 3 }), autoscale.Observation{Parallelism: 4, Capacity: 0.1}, past, 0,
			3, autoscale.Down, "4 -> 3 tasks", "min 3"},
		{"at min", with(bolt, func(a *topology.Autoscale) { a.Min = 4 }), autoscale.Observation{Parallelism: 4, Capacity: 0.1}, past, 0,
			4, autoscale.None, "steady: capacity 0.10 at min 4", ""},
		{"steady", bolt, autoscale.Observation{Parallelism: 4, Capacity: 0.61}, past, 0,
			4, autoscale.None, "steady: capacity 0.61 within [0.42, 0.70]", ""},
		{"just under the band", bolt, autoscale.Observation{Parallelism: 4, Capacity: 0.41}, past, 0,
			3, autoscale.Down, "4 -> 3 tasks", ""},
		{"on the target", bolt, autoscale.Observation{Parallelism: 4, Capacity: 0.7}, past, 0,
			4, autoscale.None, "steady", ""},
		{"cooldown", bolt, autoscale.Observation{Parallelism: 2, Capacity: 0.93}, 66 * time.Second, 10,
			2, autoscale.None, "cooldown: 54s left (would scale up: capacity 0.93 > target 0.70: 2 -> 3 tasks)", ""},
		{"cooldown holds a saturated component too", bolt, autoscale.Observation{Parallelism: 2, Capacity: 1.5}, 100 * time.Second, 10,
			2, autoscale.None, "cooldown: 20s left", ""},
		{"cooldown holds a scale-down", bolt, autoscale.Observation{Parallelism: 4, Capacity: 0.1}, time.Minute, 10,
			4, autoscale.None, "cooldown: 1m0s left (would scale down", ""},
		{"cooldown just over", bolt, autoscale.Observation{Parallelism: 2, Capacity: 0.93}, 2 * time.Minute, 10,
			3, autoscale.Up, "2 -> 3 tasks", ""},
		{"above max", bolt, autoscale.Observation{Parallelism: 10, Capacity: 0.9}, past, 10,
			8, autoscale.Down, "10 tasks is above max 8: 10 -> 8 tasks", "max 8"},
		{"spout above its partitions", spout, autoscale.Observation{Parallelism: 6, Spout: true, Capacity: 0.5, Partitions: 4}, past, 10,
			4, autoscale.Down, "6 tasks is above partitions 4", "partitions 4"},
		{"partitions never go below min", with(spout, func(a *topology.Autoscale) { a.Min = 4 }),
			autoscale.Observation{Parallelism: 4, Spout: true, Capacity: 0.95, Partitions: 2}, past, 10,
			4, autoscale.None, "at partitions 2", "partitions 2"},
		{"below min", with(bolt, func(a *topology.Autoscale) { a.Min = 3 }), autoscale.Observation{Parallelism: 1}, past, 1,
			2, autoscale.Up, "1 tasks is below min 3: 1 -> 2 tasks", "slots: 1 free"},
		{"defaults", topology.Autoscale{Max: 4}, autoscale.Observation{Parallelism: 1, Capacity: 0.71}, 2 * time.Minute, 1,
			2, autoscale.Up, "capacity 0.71 > target 0.70", ""},
		{"default cooldown", topology.Autoscale{Max: 4}, autoscale.Observation{Parallelism: 1, Capacity: 0.71}, 119 * time.Second, 1,
			1, autoscale.None, "cooldown: 1s left", ""},
		{"no tasks", bolt, autoscale.Observation{Capacity: 0.9}, past, 10,
			0, autoscale.None, "no tasks", ""},
		{"capacity not a number", bolt, autoscale.Observation{Parallelism: 2, Capacity: math.NaN()}, past, 10,
			2, autoscale.None, "capacity unknown", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := autoscale.Decide(tt.p, tt.o, tt.since, tt.free)
			if d.Parallelism != tt.want || d.Direction != tt.dir || d.Limited != tt.limited || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("got %+v\nwant parallelism %d, %s, limited %q, reason with %q", d, tt.want, tt.dir, tt.limited, tt.reason)
			}
		})
	}
}

// TestDecide_UnlimitedSlots: a cluster without a slot limit passes
// math.MaxInt free slots; nothing overflows (found by TestAutoscale_Burst:
// "at slots: 9223372036854775807 free", no change ever).
func TestDecide_UnlimitedSlots(t *testing.T) {
	p := topology.Autoscale{Min: 1, Max: 6, TargetCapacity: 0.6, Cooldown: topology.Duration(15 * time.Second)}
	d := autoscale.Decide(p, autoscale.Observation{Parallelism: 1, Capacity: 1.0}, time.Minute, math.MaxInt)
	if d.Direction != autoscale.Up || d.Parallelism < 2 || d.Limited != "" {
		t.Errorf("saturated with unlimited slots: %+v, want up, unlimited", d)
	}
}
