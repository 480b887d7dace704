package autoscale

import (
	"fmt"
	"math"
	"time"

	"github.com/gale-stream/gale/topology"
)

// The directions of a Decision.
const (
	Up   = "up"
	Down = "down"
	None = "none"
)

// DownMargin is the share of the target capacity that a scale-down may
// project at most: a new parallelism must bring the capacity to at most
// DownMargin × TargetCapacity.
const DownMargin = 0.8

// ThrottledLimit is the share of the time a spout's tasks may wait on
// max spout pending for its lag to count: above it the topology
// downstream is the bottleneck, and more spout tasks would wait too.
const ThrottledLimit = 0.5

// tolerance is the relative slack of comparisons with the target, for
// floating-point rounding.
const tolerance = 1e-9

// Observation is what the monitor saw of one component over the last
// window.
type Observation struct {
	// Parallelism is the current number of tasks.
	Parallelism int
	// Spout is true for a spout: the lag fields count.
	Spout bool
	// Capacity is the tasks' busy fraction over the window (Storm's
	// capacity; for a spout, the time its loop was not waiting); it may
	// exceed 1.
	Capacity float64
	// Throttled is, for spouts, the tasks' share of the window spent
	// waiting with max spout pending full.
	Throttled float64
	// Bottleneck is, for spouts, a bolt downstream that is over its
	// target capacity ("work at 0.98"), or "": the bolts are scaled
	// before the spout's lag counts.
	Bottleneck string
	// LagNew is, for spouts, true when the lag is over ScaleUpLagSeconds
	// at this evaluation only, not at the previous one: a jump of the lag
	// (a burst begins) shows before the bolts' capacity does, so the lag
	// must last one more evaluation to count.
	LagNew bool
	// LagRecords is, for spouts, the records behind the partitions' ends
	// (their sum).
	LagRecords int64
	// LagSeconds is, for spouts, LagRecords divided by the consume rate
	// (records/s): +Inf when the rate is 0 and the lag is not.
	LagSeconds float64
	// LagTrend is, for spouts, the change of LagRecords per second over
	// the window (> 0: growing).
	LagTrend float64
	// Partitions is, for spouts, the number of source partitions (0:
	// unknown); a spout never gets more tasks than partitions.
	Partitions int
}

// Decision is what Decide wants of one component.
type Decision struct {
	// Parallelism is the wanted parallelism (the current one when nothing
	// changes).
	Parallelism int
	// Direction is Up, Down or None.
	Direction string
	// Reason says why, for people: "capacity 0.93 > target 0.70: 2 -> 3
	// tasks"; for None, why not ("cooldown: 54s left ...", "steady:
	// capacity 0.61 within [0.42, 0.70]").
	Reason string
	// Limited names the bound that cut the change or stopped it, when one
	// did: "max 8", "partitions 4", "slots: 1 free", "min 2", "at most
	// half".
	Limited string
}

// Decide applies policy p (its zero fields take their defaults, as in
// topology.Autoscale.WithDefaults) to observation o of a component whose
// parallelism last changed sinceLastChange ago, in a cluster with
// freeSlots free slots. The rules are in the package documentation.
// Decide changes nothing for an observation it cannot read: no tasks, or
// a capacity that is negative or not a number.
func Decide(p topology.Autoscale, o Observation, sinceLastChange time.Duration, freeSlots int) Decision {
	kind := topology.KindBolt
	if o.Spout {
		kind = topology.KindSpout
	}
	p = p.WithDefaults(kind)
	P := o.Parallelism
	if P < 1 {
		return none(P, fmt.Sprintf("no tasks (parallelism %d)", P), "")
	}
	if math.IsNaN(o.Capacity) || o.Capacity < 0 {
		return none(P, fmt.Sprintf("capacity unknown (%g)", o.Capacity), "")
	}
	// no more than MaxAutoscale can be added anyway: a huge freeSlots
	// (no slot limit: math.MaxInt) must not overflow P + freeSlots
	freeSlots = min(max(freeSlots, 0), topology.MaxAutoscale)

	// ceiling: the most tasks the policy and the source allow.
	ceiling, ceilingWhy := max(p.Max, 1), fmt.Sprintf("max %d", p.Max)
	if o.Spout && o.Partitions > 0 && o.Partitions < ceiling {
		ceiling, ceilingWhy = o.Partitions, fmt.Sprintf("partitions %d", o.Partitions)
	}
	floor := max(p.Min, 1)

	var want Decision
	switch {
	case P > ceiling && max(ceiling, floor) < P:
		n := max(ceiling, floor)
		want = Decision{Parallelism: n, Direction: Down, Limited: ceilingWhy,
			Reason: fmt.Sprintf("%d tasks is above %s: %d -> %d tasks", P, ceilingWhy, P, n)}
	case P < floor:
		n, limited := floor, ""
		if n > ceiling {
			n, limited = ceiling, ceilingWhy
		}
		if n > P+freeSlots {
			n, limited = P+freeSlots, slots(freeSlots)
		}
		reason := fmt.Sprintf("%d tasks is below min %d", P, floor)
		if n <= P {
			return none(P, fmt.Sprintf("%s, but at %s", reason, limited), limited)
		}
		want = Decision{Parallelism: n, Direction: Up, Limited: limited,
			Reason: fmt.Sprintf("%s: %d -> %d tasks", reason, P, n)}
	default:
		var done bool
		want, done = load(p, o, ceiling, ceilingWhy, floor, freeSlots)
		if done {
			return want
		}
	}
	if sinceLastChange < time.Duration(p.Cooldown) {
		left := (time.Duration(p.Cooldown) - sinceLastChange).Round(time.Second)
		if left <= 0 {
			left = time.Duration(p.Cooldown) - sinceLastChange
		}
		return none(P, fmt.Sprintf("cooldown: %s left (would scale %s: %s)", left, want.Direction, want.Reason), "")
	}
	return want
}

