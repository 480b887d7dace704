package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
)

// TestLead_HandoverDrainsBeforeMoving: a worker leaving gracefully gets its
// tasks moved in two steps — the same tasks stored again as Draining (the
// spouts pause), and the move only once every worker reports nothing in
// flight; the tasks of the others stay where they are. A worker joining
// gets its tasks the same way. A worker that dies meanwhile moves its
// tasks at once (its trees replay anyway).
func TestLead_HandoverDrainsBeforeMoving(t *testing.T) {
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
	drained, checks := false, 0
	f.w.drainCheck = func(name string, a store.Assignment) bool {
		checks++
		if name != "wc" || !a.Draining {
			t.Errorf("drain check of %s at epoch %d (draining %v): want wc's draining assignment", name, a.Epoch, a.Draining)
		}
		return drained
	}
	for _, n := range []string{"w1", "w2", "w3"} {
		f.all = append(f.all, membership.Member{Name: n, State: membership.Alive})
	}
	f.w.view.snapshot(f.all)
	clock.Add(time.Second)
	f.w.view.poll()
	a1 := f.lead()
	if a1.Epoch != 1 || a1.Draining || len(workersOf(a1)) != 3 {
		t.Fatalf("first assignment: epoch %d, draining %v, over %v", a1.Epoch, a1.Draining, workersOf(a1))
	}
	if checks != 0 {
		t.Errorf("a first assignment waited for a drain (%d checks)", checks)
	}

	// w2 cut from the store (isolated): its tasks move at once, no drain
	f.all[1].Meta.Isolated = true
	ai := f.lead()
	if ai.Epoch != 2 || ai.Draining || workersOf(ai)["w2"] != 0 {
		t.Fatalf("w2 isolated: epoch %d draining %v over %v; want epoch 2 at once, nothing on w2", ai.Epoch, ai.Draining, workersOf(ai))
	}
	// back: it gets tasks again, by the two steps
	f.all[1].Meta.Isolated = false
	drained = true
	f.lead()
	a1 = f.lead()
	if a1.Epoch != 4 || a1.Draining || workersOf(a1)["w2"] == 0 {
		t.Fatalf("w2 back: epoch %d draining %v over %v; want epoch 4 with tasks on w2", a1.Epoch, a1.Draining, workersOf(a1))
	}
	drained, checks = false, 0

	// w3 leaves gracefully: step 1, the same tasks, draining
	f.all[2].Meta.Leaving = true
	a2 := f.lead()
	if a2.Epoch != 5 || !a2.Draining || !mapsEqual(a2.Tasks, a1.Tasks) {
		t.Fatalf("w3 leaving: epoch %d draining %v over %v; want epoch 5, draining, the tasks unchanged", a2.Epoch, a2.Draining, workersOf(a2))
	}
	for range 3 {
		if a := f.lead(); a.Epoch != 5 {
			t.Fatalf("moved (epoch %d) while the workers still had trees in flight", a.Epoch)
		}
	}
	// step 2 once drained: w3's tasks move, the others' stay
	drained = true
	a3 := f.lead()
	if a3.Epoch != 6 || a3.Draining || workersOf(a3)["w3"] != 0 {
		t.Fatalf("drained: epoch %d draining %v over %v; want epoch 6, not draining, nothing on w3", a3.Epoch, a3.Draining, workersOf(a3))
	}
	for k, wk := range a1.Tasks {
		if wk != "w3" && a3.Tasks[k] != wk {
			t.Errorf("task %s moved from %s to %s: only the leaving worker's tasks should move", k, wk, a3.Tasks[k])
		}
	}
	if a := f.lead(); a.Epoch != 6 {
		t.Errorf("a settled assignment changed again: epoch %d", a.Epoch)
	}

	// w3 restarted (a rolling upgrade): it gets tasks back, by the same two steps
	f.all[2].Meta.Leaving = false
	drained = false
	a4 := f.lead()
	if a4.Epoch != 7 || !a4.Draining || !mapsEqual(a4.Tasks, a3.Tasks) {
		t.Fatalf("w3 back: epoch %d draining %v; want epoch 7 draining with the tasks unchanged", a4.Epoch, a4.Draining)
	}
	drained = true
	a5 := f.lead()
	if a5.Epoch != 8 || a5.Draining || workersOf(a5)["w3"] == 0 {
		t.Fatalf("w3 back, drained: epoch %d draining %v over %v; want tasks on w3", a5.Epoch, a5.Draining, workersOf(a5))
	}

	// w3 leaves again, and w2 dies while the spouts are paused: no wait
	f.all[2].Meta.Leaving = true
	drained = false
	if a := f.lead(); !a.Draining {
		t.Fatalf("w3 leaving again: epoch %d not draining", a.Epoch)
	}
	f.w.view.observe(event(membership.Gone, "w2"))
	f.all = f.all[:1:1]
	f.all = append(f.all, membership.Member{Name: "w3", State: membership.Alive, Meta: membership.Meta{Leaving: true}})
	clock.Add(2 * time.Second)
	f.w.view.poll()
	a7 := f.lead()
	if ws := workersOf(a7); a7.Epoch != 10 || a7.Draining || len(ws) != 1 || ws["w1"] == 0 {
		t.Fatalf("w2 dead, w3 leaving: epoch %d draining %v over %v; want everything on w1 at once", a7.Epoch, a7.Draining, ws)
	}
}

