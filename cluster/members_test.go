package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	boltbuiltin "github.com/gale-stream/gale/bolt/builtin"
	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/registry"
	spoutbuiltin "github.com/gale-stream/gale/spout/builtin"
	"github.com/gale-stream/gale/topology"
)

const wcTopology = `{"name": "wc", "spouts": [{"id": "sentences", "type": "generator", "parallelism": 3}],
  "bolts": [{"id": "split", "type": "split", "parallelism": 6, "inputs": [{"component": "sentences"}]}]}`

// leaderFixture is a worker reduced to what the leader's scheduling needs:
// a store with a topology, an elector and a debounced member view on a
// fake clock, fed fake membership events.
type leaderFixture struct {
	t     *testing.T
	clock *galetest.Clock
	w     *Worker
	all   []membership.Member
}

func newLeaderFixture(t *testing.T, name string, st store.Store, clock *galetest.Clock) *leaderFixture {
	reg := registry.New()
	if err := spoutbuiltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := boltbuiltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	el, err := store.NewElector(store.ElectorConfig{Store: st, Holder: name, TTL: 3 * time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	view, err := newMemberView(time.Second, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	w := &Worker{cfg: Config{Name: name, Registry: reg}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		st: st, el: el, view: view}
	return &leaderFixture{t: t, clock: clock, w: w}
}

// lead runs the leader's part of reconcile over the view's stable members
// (if this worker leads) and returns the stored assignment.
func (f *leaderFixture) lead() store.Assignment {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.w.el.Tick(ctx); err != nil {
		f.t.Fatal(err)
	}
	tops, err := f.w.st.ListTopologies(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	decoded := map[string]*topology.Topology{}
	stored := map[string]store.Assignment{}
	for _, t := range tops {
		if decoded[t.Name], err = f.w.decode(t); err != nil {
			f.t.Fatal(err)
		}
		a, err := f.w.st.GetAssignment(ctx, t.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			f.t.Fatal(err)
		}
		stored[t.Name] = a
	}
	if members := f.w.view.stable(f.all); f.w.el.Leading() && len(members) > 0 {
		f.w.lead(ctx, tops, decoded, stored, members)
	}
	a, err := f.w.st.GetAssignment(ctx, "wc")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Fatal(err)
	}
	return a
}

func event(kind membership.EventKind, name string) membership.Event {
	return membership.Event{Kind: kind, Member: membership.Member{Name: name}}
}

func workersOf(a store.Assignment) map[string]int {
	out := map[string]int{}
	for _, w := range a.Tasks {
		out[w]++
	}
	return out
}

// TestMemberView_FlapMovesNothing: a worker that leaves and comes back
// within the debounce period causes no reassignment; one that stays away
// causes one, once the period has passed.
func TestMemberView_FlapMovesNothing(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.PutTopology(ctx, store.Topology{Name: "wc", JSON: []byte(wcTopology)}, 0); err != nil {
		t.Fatal(err)
	}
	clock := galetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := newLeaderFixture(t, "w1", st, clock)
	for _, n := range []string{"w1", "w2", "w3"} {
		f.all = append(f.all, membership.Member{Name: n, State: membership.Alive})
	}
	v := f.w.view

	// start: nothing is scheduled until the membership has settled
	v.snapshot(f.all)
	if a := f.lead(); a.Epoch != 0 {
		t.Fatalf("assigned before the membership settled: %+v", a)
	}
	clock.Add(time.Second)
	if !v.poll() {
		t.Fatal("the initial membership did not settle after the quiet period")
	}
	a1 := f.lead()
	if a1.Epoch != 1 || len(workersOf(a1)) != 3 {
		t.Fatalf("first assignment: epoch %d over %v, want epoch 1 over 3 workers", a1.Epoch, workersOf(a1))
	}

	// w3 flaps: gone, back 400 ms later
	v.observe(event(membership.Gone, "w3"))
	clock.Add(400 * time.Millisecond)
	if v.poll() {
		t.Error("published a change 400 ms after w3 left")
	}
	if a := f.lead(); a.Epoch != 1 {
		t.Errorf("w3 gone for 400 ms: reassigned (epoch %d)", a.Epoch)
	}
	v.observe(event(membership.Joined, "w3"))
	for range 5 {
		clock.Add(500 * time.Millisecond)
		if v.poll() {
			t.Error("published a change after w3 came back")
		}
		if a := f.lead(); a.Epoch != 1 {
			t.Fatalf("w3 flapped: reassigned (epoch %d, workers %v)", a.Epoch, workersOf(a))
		}
	}
	if _, pending := v.next(); pending {
		t.Error("a change still pending after the flap")
	}

	// w2 leaves for good: reassigned once the quiet period has passed
	v.observe(event(membership.Gone, "w2"))
	clock.Add(900 * time.Millisecond)
	if v.poll() {
		t.Error("published 900 ms after w2 left")
	}
	if a := f.lead(); a.Epoch != 1 {
		t.Errorf("reassigned 900 ms after w2 left (epoch %d)", a.Epoch)
	}
	if next, ok := v.next(); !ok || !next.Equal(clock.Now().Add(100*time.Millisecond)) {
		t.Errorf("next publication at %v (%v), want in 100 ms", next, ok)
	}
	clock.Add(100 * time.Millisecond)
	if !v.poll() {
		t.Fatal("w2's departure not published after the quiet period")
	}
	a2 := f.lead()
	if ws := workersOf(a2); a2.Epoch != 2 || len(ws) != 2 || ws["w2"] != 0 {
		t.Errorf("after w2 left: epoch %d over %v, want epoch 2 over w1 and w3", a2.Epoch, ws)
	}
}

// TestLead_OnlyTheLeaseHolderAssigns: two workers with different views of
// the membership both run the leader's part; only the lease holder's
// assignment is stored.
func TestLead_OnlyTheLeaseHolderAssigns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() store.Store {
		st, err := store.OpenFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	s1, s2 := open(), open()
	if _, err := s1.PutTopology(ctx, store.Topology{Name: "wc", JSON: []byte(wcTopology)}, 0); err != nil {
		t.Fatal(err)
	}
	clock := galetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f1, f2 := newLeaderFixture(t, "w1", s1, clock), newLeaderFixture(t, "w2", s2, clock)
	for _, n := range []string{"w1", "w2", "w3"} {
		f1.all = append(f1.all, membership.Member{Name: n, State: membership.Alive})
	}
	// w2 sees only itself and w3 (w1 looks dead to it)
	f2.all = f1.all[1:]
	f1.w.view.snapshot(f1.all)
	f2.w.view.snapshot(f2.all)
	clock.Add(time.Second)
	f1.w.view.poll()
	f2.w.view.poll()
	for range 5 {
		a := f1.lead()
		b := f2.lead()
		if a.Epoch != 1 || b.Epoch != 1 || len(workersOf(b)) != 3 {
			t.Fatalf("epochs %d, %d, workers %v: want only w1's assignment (epoch 1, 3 workers)", a.Epoch, b.Epoch, workersOf(b))
		}
		if f2.w.el.Leading() {
			t.Fatal("w2 leads while w1 renews the lease")
		}
		clock.Add(time.Second)
	}
}