// load decides from the load of a component whose parallelism is within
// its bounds. It returns done when the Decision is final (nothing to
// change), else the change that the cooldown may still hold back.
func load(p topology.Autoscale, o Observation, ceiling int, ceilingWhy string, floor, freeSlots int) (Decision, bool) {
	P, C, T, S := o.Parallelism, o.Capacity, p.TargetCapacity, p.ScaleUpLagSeconds
	capUp := C > T*(1+tolerance)
	// a spout that consumes nothing (an infinite lag) is stalled, by its
	// source or by the back pressure of max spout pending: more tasks
	// would consume nothing either, and the bolts' capacity shows the
	// latter
	stalled := o.Spout && math.IsInf(o.LagSeconds, 1)
	// a spout that mostly waits on max spout pending is held back by the
	// bolts: its lag is theirs to fix
	throttled := o.Spout && o.Throttled > ThrottledLimit
	lagUp := o.Spout && o.LagSeconds > S && o.LagTrend >= 0 && !stalled && !throttled && o.Bottleneck == "" && !o.LagNew
	if capUp || lagUp {
		n := P + 1
		var why []string
		if capUp {
			n = max(n, ceilTimes(P, C/T))
			if C > 1 {
				n = max(n, 2*P)
				why = append(why, fmt.Sprintf("capacity %.2f > target %.2f (saturated)", C, T))
			} else {
				why = append(why, fmt.Sprintf("capacity %.2f > target %.2f", C, T))
			}
		}
		if lagUp {
			if rate := float64(o.LagRecords) / o.LagSeconds; rate > 0 {
				n = max(n, ceilTimes(P, 1+o.LagTrend/rate+o.LagSeconds/S))
			}
			why = append(why, fmt.Sprintf("lag %s > %s and not shrinking (%+.0f records/s)", seconds(o.LagSeconds), seconds(S), o.LagTrend))
		}
		reason := why[0]
		if len(why) == 2 {
			reason += ", " + why[1]
		}
		limited := ""
		if n > ceiling {
			n, limited = ceiling, ceilingWhy
		}
		if n > P+freeSlots {
			n, limited = P+freeSlots, slots(freeSlots)
		}
		if n <= P {
			return none(P, fmt.Sprintf("%s, but at %s", reason, limited), limited), true
		}
		return Decision{Parallelism: n, Direction: Up, Limited: limited,
			Reason: fmt.Sprintf("%s: %d -> %d tasks", reason, P, n)}, false
	}

	low := DownMargin * T // the most a scale-down may project
	steadyLow := low * float64(P-1) / float64(P)
	if P <= floor {
		return none(P, fmt.Sprintf("steady: capacity %.2f at min %d", C, floor), ""), true
	}
	if stalled && P > floor {
		return none(P, "steady: the spout consumes nothing (lag +Inf s): no change on its lag", ""), true
	}
	if o.Spout && o.LagNew && o.LagSeconds > S && o.Bottleneck == "" && !throttled && !stalled {
		return none(P, fmt.Sprintf("lag %s > %s since this evaluation only: it must last one more to count",
			seconds(o.LagSeconds), seconds(S)), ""), true
	}
	if o.Spout && o.Bottleneck != "" && o.LagSeconds > S && !throttled {
		return none(P, fmt.Sprintf("lag %s > %s, but bolt %s is over its target: the bottleneck is downstream",
			seconds(o.LagSeconds), seconds(S), o.Bottleneck), ""), true
	}
	if throttled && o.LagSeconds > S {
		return none(P, fmt.Sprintf("lag %s > %s, but the spout waits on max spout pending %.0f%% of the time: the bottleneck is downstream",
			seconds(o.LagSeconds), seconds(S), 100*o.Throttled), ""), true
	}
	if o.Spout && !(o.LagSeconds < S/4) {
		return none(P, fmt.Sprintf("steady: lag %s is not under %s (a quarter of %s)",
			seconds(o.LagSeconds), seconds(S/4), seconds(S)), ""), true
	}
	n := max(floor, ceilTimes(P, C/low))
	if n >= P {
		return none(P, fmt.Sprintf("steady: capacity %.2f within [%.2f, %.2f]", C, steadyLow, T), ""), true
	}
	limited := ""
	if half := (P + 1) / 2; n < half {
		n, limited = half, "at most half"
	}
	if n == floor && limited == "" && ceilTimes(P, C/low) < floor {
		limited = fmt.Sprintf("min %d", floor)
	}
	return Decision{Parallelism: n, Direction: Down, Limited: limited,
		Reason: fmt.Sprintf("capacity %.2f at %d tasks projects %.2f at %d, within %.2f (%.1f × target %.2f): %d -> %d tasks",
			C, P, C*float64(P)/float64(n), n, low, DownMargin, T, P, n)}, false
}

// ceilTimes returns ceil(p × f), trimmed by the tolerance so that a value
// a rounding error above a whole number stays that number, and bounded so
// that a huge or infinite f gives a large int rather than an overflow.
func ceilTimes(p int, f float64) int {
	x := float64(p) * f * (1 - tolerance)
	if !(x < 1<<30) {
		return 1 << 30
	}
	return int(math.Ceil(x))
}

func none(p int, reason, limited string) Decision {
	return Decision{Parallelism: p, Direction: None, Reason: reason, Limited: limited}
}

func slots(free int) string { return fmt.Sprintf("slots: %d free", free) }

// seconds prints a number of seconds briefly: "45s", "7.5s", "+Inf s".
func seconds(s float64) string {
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return fmt.Sprintf("%v s", s)
	}
	return fmt.Sprintf("%gs", math.Round(s*10)/10)
}
