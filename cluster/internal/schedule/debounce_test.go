package schedule

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
)

func newTestDebouncer(t *testing.T, quiet, maxWait time.Duration) (*Debouncer, *galetest.Clock) {
	t.Helper()
	clk := galetest.NewClock(time.Unix(1_700_000_000, 0))
	d, err := NewDebouncer(DebouncerConfig{Quiet: quiet, MaxWait: maxWait, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return d, clk
}

func join(m string) MemberEvent  { return MemberEvent{Member: m, Alive: true} }
func leave(m string) MemberEvent { return MemberEvent{Member: m, Alive: false} }

// wantPoll polls and checks the outcome.
func wantPoll(t *testing.T, d *Debouncer, changed bool, want ...string) {
	t.Helper()
	got, ok := d.Poll()
	if ok != changed || !slices.Equal(got, want) {
		t.Fatalf("Poll() = %v, %v; want %v, %v", got, ok, want, changed)
	}
}

func TestNewDebouncer_Config(t *testing.T) {
	for _, cfg := range []DebouncerConfig{
		{},
		{Quiet: -time.Second},
		{Quiet: 2 * time.Second, MaxWait: -1},
		{Quiet: 2 * time.Second, MaxWait: time.Second},
	} {
		if _, err := NewDebouncer(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewDebouncer(%+v) = %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if _, err := NewDebouncer(DebouncerConfig{Quiet: 2 * time.Second, MaxWait: 10 * time.Second}); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestDebouncer_Table(t *testing.T) {
	const q = 2 * time.Second
	type step struct {
		advance time.Duration
		events  []MemberEvent
		changed bool     // Poll's second result after the events
		want    []string // Poll's first result
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"initial members publish after the quiet period", []step{
			{0, []MemberEvent{join("a"), join("b")}, false, nil},
			{q - time.Millisecond, nil, false, nil},
			{time.Millisecond, nil, true, []string{"a", "b"}},
			{time.Hour, nil, false, []string{"a", "b"}},
		}},
		{"each change restarts the quiet period", []step{
			{0, []MemberEvent{join("a")}, false, nil},
			{q - time.Millisecond, []MemberEvent{join("b")}, false, nil},
			{q - time.Millisecond, nil, false, nil},
			{time.Millisecond, nil, true, []string{"a", "b"}},
		}},
		{"a flap within the quiet period publishes nothing", []step{
			{0, []MemberEvent{join("a"), join("b")}, false, nil},
			{q, nil, true, []string{"a", "b"}},
			{time.Second, []MemberEvent{leave("b")}, false, []string{"a", "b"}},
			{500 * time.Millisecond, []MemberEvent{join("b")}, false, []string{"a", "b"}},
			{time.Hour, nil, false, []string{"a", "b"}},
		}},
		{"a rapid flapper publishes nothing while it flaps", []step{
			{0, []MemberEvent{join("a"), join("b")}, false, nil},
			{q, nil, true, []string{"a", "b"}},
			{time.Second, []MemberEvent{leave("b")}, false, []string{"a", "b"}},
			{time.Second, []MemberEvent{join("b")}, false, []string{"a", "b"}},
			{time.Second, []MemberEvent{leave("b")}, false, []string{"a", "b"}},
			{time.Second, []MemberEvent{join("b")}, false, []string{"a", "b"}},
			{time.Second, []MemberEvent{leave("b")}, false, []string{"a", "b"}},
			{q, nil, true, []string{"a"}},
		}},
		{"a leave publishes after the quiet period", []step{
			{0, []MemberEvent{join("a"), join("b"), join("c")}, false, nil},
			{q, nil, true, []string{"a", "b", "c"}},
			{0, []MemberEvent{leave("c")}, false, []string{"a", "b", "c"}},
			{q, nil, true, []string{"a", "b"}},
		}},
		{"repeated and unknown events change nothing", []step{
			{0, []MemberEvent{join("a")}, false, nil},
			{q, []MemberEvent{join("a"), leave("zz")}, true, []string{"a"}},
			{q, nil, false, []string{"a"}},
		}},
		{"a leave then join of a new member in one batch", []step{
			{0, []MemberEvent{join("a"), join("b")}, false, nil},
			{q, nil, true, []string{"a", "b"}},
			{0, []MemberEvent{leave("b"), join("c")}, false, []string{"a", "b"}},
			{q, nil, true, []string{"a", "c"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, clk := newTestDebouncer(t, q, 0)
			for i, s := range tc.steps {
				clk.Add(s.advance)
				d.Observe(s.events...)
				got, ok := d.Poll()
				if ok != s.changed || !slices.Equal(got, s.want) {
					t.Fatalf("step %d: Poll() = %v, %v; want %v, %v", i, got, ok, s.want, s.changed)
				}
			}
		})
	}
}

func TestDebouncer_Next(t *testing.T) {
	const q = 2 * time.Second
	d, clk := newTestDebouncer(t, q, 0)
	if _, ok := d.Next(); ok {
		t.Fatal("Next reports a deadline with nothing pending")
	}
	t0 := clk.Now()
	d.Observe(join("a"))
	if next, ok := d.Next(); !ok || !next.Equal(t0.Add(q)) {
		t.Fatalf("Next() = %v, %v; want %v", next, ok, t0.Add(q))
	}
	clk.Add(time.Second)
	d.Observe(join("b"))
	if next, _ := d.Next(); !next.Equal(t0.Add(time.Second + q)) {
		t.Fatalf("Next() = %v after a second change, want %v", next, t0.Add(time.Second+q))
	}
	if !d.Pending() {
		t.Fatal("Pending() = false with unpublished changes")
	}
	// Polling at the deadline publishes.
	next, _ := d.Next()
	clk.Add(next.Sub(clk.Now()))
	wantPoll(t, d, true, "a", "b")
	if _, ok := d.Next(); ok || d.Pending() {
		t.Fatal("still pending after publication")
	}
	if got := d.Stable(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Stable() = %v", got)
	}
}

func TestDebouncer_EventTimestamps(t *testing.T) {
	const q = 2 * time.Second
	d, clk := newTestDebouncer(t, q, 0)
	t0 := clk.Now()
	// Events stamped in the past count from their own time.
	d.Observe(MemberEvent{Member: "a", Alive: true, At: t0.Add(-q)})
	wantPoll(t, d, true, "a")
	// A stale event (older than the member's latest) is ignored.
	d.Observe(MemberEvent{Member: "a", Alive: false, At: t0.Add(-2 * q)})
	if d.Pending() {
		t.Fatal("a stale leave made a change pending")
	}
	// Events out of order: the later one wins.
	d.Observe(MemberEvent{Member: "b", Alive: false, At: t0.Add(time.Second)},
		MemberEvent{Member: "b", Alive: true, At: t0.Add(500 * time.Millisecond)})
	clk.Add(time.Hour)
	wantPoll(t, d, false, "a")
}

func TestDebouncer_ObserveSet(t *testing.T) {
	const q = 2 * time.Second
	d, clk := newTestDebouncer(t, q, 0)
	d.ObserveSet([]string{"a", "b", "c"}, clk.Now())
	clk.Add(q)
	wantPoll(t, d, true, "a", "b", "c")
	d.ObserveSet([]string{"a", "c", "d"}, clk.Now())
	clk.Add(q - 1)
	wantPoll(t, d, false, "a", "b", "c")
	clk.Add(1)
	wantPoll(t, d, true, "a", "c", "d")
}

func TestDebouncer_MaxWait(t *testing.T) {
	const q, maxWait = 2 * time.Second, 10 * time.Second
	d, clk := newTestDebouncer(t, q, maxWait)
	d.Observe(join("a"), join("b"), join("flap"))
	clk.Add(q)
	wantPoll(t, d, true, "a", "b", "flap")

	// "b" dies for good while "flap" flaps every second: without MaxWait
	// the set would never be quiet.
	start := clk.Now()
	d.Observe(leave("b"))
	alive := true
	published := false
	for clk.Now().Sub(start) < 30*time.Second {
		clk.Add(time.Second)
		alive = !alive
		d.Observe(MemberEvent{Member: "flap", Alive: alive})
		got, ok := d.Poll()
		if !ok {
			continue
		}
		if published {
			t.Fatalf("published twice: %v", got)
		}
		published = true
		// b's death is published, the flapper keeps its published state.
		if !slices.Equal(got, []string{"a", "flap"}) {
			t.Fatalf("forced publication %v, want [a flap]", got)
		}
		if waited := clk.Now().Sub(start); waited < maxWait || waited > maxWait+time.Second {
			t.Fatalf("forced publication after %v, want about %v", waited, maxWait)
		}
	}
	if !published {
		t.Fatal("MaxWait never forced a publication")
	}
	// The flapper settles down: its final state is published after Quiet.
	d.Observe(leave("flap"))
	next, ok := d.Next()
	if !ok {
		t.Fatal("nothing pending after the flapper left")
	}
	clk.Add(next.Sub(clk.Now()))
	wantPoll(t, d, true, "a")
}

func TestDebouncer_MaxWaitNothingQuiet(t *testing.T) {
	// At MaxWait only a flapper differs: nothing is quiet, nothing is
	// published, and Next points at the first time a member is quiet.
	const q, maxWait = 2 * time.Second, 4 * time.Second
	d, clk := newTestDebouncer(t, q, maxWait)
	d.Observe(join("a"), join("flap"))
	clk.Add(q)
	wantPoll(t, d, true, "a", "flap")
	alive := true
	for range 6 {
		clk.Add(time.Second)
		alive = !alive
		d.Observe(MemberEvent{Member: "flap", Alive: alive})
		wantPoll(t, d, false, "a", "flap")
	}
	// flap is now alive again == published: nothing pending.
	if alive != true || d.Pending() {
		t.Fatalf("alive %v pending %v", alive, d.Pending())
	}
	clk.Add(time.Second)
	d.Observe(leave("flap")) // one more change, then silence
	next, ok := d.Next()
	if !ok || !next.Equal(clk.Now().Add(q)) {
		t.Fatalf("Next() = %v, %v; want %v", next, ok, clk.Now().Add(q))
	}
	clk.Add(q - 1)
	wantPoll(t, d, false, "a", "flap")
	clk.Add(1)
	wantPoll(t, d, true, "a")
}

// TestDebouncer_PropertyFlaps drives random flaps shorter than the quiet
// period against a fixed base set: no new stable set may ever be
// published, whatever the interleaving; and once the flapping stops the
// final raw set is published exactly once, Quiet after the last event.
func TestDebouncer_PropertyFlaps(t *testing.T) {
	rng := testRNG(t)
	const q = 2 * time.Second
	for iter := range 200 {
		d, clk := newTestDebouncer(t, q, 0)
		var base []string
		for i := range 1 + rng.IntN(6) {
			base = append(base, fmt.Sprintf("m%d", i))
		}
		for _, m := range base {
			d.Observe(join(m))
		}
		clk.Add(q)
		wantPoll(t, d, true, base...)
		// Flaps: a member goes down and comes back (or a stranger comes and
		// goes) within less than q; flaps may overlap.
		raw := map[string]bool{}
		for _, m := range base {
			raw[m] = true
		}
		for range 50 {
			m := base[rng.IntN(len(base))]
			if rng.IntN(4) == 0 {
				m = fmt.Sprintf("x%d", rng.IntN(3))
			}
			raw[m] = !raw[m]
			d.Observe(MemberEvent{Member: m, Alive: raw[m]})
			clk.Add(time.Duration(rng.Int64N(int64(q))))
			raw[m] = !raw[m]
			d.Observe(MemberEvent{Member: m, Alive: raw[m]})
			if got, ok := d.Poll(); ok {
				t.Fatalf("iteration %d: a flap published %v", iter, got)
			}
			clk.Add(time.Duration(rng.Int64N(int64(q) / 2)))
			if got, ok := d.Poll(); ok {
				t.Fatalf("iteration %d: a flap published %v", iter, got)
			}
		}
		// A real change after the flaps.
		gone := base[rng.IntN(len(base))]
		d.Observe(leave(gone))
		clk.Add(q - 1)
		if got, ok := d.Poll(); ok {
			t.Fatalf("iteration %d: published %v before the quiet period", iter, got)
		}
		clk.Add(1)
		want := slices.DeleteFunc(slices.Clone(base), func(m string) bool { return m == gone })
		wantPoll(t, d, true, want...)
	}
}

func TestDebouncer_Concurrent(t *testing.T) {
	d, clk := newTestDebouncer(t, time.Second, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				d.Observe(MemberEvent{Member: fmt.Sprintf("g%d-%d", g, i%5), Alive: i%2 == 0})
				d.Poll()
				d.Next()
				d.Stable()
			}
		}()
	}
	wg.Wait()
	clk.Add(time.Second)
	got, _ := d.Poll()
	// each member got 200/5 = 40 events, alternating... the last one of
	// member i%5 is at i = 195..199; alive iff i is even.
	var want []string
	for g := range 4 {
		for i := 195; i < 200; i++ {
			if i%2 == 0 {
				want = append(want, fmt.Sprintf("g%d-%d", g, i%5))
			}
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("after concurrent use: %v, want %v", got, want)
	}
}
