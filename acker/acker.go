package acker

import (
	"time"

	"github.com/gale-stream/gale/internal/tuplestate"
)

// NewID returns a random non-zero 64-bit id. It is safe for concurrent use.
func NewID() uint64 { return tuplestate.NewID() }

// TaskIndex returns which of n acker tasks (0..n-1) tracks root.
func TaskIndex(root uint64, n int) int {
	if n <= 1 {
		return 0
	}
	// fold the high bits in; roots are random, this only guards against
	// ids that vary in their high bits alone
	return int((root ^ root>>29 ^ root>>47) % uint64(n))
}

// Event tells a spout task that one of its trees completed or failed.
type Event struct {
	Root      uint64
	SpoutTask int
	Failed    bool
	TimedOut  bool
}

type entry struct {
	val      uint64
	task     int32
	inited   bool
	failed   bool
	reported bool // a failed tree that was reported and waits for its edges
}

// buckets is the number of generations of the rotating timeout map: a tree
// times out between timeout and timeout*buckets/(buckets-1) after it was
// first seen (or reset).
const buckets = 4

// Tracker is the state of one acker task: root -> (xor, spout task), in a
// rotating map of generations for timeouts (Storm's RotatingMap), so that
// Expire costs nothing per live entry. It is not safe for concurrent use:
// one goroutine owns it.
//
// Each root is reported at most once. A completed root is deleted. A
// failed root is reported at once but kept, marked reported, while tuples
// of its tree are still in flight: their acks and fails keep XORing into
// it, and it is deleted when its value reaches zero, so that a high failure
// rate does not fill the map with entries waiting for the timeout. A late
// message for a deleted root creates an uninitialised entry that can never
// be reported (no Init will come for that root again) and is dropped
// silently when it times out.
type Tracker struct {
	gens       [buckets]map[uint64]entry // gens[0] is the newest
	period     time.Duration
	lastRotate time.Time
}

// NewTracker returns a tracker failing trees older than timeout.
func NewTracker(timeout time.Duration) *Tracker {
	t := &Tracker{period: max(timeout/(buckets-1), time.Millisecond)}
	for i := range t.gens {
		t.gens[i] = map[uint64]entry{}
	}
	return t
}

func (t *Tracker) find(root uint64) (entry, int) {
	for i, g := range t.gens {
		if e, ok := g[root]; ok {
			return e, i
		}
	}
	return entry{}, -1
}

func (t *Tracker) start(now time.Time) {
	if t.lastRotate.IsZero() {
		t.lastRotate = now
	}
}

// settle stores e back, or reports and deletes it when it is decided.
func (t *Tracker) settle(root uint64, e entry, gen int) (ev Event, report bool) {
	if e.inited && !e.reported && (e.failed || e.val == 0) {
		ev, report = Event{Root: root, SpoutTask: int(e.task), Failed: e.failed}, true
		e.reported = true
	}
	if e.reported && e.val == 0 {
		if gen >= 0 {
			delete(t.gens[gen], root)
		}
		return ev, report
	}
	if gen < 0 {
		gen = 0
	}
	t.gens[gen][root] = e
	return ev, report
}

// Init records the spout's edges of a new tree.
func (t *Tracker) Init(root, xor uint64, spoutTask int, now time.Time) (Event, bool) {
	t.start(now)
	e, gen := t.find(root)
	e.val ^= xor
	e.task = int32(spoutTask)
	e.inited = true
	return t.settle(root, e, gen)
}

// Ack XORs val into the tree of root.
func (t *Tracker) Ack(root, val uint64, now time.Time) (Event, bool) {
	t.start(now)
	e, gen := t.find(root)
	e.val ^= val
	return t.settle(root, e, gen)
}

// Fail fails the tree of root (reported now, or at Init if it has not
// arrived yet) and XORs val (see FailOps) into it.
func (t *Tracker) Fail(root, val uint64, now time.Time) (Event, bool) {
	t.start(now)
	e, gen := t.find(root)
	e.val ^= val
	e.failed = true
	return t.settle(root, e, gen)
}

// Reset restarts the timeout of root's tree.
func (t *Tracker) Reset(root uint64, now time.Time) {
	t.start(now)
	e, gen := t.find(root)
	if gen <= 0 {
		return
	}
	delete(t.gens[gen], root)
	t.gens[0][root] = e
}

// Expire times out the trees of the oldest generations once enough time
// has passed, calling emit for each timed-out tree whose spout is known.
func (t *Tracker) Expire(now time.Time, emit func(Event)) {
	t.start(now)
	for now.Sub(t.lastRotate) >= t.period {
		t.lastRotate = t.lastRotate.Add(t.period)
		old := t.gens[buckets-1]
		copy(t.gens[1:], t.gens[:buckets-1])
		t.gens[0] = map[uint64]entry{}
		for root, e := range old {
			if e.inited && !e.reported {
				emit(Event{Root: root, SpoutTask: int(e.task), Failed: true, TimedOut: true})
			}
		}
		if len(t.gens[0]) == 0 && t.Len() == 0 {
			t.lastRotate = now // idle: don't spin through missed periods
		}
	}
}

// Len returns the number of trees (and orphan entries) tracked.
func (t *Tracker) Len() int {
	n := 0
	for _, g := range t.gens {
		n += len(g)
	}
	return n
}
