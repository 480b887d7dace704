package cluster

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/internal/schedule"
	"github.com/gale-stream/gale/topology"
)

// An assignment's task keys are "<component>/<index>" (the acker's
// component is schedule.AckerID): they survive a change of another
// component's parallelism, which renumbers the engine's task ids.
func taskKey(component string, index int) string { return component + "/" + strconv.Itoa(index) }

func parseKey(k string) (component string, index int, ok bool) {
	i := strings.LastIndexByte(k, '/')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(k[i+1:])
	return k[:i], n, err == nil
}

// taskIDs numbers a topology's tasks as the engine does.
func taskIDs(topo *topology.Topology) map[string][]int { return topology.TaskIDs(topo) }

// scheduleInput is what the scheduler needs of a topology: its own
// "topology.workers" only when the topology sets it (else every worker),
// or the rebalance's.
func scheduleInput(topo *topology.Topology, workers int) schedule.Topology {
	st := schedule.FromTopology(topo)
	if _, set := topo.Config[topology.ConfigWorkers]; !set {
		st.Workers = 0
	}
	if workers > 0 {
		st.Workers = workers
	}
	return st
}

// computeSkipping computes the assignment of in; when the whole input is
// more than the scheduler takes (schedule.ErrTooLarge), it leaves out the
// topology with the most tasks and tries again, so that one oversized
// topology (stored before validation bounded them) does not stop every
// other from being scheduled. It returns the topologies left out.
func computeSkipping(cfg schedule.Config, in schedule.Input) (*schedule.Assignment, []string, error) {
	var skipped []string
	for {
		res, err := schedule.Compute(cfg, in)
		if err == nil || !errors.Is(err, schedule.ErrTooLarge) || len(in.Topologies) == 0 {
			return res, skipped, err
		}
		big, most := -1, -1
		for i, t := range in.Topologies {
			n := 0
			for _, c := range t.Components {
				n += max(c.Parallelism, 1)
			}
			if n > most {
				big, most = i, n
			}
		}
		skipped = append(skipped, in.Topologies[big].Name)
		in.Topologies = append(slices.Clone(in.Topologies[:big]), in.Topologies[big+1:]...)
	}
}

// memberView is a worker's debounced view of the membership: the member
// set the leader schedules over changes only once the live members have
// stayed the same for the debounce period, so a worker that leaves and
// comes back within it (a flap) moves no task. Only the worker's Run loop
// calls it; the debouncer has its own lock.
type memberView struct {
	deb *schedule.Debouncer
}

// newMemberView debounces with quiet; now is the clock (nil: time.Now,
// monotonic).
func newMemberView(quiet time.Duration, now func() time.Time) (*memberView, error) {
	d, err := schedule.NewDebouncer(schedule.DebouncerConfig{Quiet: quiet, MaxWait: 5 * quiet, Now: now})
	if err != nil {
		return nil, err
	}
	return &memberView{deb: d}, nil
}

// observe records a membership event (at the debouncer's clock: events
// come from this process).
func (v *memberView) observe(ev membership.Event) {
	switch ev.Kind {
	case membership.Joined:
		v.deb.Observe(schedule.MemberEvent{Member: ev.Member.Name, Alive: true})
	case membership.Gone:
		v.deb.Observe(schedule.MemberEvent{Member: ev.Member.Name, Alive: false})
	}
}

// snapshot records the live members as membership.Members lists them now.
func (v *memberView) snapshot(live []membership.Member) {
	names := make([]string, len(live))
	for i, m := range live {
		names[i] = m.Name
	}
	v.deb.ObserveSet(names, time.Time{})
}

// next is when poll may publish a change, if one is pending.
func (v *memberView) next() (time.Time, bool) { return v.deb.Next() }

// poll publishes the pending change if it is due; it reports whether the
// stable set changed.
func (v *memberView) poll() bool {
	_, changed := v.deb.Poll()
	return changed
}

// stableNames is the stable member set, sorted.
func (v *memberView) stableNames() []string { return v.deb.Stable() }

// stable returns the members of all (every member seen, with its
// metadata) that are in the stable set, sorted by name.
func (v *memberView) stable(all []membership.Member) []membership.Member {
	var out []membership.Member
	names := v.deb.Stable()
	for _, m := range all {
		if _, ok := slices.BinarySearch(names, m.Name); ok {
			out = append(out, m)
		}
	}
	return out
}
