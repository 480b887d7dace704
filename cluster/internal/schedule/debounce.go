package schedule

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemberEvent is one change in the membership: a worker joined (or came
// back), or left (or was declared dead).
type MemberEvent struct {
	Member string
	Alive  bool
	// At is when the change happened; zero means the debouncer's clock
	// at Observe.
	At time.Time
}

// DebouncerConfig configures a Debouncer.
type DebouncerConfig struct {
	// Quiet is how long the member set must stay unchanged before it is
	// published (e.g. 2 s). Required.
	Quiet time.Duration
	// MaxWait bounds how long changes may wait when the set never stays
	// quiet, because some member keeps flapping: after MaxWait the
	// debouncer publishes the changes of the members that have been quiet
	// for Quiet themselves, and keeps the flapping ones as last published.
	// Zero means no bound: a flapping member holds back every change.
	MaxWait time.Duration
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
}

// Debouncer turns a stream of membership events into a sequence of stable
// member sets, so that a flapping worker does not make the cluster
// reschedule on every flap. It is pure logic: it starts no goroutine and
// reads time only from its clock; the owner calls Poll when Next says
// (from a timer) and after each Observe. Its methods are safe for
// concurrent use.
//
// A change is published once the raw member set has not changed for
// Quiet. A member that leaves and comes back within Quiet (or the
// reverse) leaves the set as it was published, so nothing is published
// at all.
//
// Event times should come from the debouncer's clock (a zero At does
// that). With time.Now, times carry the monotonic clock, so a jump of the
// wall clock neither releases nor holds back a change.
type Debouncer struct {
	quiet, maxWait time.Duration
	now            func() time.Time

	mu sync.Mutex // guards the fields below
	// members holds the raw state of every member that is alive or
	// published, and of members that left since the last publication.
	members   map[string]memberState
	published map[string]bool
	// lastChange is the time of the latest event that changed the raw
	// set; pendingSince the time the raw set last started to differ from
	// the published one (zero when it does not).
	lastChange   time.Time
	pendingSince time.Time
}

type memberState struct {
	alive   bool
	changed time.Time // time of the member's latest change of state
	seen    time.Time // time of the member's latest event
}

// NewDebouncer returns a Debouncer with an empty published set.
func NewDebouncer(cfg DebouncerConfig) (*Debouncer, error) {
	if cfg.Quiet <= 0 {
		return nil, fmt.Errorf("debouncer quiet period %v: %w", cfg.Quiet, ErrInvalidConfig)
	}
	if cfg.MaxWait < 0 || (cfg.MaxWait > 0 && cfg.MaxWait < cfg.Quiet) {
		return nil, fmt.Errorf("debouncer max wait %v (quiet %v): %w", cfg.MaxWait, cfg.Quiet, ErrInvalidConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Debouncer{quiet: cfg.Quiet, maxWait: cfg.MaxWait, now: cfg.Now,
		members: map[string]memberState{}, published: map[string]bool{}}, nil
}

// Observe records membership events. An event older than the latest one
// recorded for the same member is stale and ignored, so events may arrive
// out of order.
func (d *Debouncer) Observe(events ...MemberEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ev := range events {
		at := ev.At
		if at.IsZero() {
			at = d.now()
		}
		st, known := d.members[ev.Member]
		if known && at.Before(st.seen) {
			continue // stale
		}
		st.seen = at
		if st.alive == ev.Alive {
			d.members[ev.Member] = st // no change; remember the time
			continue
		}
		st.alive, st.changed = ev.Alive, at
		d.members[ev.Member] = st
		if at.After(d.lastChange) {
			d.lastChange = at
		}
	}
	d.updatePending()
}

// ObserveSet records a full snapshot of the live members (as from
// memberlist's Members) taken at time at: members missing from it left,
// new ones joined.
func (d *Debouncer) ObserveSet(members []string, at time.Time) {
	d.mu.Lock()
	alive := map[string]bool{}
	for _, m := range members {
		alive[m] = true
	}
	var evs []MemberEvent
	for m, st := range d.members {
		if st.alive && !alive[m] {
			evs = append(evs, MemberEvent{Member: m, Alive: false, At: at})
		}
	}
	for m := range alive {
		if st, ok := d.members[m]; !ok || !st.alive {
			evs = append(evs, MemberEvent{Member: m, Alive: true, At: at})
		}
	}
	d.mu.Unlock()
	d.Observe(evs...)
}

// differs reports whether the raw set differs from the published one.
// Called with d.mu held.
func (d *Debouncer) differs() bool {
	for m, st := range d.members {
		if st.alive != d.published[m] {
			return true
		}
	}
	return false
}

// updatePending keeps pendingSince in step with the raw set. Called with
// d.mu held.
func (d *Debouncer) updatePending() {
	switch {
	case !d.differs():
		d.pendingSince = time.Time{}
	case d.pendingSince.IsZero():
		d.pendingSince = d.lastChange
	}
}

// Poll publishes a new stable member set if one is due at the clock's
// current time: it returns the set, sorted, and true; otherwise the last
// published set and false.
func (d *Debouncer) Poll() ([]string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if !d.differs() {
		return d.sortedPublished(), false
	}
	if !now.Before(d.lastChange.Add(d.quiet)) {
		d.publish(func(string, memberState) bool { return true })
		return d.sortedPublished(), true
	}
	if d.maxWait > 0 && !now.Before(d.pendingSince.Add(d.maxWait)) {
		before := maps.Clone(d.published)
		d.publish(func(_ string, st memberState) bool { return !now.Before(st.changed.Add(d.quiet)) })
		if !maps.Equal(before, d.published) {
			if d.differs() {
				d.pendingSince = now // the flapping members wait another MaxWait
			}
			return d.sortedPublished(), true
		}
	}
	return d.sortedPublished(), false
}

// publish makes the raw state of the members for which take is true the
// published state, and forgets members that are gone on both sides.
// Called with d.mu held.
func (d *Debouncer) publish(take func(string, memberState) bool) {
	for m, st := range d.members {
		if !take(m, st) {
			continue
		}
		if st.alive {
			d.published[m] = true
		} else {
			delete(d.published, m)
			delete(d.members, m)
		}
	}
	d.updatePending()
}

// Next returns the earliest time at which Poll may publish, and false
// when nothing is pending. The owner arms a timer for it.
func (d *Debouncer) Next() (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.differs() {
		return time.Time{}, false
	}
	next := d.lastChange.Add(d.quiet)
	if d.maxWait > 0 {
		if force := d.pendingSince.Add(d.maxWait); force.Before(next) {
			// At force, only members quiet by then are published; if none
			// is, the first one to become quiet is the next chance.
			first := time.Time{}
			for m, st := range d.members {
				if st.alive == d.published[m] {
					continue
				}
				if q := st.changed.Add(d.quiet); first.IsZero() || q.Before(first) {
					first = q
				}
			}
			next = force
			if first.After(force) {
				next = first
			}
		}
	}
	return next, true
}

// Stable returns the last published member set, sorted.
func (d *Debouncer) Stable() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sortedPublished()
}

// Pending reports whether the raw member set differs from the published
// one.
func (d *Debouncer) Pending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.differs()
}

func (d *Debouncer) sortedPublished() []string {
	return slices.Sorted(maps.Keys(d.published))
}
