package acker

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/tuplestate"
)

// self is the state of a simulated tuple: the simulation's tuples are
// their engine states.
func self(s *tuplestate.State) *tuplestate.State { return s }

// sim drives the real anchoring (tuplestate.Anchors, AckOps, FailOps) and Tracker code through random
// tree shapes and delivery orders, keeping its own count of unacked edges.
type sim struct {
	rng     *rand.Rand
	tr      *Tracker
	now     time.Time
	events  []Event
	live    []*tuplestate.State // delivered, not yet acked
	unacked map[uint64]int      // root -> edges delivered and not acked (independent truth)
	msgs    []msg               // ack messages in flight to the acker, delivered in random order
	made    int                 // tuples created so far; trees stop growing at maxTuples
}

// maxTuples bounds a run: random fan-out of 0..3 would otherwise grow the
// trees forever.
const maxTuples = 400

type msg struct {
	fail      bool
	root, val uint64
}

func newSim(seed uint64) *sim {
	return &sim{
		rng:     rand.New(rand.NewPCG(seed, seed^0x5eed)),
		tr:      NewTracker(30 * time.Second),
		now:     time.Unix(1000, 0),
		unacked: map[uint64]int{},
	}
}

func (s *sim) deliverMsgs(all bool) {
	for len(s.msgs) > 0 && (all || s.rng.IntN(2) == 0) {
		i := s.rng.IntN(len(s.msgs))
		m := s.msgs[i]
		s.msgs[i] = s.msgs[len(s.msgs)-1]
		s.msgs = s.msgs[:len(s.msgs)-1]
		var ev Event
		var ok bool
		if m.fail {
			ev, ok = s.tr.Fail(m.root, m.val, s.now)
		} else {
			ev, ok = s.tr.Ack(m.root, m.val, s.now)
		}
		if ok {
			s.events = append(s.events, ev)
		}
	}
}

// spoutEmit starts a tree with fan-out n and sends the init, possibly after
// some acks (messages are shuffled).
func (s *sim) spoutEmit(root uint64, n int) (initXor uint64) {
	for range n {
		edge := NewID()
		t := &tuplestate.State{Anchors: []tuplestate.Anchor{{Root: root, Edge: edge}}}
		initXor ^= edge
		s.live = append(s.live, t)
		s.unacked[root]++
	}
	return initXor
}

// step processes one random live tuple: emit 0..3 children anchored to it
// (sometimes also to another live tuple), then ack it.
func (s *sim) step(dropAck bool) {
	i := s.rng.IntN(len(s.live))
	t := s.live[i]
	s.live[i] = s.live[len(s.live)-1]
	s.live = s.live[:len(s.live)-1]
	for range s.rng.IntN(4) {
		if s.made >= maxTuples {
			break
		}
		s.made++
		anchors := []*tuplestate.State{t}
		if len(s.live) > 0 && s.rng.IntN(5) == 0 {
			anchors = append(anchors, s.live[s.rng.IntN(len(s.live))])
		}
		child := &tuplestate.State{}
		child.Anchors = tuplestate.Anchors(nil, anchors, self, NewID())
		for _, a := range child.Anchors {
			s.unacked[a.Root]++
		}
		s.live = append(s.live, child)
	}
	if dropAck {
		return // lost: the tree must time out
	}
	t.AckOps(func(root, val uint64) { s.msgs = append(s.msgs, msg{root: root, val: val}) })
	for _, a := range t.Anchors {
		s.unacked[a.Root]--
	}
}

