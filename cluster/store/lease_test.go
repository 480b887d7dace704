package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
)

// TestElector_TwoContenders: two contenders (on two store instances, as
// two processes) whose clocks are two hours apart: one leads at a time;
// the other takes over only once the lease went unrenewed for the TTL by
// its own clock, and the first then knows it no longer leads.
func TestElector_TwoContenders(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const ttl = 3 * time.Second
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ca, cb := galetest.NewClock(base.Add(time.Hour)), galetest.NewClock(base.Add(-time.Hour))
	step := func(d time.Duration) { ca.Add(d); cb.Add(d) }
	newElector := func(holder string, clock *galetest.Clock) *store.Elector {
		s := openFile(t, dir)
		e, err := store.NewElector(store.ElectorConfig{Store: s, Holder: holder, TTL: ttl, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	a, b := newElector("a", ca), newElector("b", cb)
	tick := func(e *store.Elector, name string, want bool) {
		t.Helper()
		got, err := e.Tick(ctx)
		if err != nil {
			t.Fatalf("%s: tick: %v", name, err)
		}
		if got != want {
			t.Fatalf("%s: leading %v, want %v", name, got, want)
		}
	}
	both := func(wantA, wantB bool) {
		t.Helper()
		if a.Leading() != wantA || b.Leading() != wantB {
			t.Fatalf("leading: a %v, b %v; want %v, %v", a.Leading(), b.Leading(), wantA, wantB)
		}
	}

	tick(a, "a", true) // no lease yet: a takes it
	tick(b, "b", false)
	both(true, false)
	// a renews every TTL/3 for a long time: b never takes over
	for range 30 {
		step(ttl / 3)
		tick(a, "a", true)
		tick(b, "b", false)
	}
	both(true, false)

	// a stops renewing (it died, or it is paused): its own leadership ends
	// TTL after its last renewal; b takes over TTL after it first saw that
	// renewal, which is not earlier
	step(ttl - time.Millisecond)
	tick(b, "b", false)
	both(true, false)
	step(time.Millisecond)
	both(false, false)
	tick(b, "b", true)
	both(false, true)

	// a wakes up: it sees the lease is b's and does not lead
	tick(a, "a", false)
	both(false, true)
	step(ttl / 3)
	tick(b, "b", true)
	tick(a, "a", false)

	// b releases it (a worker leaving): a takes it at once
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	both(false, false)
	tick(a, "a", true)
	tick(b, "b", false)
	both(true, false)
}

// TestElector_ConcurrentTakers: contenders racing for an expired lease,
// many times over: never two leaders at once.
func TestElector_ConcurrentTakers(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	clock := galetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const ttl = 30 * time.Millisecond
	var es []*store.Elector
	for _, h := range []string{"w1", "w2", "w3", "w4"} {
		e, err := store.NewElector(store.ElectorConfig{Store: openFile(t, dir), Holder: h, TTL: ttl, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	leaders := map[int]int{}
	for round := range 40 {
		var wg sync.WaitGroup
		for _, e := range es {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.Tick(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n := 0
		for i, e := range es {
			if e.Leading() {
				n++
				leaders[i]++
			}
		}
		if n > 1 {
			t.Fatalf("round %d: %d leaders", round, n)
		}
		// every other round, time passes beyond the TTL without a renewal
		if round%2 == 1 {
			clock.Add(2 * ttl)
		}
	}
	if len(leaders) == 0 {
		t.Fatal("nobody ever led")
	}
	t.Logf("rounds led by each contender: %v", leaders)
}

func TestElector_Config(t *testing.T) {
	s := openFile(t, t.TempDir())
	if _, err := store.NewElector(store.ElectorConfig{Store: s}); err == nil {
		t.Error("an elector without a holder name")
	}
	if _, err := store.NewElector(store.ElectorConfig{Store: s, Holder: "a", Lease: "bad/name"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a bad lease name: %v", err)
	}
	e, err := store.NewElector(store.ElectorConfig{Store: s, Holder: "a"})
	if err != nil || e.Leading() {
		t.Errorf("a new elector: %v, leading %v", err, e != nil && e.Leading())
	}
}
