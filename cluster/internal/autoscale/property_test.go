package autoscale_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/internal/autoscale"
	"github.com/gale-stream/gale/topology"
)

// randomPolicy returns a valid policy with its defaults filled.
func randomPolicy(r *rand.Rand, spout bool) topology.Autoscale {
	p := topology.Autoscale{
		Min:            1 + r.IntN(6),
		TargetCapacity: 0.1 + 0.9*r.Float64(),
		Cooldown:       topology.Duration(10*time.Second + time.Duration(r.IntN(290))*time.Second),
	}
	p.Max = min(p.Min+r.IntN(60), topology.MaxAutoscale)
	if spout {
		p.ScaleUpLagSeconds = 5 + 115*r.Float64()
	}
	return p
}

// steady is a load that does not change: its work (capacity × tasks) and,
// for a spout, its lag in records and its consume rate per task.
type steady struct {
	spout       bool
	work        float64 // capacity at one task
	lagRecords  int64
	ratePerTask float64 // records/s one task consumes; 0: none
	trend       float64
	partitions  int
}

func (s steady) observe(p int) autoscale.Observation {
	o := autoscale.Observation{Parallelism: p, Spout: s.spout, Capacity: s.work / float64(p), Partitions: s.partitions}
	if s.spout {
		o.LagRecords, o.LagTrend = s.lagRecords, s.trend
		switch rate := s.ratePerTask * float64(p); {
		case s.lagRecords == 0:
		case rate == 0:
			o.LagSeconds = math.Inf(1)
		default:
			o.LagSeconds = float64(s.lagRecords) / rate
		}
	}
	return o
}

func randomSteady(r *rand.Rand) steady {
	s := steady{spout: r.IntN(2) == 0, work: 3 * r.Float64() * float64(1+r.IntN(20))}
	if s.spout {
		if r.IntN(4) > 0 {
			s.lagRecords = r.Int64N(1_000_000)
		}
		if r.IntN(8) > 0 {
			s.ratePerTask = 1 + 1000*r.Float64()
		}
		s.trend = 200 * (r.Float64() - 0.5)
		if r.IntN(2) == 0 {
			s.partitions = 1 + r.IntN(64)
		}
	}
	return s
}

// TestDecide_SteadyLoadConverges: fed its own decisions under a load that
// does not change, Decide settles within a few steps, never goes back up
// after going down, never returns to a parallelism it left, and then stays.
func TestDecide_SteadyLoadConverges(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const maxSteps = 16 // one correction, two scale-ups, halvings from 256
	const cases = 5000
	var ups, downs int
	for i := range cases {
		s := randomSteady(r)
		p := randomPolicy(r, s.spout)
		par := p.Min + r.IntN(p.Max-p.Min+1)
		free := r.IntN(20)
		seen := []int{par}
		var dirs []string
		settled := -1
		for step := range maxSteps + 10 {
			d := autoscale.Decide(p, s.observe(par), time.Duration(p.Cooldown), free)
			if d.Direction == autoscale.None {
				if settled < 0 {
					settled = step
				}
				continue
			}
			if settled >= 0 {
				t.Fatalf("case %d: changed at step %d after settling at step %d: %+v (policy %+v, load %+v)", i, step, settled, d, p, s)
			}
			if slices.Contains(seen, d.Parallelism) {
				t.Fatalf("case %d: back to %d tasks (visited %v): %+v (policy %+v, load %+v)", i, d.Parallelism, seen, d, p, s)
			}
			if d.Direction == autoscale.Up && slices.Contains(dirs, autoscale.Down) {
				t.Fatalf("case %d: up after down (%v): %+v (policy %+v, load %+v)", i, dirs, d, p, s)
			}
			if d.Direction == autoscale.Up {
				ups++
			} else {
				downs++
			}
			free -= d.Parallelism - par
			par = d.Parallelism
			seen = append(seen, par)
			dirs = append(dirs, d.Direction)
		}
		if settled < 0 || settled > maxSteps {
			t.Fatalf("case %d: settled at step %d, want at most %d; went %v (policy %+v, load %+v)", i, settled, maxSteps, seen, p, s)
		}
	}
	if ups < cases/4 || downs < cases/4 {
		t.Errorf("%d scale-ups and %d scale-downs in %d cases: the loads do not exercise Decide", ups, downs, cases)
	}
}