func TestTracker_RandomTreesCompleteExactlyOnce(t *testing.T) {
	for seed := range uint64(300) {
		s := newSim(seed)
		roots := map[uint64]int{} // root -> spout task
		var inits []msg
		for k := range 1 + s.rng.IntN(4) {
			root := NewID()
			roots[root] = k + 1
			inits = append(inits, msg{root: root, val: s.spoutEmit(root, 1+s.rng.IntN(3))})
		}
		for len(s.live) > 0 || len(inits) > 0 {
			if len(inits) > 0 && s.rng.IntN(3) == 0 {
				m := inits[0]
				inits = inits[1:]
				if ev, ok := s.tr.Init(m.root, m.val, roots[m.root], s.now); ok {
					s.events = append(s.events, ev)
				}
			}
			if len(s.live) > 0 {
				s.step(false)
			}
			s.deliverMsgs(false)
			// no tree may be reported while it still has unacked edges
			for _, ev := range s.events {
				if s.unacked[ev.Root] != 0 {
					t.Fatalf("seed %d: root %x reported with %d unacked edges", seed, ev.Root, s.unacked[ev.Root])
				}
			}
		}
		s.deliverMsgs(true)
		seen := map[uint64]int{}
		for _, ev := range s.events {
			seen[ev.Root]++
			if ev.Failed || ev.SpoutTask != roots[ev.Root] {
				t.Fatalf("seed %d: bad event %+v", seed, ev)
			}
		}
		for root := range roots {
			if seen[root] != 1 {
				t.Fatalf("seed %d: root %x reported %d times, want 1", seed, root, seen[root])
			}
		}
		// nothing is left, and expiry reports nothing
		s.tr.Expire(s.now.Add(time.Hour), func(ev Event) { t.Fatalf("seed %d: orphan reported %+v", seed, ev) })
		if s.tr.Len() != 0 {
			t.Fatalf("seed %d: %d entries left in the tracker after expiry", seed, s.tr.Len())
		}
	}
}

func TestTracker_DroppedAckTimesOut(t *testing.T) {
	for seed := range uint64(100) {
		s := newSim(seed)
		root := NewID()
		xor := s.spoutEmit(root, 1+s.rng.IntN(3))
		if _, ok := s.tr.Init(root, xor, 7, s.now); ok {
			t.Fatal("completed at init")
		}
		drop := s.rng.IntN(len(s.live)) // drop the ack of the drop-th processed tuple (one that exists)
		for k := 0; len(s.live) > 0; k++ {
			s.step(k == drop)
		}
		s.deliverMsgs(true)
		if len(s.events) != 0 {
			t.Fatalf("seed %d: tree with a lost ack reported %+v", seed, s.events)
		}
		var expired []Event
		s.tr.Expire(s.now.Add(29*time.Second), func(ev Event) { expired = append(expired, ev) })
		if len(expired) != 0 {
			t.Fatalf("seed %d: expired before the timeout: %+v", seed, expired)
		}
		s.tr.Expire(s.now.Add(46*time.Second), func(ev Event) { expired = append(expired, ev) })
		if len(expired) != 1 || expired[0] != (Event{Root: root, SpoutTask: 7, Failed: true, TimedOut: true}) {
			t.Fatalf("seed %d: expired %+v, want one timeout of root %x", seed, expired, root)
		}
		s.tr.Expire(s.now.Add(200*time.Second), func(ev Event) { t.Fatalf("second report %+v", ev) })
	}
}

func TestTracker_FailReportsOnce(t *testing.T) {
	s := newSim(1)
	root := NewID()
	xor := s.spoutEmit(root, 2)
	a, b := s.live[0], s.live[1]
	// fail arrives before the init: reported at init
	a.FailOps(func(r, v uint64) { s.msgs = append(s.msgs, msg{fail: true, root: r, val: v}) })
	s.deliverMsgs(true)
	if len(s.events) != 0 {
		t.Fatal("reported before init")
	}
	ev, ok := s.tr.Init(root, xor, 3, s.now)
	if !ok || !ev.Failed || ev.TimedOut || ev.SpoutTask != 3 {
		t.Fatalf("init after fail: %+v %v", ev, ok)
	}
	// later acks and fails of the same tree are never reported
	b.AckOps(func(r, v uint64) { s.msgs = append(s.msgs, msg{root: r, val: v}) })
	b.FailOps(func(r, v uint64) { s.msgs = append(s.msgs, msg{fail: true, root: r, val: v}) })
	s.deliverMsgs(true)
	s.tr.Expire(s.now.Add(time.Hour), func(ev Event) { t.Fatalf("orphan reported: %+v", ev) })
	if len(s.events) != 0 || s.tr.Len() != 0 {
		t.Fatalf("events %+v, %d entries left", s.events, s.tr.Len())
	}
}