// TestLead_RescaleDrainsFirst: a rebalance is stored as a pending
// rescale; the leader pauses the spouts where the tasks are (the same
// tasks, Draining), applies the new parallelism to the topology's record
// only once nothing is in flight, then assigns the new tasks and resumes.
func TestLead_RescaleDrainsFirst(t *testing.T) {
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
	drained := false
	f.w.drainCheck = func(string, store.Assignment) bool { return drained }
	for _, n := range []string{"w1", "w2"} {
		f.all = append(f.all, membership.Member{Name: n, State: membership.Alive})
	}
	f.w.view.snapshot(f.all)
	clock.Add(time.Second)
	f.w.view.poll()
	a1 := f.lead()
	if a1.Epoch != 1 || len(a1.Tasks) != 10 {
		t.Fatalf("first assignment: epoch %d, %d tasks", a1.Epoch, len(a1.Tasks))
	}
	if err := f.w.Rebalance(ctx, "wc", api.Rebalance{Parallelism: map[string]int{"split": 2}}); err != nil {
		t.Fatal(err)
	}
	rec, _ := st.GetTopology(ctx, "wc")
	if rec.Rescale == nil || rec.Rescale.Parallelism["split"] != 2 || rec.Parallelism != nil {
		t.Fatalf("after the rebalance the record holds parallelism %v, rescale %+v; want it pending", rec.Parallelism, rec.Rescale)
	}
	a2 := f.lead()
	if a2.Epoch != 2 || !a2.Draining || !mapsEqual(a2.Tasks, a1.Tasks) {
		t.Fatalf("rescale step 1: epoch %d draining %v; want the same tasks, draining", a2.Epoch, a2.Draining)
	}
	if a := f.lead(); a.Epoch != 2 {
		t.Fatalf("not drained: epoch %d stored, want to wait at 2", a.Epoch)
	}
	if rec, _ := st.GetTopology(ctx, "wc"); rec.Rescale == nil || rec.Parallelism != nil {
		t.Fatal("the rescale was applied before the trees in flight completed")
	}
	drained = true
	f.lead() // applies the rescale to the record
	rec, _ = st.GetTopology(ctx, "wc")
	if rec.Rescale != nil || rec.Parallelism["split"] != 2 {
		t.Fatalf("drained: the record holds parallelism %v, rescale %+v; want split 2 applied", rec.Parallelism, rec.Rescale)
	}
	a3 := f.lead()
	if a3.Draining || len(a3.Tasks) != 6 {
		t.Fatalf("after the rescale: epoch %d draining %v with %d tasks; want 6 (3 spouts, 2 split, the acker), resumed", a3.Epoch, a3.Draining, len(a3.Tasks))
	}
}

// TestLead_RescaleContinuesAfterLeaderChange: the leader pauses the
// spouts for a rescale and dies; the next leader finds the Rescale and
// the Draining assignment in the store and finishes the change, once —
// the parallelism is applied once and the tasks assigned once.
func TestLead_RescaleContinuesAfterLeaderChange(t *testing.T) {
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
	for _, f := range []*leaderFixture{f1, f2} {
		f.w.drainCheck = func(string, store.Assignment) bool { return true }
		for _, n := range []string{"w1", "w2"} {
			f.all = append(f.all, membership.Member{Name: n, State: membership.Alive})
		}
		f.w.view.snapshot(f.all)
	}
	clock.Add(time.Second)
	f1.w.view.poll()
	f2.w.view.poll()
	if a := f1.lead(); a.Epoch != 1 {
		t.Fatalf("first assignment at epoch %d", a.Epoch)
	}
	if err := f1.w.Rebalance(ctx, "wc", api.Rebalance{Parallelism: map[string]int{"split": 4}}); err != nil {
		t.Fatal(err)
	}
	if a := f1.lead(); a.Epoch != 2 || !a.Draining {
		t.Fatalf("w1 paused the spouts at epoch %d (draining %v); want 2, draining", a.Epoch, a.Draining)
	}
	// w1 dies: its lease expires, w2 leads (w2 sees w1 alive still: its
	// tasks stay in place, so the rescale goes on rather than a move)
	clock.Add(10 * time.Second)
	f2.w.view.poll()
	for i := 0; !f2.w.el.Leading(); i++ {
		if i == 5 {
			t.Fatal("w2 does not lead after w1's lease expired")
		}
		if _, err := f2.w.el.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Second)
	}
	f2.lead() // applies the rescale
	rec, _ := s2.GetTopology(ctx, "wc")
	if rec.Rescale != nil || rec.Parallelism["split"] != 4 || rec.Version != 3 {
		t.Fatalf("after w2's first round: parallelism %v, rescale %+v, version %d; want split 4 applied once (version 3)",
			rec.Parallelism, rec.Rescale, rec.Version)
	}
	a := f2.lead()
	if a.Draining || len(a.Tasks) != 8 || a.Epoch != 3 {
		t.Fatalf("w2's assignment: epoch %d draining %v %d tasks; want epoch 3, resumed, 8 tasks (3 + 4 + the acker)",
			a.Epoch, a.Draining, len(a.Tasks))
	}
	if b := f2.lead(); b.Epoch != a.Epoch {
		t.Fatalf("another assignment (epoch %d) with nothing changed", b.Epoch)
	}
}