// TestDecide_FlappingLoad: a load that bursts for less than the cooldown
// and calms down again makes at most one change per cooldown, and still
// makes some.
func TestDecide_FlappingLoad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const window = 10 * time.Second
	for i := range 200 {
		spout := r.IntN(2) == 0
		p := randomPolicy(r, spout)
		p.Max = max(p.Max, p.Min+4)
		cooldown := time.Duration(p.Cooldown)
		burst := 1 + r.IntN(int(cooldown/window)) // windows, shorter than the cooldown...
		if time.Duration(burst)*window >= cooldown {
			burst--
		}
		burst = max(burst, 1)
		calm := 1 + r.IntN(int(cooldown/window)+1)
		// busy: every task saturated; calm: almost idle
		hi, lo := 1.5*float64(p.Max), 0.01
		par, since := p.Min, cooldown
		var changes []time.Duration
		for w := range 1000 {
			now := time.Duration(w) * window
			work := lo
			if w%(burst+calm) < burst {
				work = hi
			}
			o := autoscale.Observation{Parallelism: par, Spout: spout, Capacity: work / float64(par)}
			d := autoscale.Decide(p, o, since, 1000)
			since += window
			if d.Direction == autoscale.None {
				continue
			}
			if n := len(changes); n > 0 && now-changes[n-1] < cooldown {
				t.Fatalf("case %d: changes at %s and %s, cooldown %s: %+v", i, changes[n-1], now, cooldown, d)
			}
			changes = append(changes, now)
			par, since = d.Parallelism, 0
		}
		if len(changes) < 2 {
			t.Fatalf("case %d: %d changes in a flapping load (policy %+v, burst %d, calm %d windows)", i, len(changes), p, burst, calm)
		}
	}
}

// TestDecide_Bounds: whatever the observation, a decision keeps to Min,
// Max, the spout's partitions and the free slots, its direction matches
// its parallelism, nothing changes within the cooldown, and a scale-down
// from within the bounds never projects a capacity above the target.
func TestDecide_Bounds(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pick := func(vals ...float64) float64 { return vals[r.IntN(len(vals))] }
	const cases = 100_000
	count := map[string]int{}
	defer func() {
		if count[autoscale.Up] < cases/10 || count[autoscale.Down] < cases/10 {
			t.Errorf("directions %v in %d cases: the observations do not exercise Decide", count, cases)
		}
	}()
	for i := range cases {
		spout := r.IntN(2) == 0
		p := randomPolicy(r, spout)
		o := autoscale.Observation{
			Parallelism: int(pick(float64(1+r.IntN(300)), float64(p.Min+r.IntN(p.Max-p.Min+1)), float64(p.Min+r.IntN(p.Max-p.Min+1)))),
			Spout:       spout,
			Capacity:    pick(3*r.Float64(), r.Float64(), 0, math.Inf(1), p.TargetCapacity),
			LagRecords:  r.Int64N(1_000_000),
			LagSeconds:  pick(0, 200*r.Float64(), math.Inf(1), p.ScaleUpLagSeconds),
			LagTrend:    pick(0, 100*(r.Float64()-0.5)),
			Partitions:  int(pick(0, float64(1+r.IntN(300)))),
		}
		since := time.Duration(r.Int64N(int64(2 * p.Cooldown)))
		free := r.IntN(24) - 4
		d := autoscale.Decide(p, o, since, free)
		P, n := o.Parallelism, d.Parallelism
		count[d.Direction]++
		fail := func(what string) {
			t.Fatalf("case %d: %s: %+v\npolicy %+v, observation %+v, since %s, free %d", i, what, d, p, o, since, free)
		}
		switch d.Direction {
		case autoscale.None:
			if n != P {
				fail("none changes the parallelism")
			}
			continue
		case autoscale.Up:
			if n <= P {
				fail("up does not add")
			}
			if n > p.Max {
				fail("above max")
			}
			if spout && o.Partitions > 0 && n > o.Partitions {
				fail("above the partitions")
			}
			if n > P+max(free, 0) {
				fail("more than the free slots")
			}
		case autoscale.Down:
			if n >= P {
				fail("down does not remove")
			}
			if n < p.Min {
				fail("below min")
			}
			inBounds := P <= p.Max && !(spout && o.Partitions > 0 && P > o.Partitions)
			if inBounds && o.Capacity*float64(P)/float64(n) > p.TargetCapacity {
				fail("scale-down projects a capacity above the target")
			}
			if inBounds && o.Capacity*float64(P)/float64(n) > autoscale.DownMargin*p.TargetCapacity*(1+1e-6) {
				fail("scale-down projects a capacity above the margin")
			}
			if inBounds && 2*n < P {
				fail("more than halved")
			}
		default:
			fail("unknown direction")
		}
		if since < time.Duration(p.Cooldown) {
			fail("a change within the cooldown")
		}
	}
}