func TestTracker_ResetPostponesTimeout(t *testing.T) {
	tr := NewTracker(30 * time.Second)
	t0 := time.Unix(0, 0)
	tr.Init(1, 0xff, 1, t0)
	tr.Init(2, 0xff, 1, t0)
	var got []uint64
	emit := func(ev Event) { got = append(got, ev.Root) }
	for s := 1; s <= 30; s++ {
		now := t0.Add(time.Duration(s) * time.Second)
		tr.Reset(1, now)
		tr.Expire(now, emit)
	}
	tr.Expire(t0.Add(45*time.Second), emit)
	if fmt.Sprint(got) != "[2]" {
		t.Fatalf("timed out %v, want only [2] (1 was reset)", got)
	}
	tr.Expire(t0.Add(90*time.Second), emit)
	if fmt.Sprint(got) != "[2 1]" {
		t.Fatalf("timed out %v, want [2 1]", got)
	}
}

func TestTaskIndex_Spread(t *testing.T) {
	const n, trees = 3, 30000
	var counts [n]int
	for range trees {
		counts[TaskIndex(NewID(), n)]++
	}
	for i, c := range counts {
		if c < trees/n*9/10 || c > trees/n*11/10 {
			t.Errorf("acker %d got %d of %d roots", i, c, trees)
		}
	}
	if TaskIndex(12345, 1) != 0 {
		t.Error("one acker must take every root")
	}
}

func ExampleTracker() {
	tr := NewTracker(30 * time.Second)
	now := time.Now()
	// the spout emits a tuple of tree 42 on edge e1 and tells the acker
	e1 := uint64(0b1010)
	tr.Init(42, e1, 1, now)
	// a bolt emits a child anchored to it on edge e2, then acks its input:
	// the edge that delivered it and the edge it created, e1 ^ e2
	e2 := uint64(0b0110)
	tr.Ack(42, e1^e2, now)
	// the last bolt acks the child (e2): the xor is back to zero
	ev, done := tr.Ack(42, e2, now)
	fmt.Println(done, ev.Root, ev.SpoutTask, ev.Failed)
	// Output: true 42 1 false
}

func BenchmarkTracker_InitAck(b *testing.B) {
	tr := NewTracker(30 * time.Second)
	now := time.Now()
	b.ReportAllocs()
	for i := range b.N {
		root := uint64(i + 1)
		tr.Init(root, 0xabc, 1, now)
		tr.Ack(root, 0xabc, now)
	}
}

func BenchmarkAnchorAckOps(b *testing.B) {
	in := &tuplestate.State{Anchors: []tuplestate.Anchor{{Root: 1, Edge: 2}}}
	dst := make([]tuplestate.Anchor, 0, 4)
	var sink uint64
	send := func(_, v uint64) { sink ^= v }
	b.ReportAllocs()
	for i := range b.N {
		dst = tuplestate.Anchors(dst[:0], []*tuplestate.State{in}, self, uint64(i))
		in.AckOps(send)
	}
	_ = sink
}

// A failed tree is reported at once and forgotten as soon as its other
// tuples settle, not at the timeout: a high failure rate must not fill the
// tracker with entries waiting for it.
func TestTracker_FailedTreeForgottenWhenSettled(t *testing.T) {
	s := newSim(7)
	root := NewID()
	xor := s.spoutEmit(root, 3)
	if _, ok := s.tr.Init(root, xor, 1, s.now); ok {
		t.Fatal("reported at init")
	}
	a, b, c := s.live[0], s.live[1], s.live[2]
	// b grows a child before it is acked
	child := &tuplestate.State{Anchors: tuplestate.Anchors(nil, []*tuplestate.State{b}, self, NewID())}
	a.FailOps(func(r, v uint64) { s.msgs = append(s.msgs, msg{fail: true, root: r, val: v}) })
	s.deliverMsgs(true)
	if len(s.events) != 1 || !s.events[0].Failed {
		t.Fatalf("events after the fail: %+v", s.events)
	}
	if s.tr.Len() != 1 {
		t.Fatalf("%d entries: the failed tree should wait for b and c", s.tr.Len())
	}
	for _, x := range []*tuplestate.State{b, c, child} {
		x.AckOps(func(r, v uint64) { s.msgs = append(s.msgs, msg{root: r, val: v}) })
	}
	s.deliverMsgs(true)
	if len(s.events) != 1 {
		t.Fatalf("reported again: %+v", s.events)
	}
	if s.tr.Len() != 0 {
		t.Fatalf("%d entries left after every tuple settled", s.tr.Len())
	}
}
