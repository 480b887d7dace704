package window

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// record is what the fake collector and bolt saw, in order.
type record struct {
	kind   string // window, ack, fail, emit
	t      *tuple.Tuple
	win    *Window
	stream string
}

type fakeOut struct{ log *[]record }

func (f fakeOut) Emit(a *tuple.Tuple, v tuple.Values) {
	f.EmitTo(tuple.DefaultStream, []*tuple.Tuple{a}, v)
}
func (f fakeOut) EmitTo(s string, a []*tuple.Tuple, _ tuple.Values) {
	*f.log = append(*f.log, record{kind: "emit", stream: s, t: a[0]})
}
func (f fakeOut) EmitDirect(int, string, []*tuple.Tuple, tuple.Values) {}
func (f fakeOut) Send(bolt.Message) []int                              { return nil }
func (f fakeOut) Ack(t *tuple.Tuple)                                   { *f.log = append(*f.log, record{kind: "ack", t: t}) }
func (f fakeOut) Fail(t *tuple.Tuple)                                  { *f.log = append(*f.log, record{kind: "fail", t: t}) }
func (f fakeOut) ResetTimeout(*tuple.Tuple)                            {}
func (f fakeOut) ReportError(error)                                    {}

type recorder struct{ log *[]record }

func (r recorder) Prepare(context.Context, *topology.TaskContext, bolt.Collector) error { return nil }
func (r recorder) ExecuteWindow(_ context.Context, w *Window) error {
	cp := *w
	*r.log = append(*r.log, record{kind: "window", win: &cp})
	return nil
}
func (r recorder) Cleanup() error { return nil }

// harness runs a window on a fake clock, without its timer goroutine.
type harness struct {
	t   *testing.T
	e   *executor
	log []record
	now time.Time
}

func newHarness(t *testing.T, cfg Config) *harness {
	h := &harness{t: t, now: time.Unix(1_700_000_000, 0)}
	b, err := New(recorder{&h.log}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.e = b.(*executor)
	h.e.now = func() time.Time { return h.now }
	h.e.noTimer = true
	if err := h.e.Prepare(context.Background(), nil, fakeOut{&h.log}); err != nil {
		t.Fatal(err)
	}
	return h
}

var tsFields = tuple.Fields{"id", "ts"}

func (h *harness) send(id string, ts time.Time) *tuple.Tuple {
	tp := &tuple.Tuple{Values: tuple.Values{id, ts.UnixMilli()}, Fields: tsFields, ID: id}
	if err := h.e.Execute(context.Background(), tp); err != nil {
		h.t.Fatal(err)
	}
	return tp
}

func ids(ts []*tuple.Tuple) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return strings.Join(out, ",")
}

// checkAcks: every tuple of want is acked exactly once, after every
// window that holds it; the others are not acked (nor failed).
func checkAcks(t *testing.T, log []record, all []*tuple.Tuple, acked map[*tuple.Tuple]bool) {
	t.Helper()
	lastWin := map[*tuple.Tuple]int{}
	ackAt := map[*tuple.Tuple][]int{}
	for i, r := range log {
		switch r.kind {
		case "window":
			for _, tp := range r.win.Tuples {
				lastWin[tp] = i
			}
		case "ack":
			ackAt[r.t] = append(ackAt[r.t], i)
		case "fail":
			t.Errorf("tuple %s failed", r.t.ID)
		}
	}
	for _, tp := range all {
		a := ackAt[tp]
		switch {
		case acked[tp] && len(a) != 1:
			t.Errorf("tuple %s acked %d times, want once", tp.ID, len(a))
		case !acked[tp] && len(a) != 0:
			t.Errorf("tuple %s acked while a window may still hold it", tp.ID)
		case len(a) == 1 && a[0] < lastWin[tp]:
			t.Errorf("tuple %s acked before its last window", tp.ID)
		}
	}
}

// TestEventTime_Model: random event-time streams (out of order, some
// late) against a reference model: every window [end-L, end) with end a
// multiple of the slide, up to the last watermark, holding a tuple, is
// evaluated once, in order, with exactly the on-time tuples of its range;
// a tuple is late exactly when its timestamp is behind the watermark at
// its arrival, and then goes to the late stream and is acked; an on-time
// tuple is acked once, after the last window that holds it, and only once
// no later window can hold it.
func TestEventTime_Model(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 21))
			slide := time.Duration(1+rng.IntN(5)) * time.Second
			length := slide * time.Duration(1+rng.IntN(3))
			lag := time.Duration(rng.IntN(4000)) * time.Millisecond
			h := newHarness(t, Config{Length: Duration(length), Slide: Duration(slide), TimestampField: "ts", Lag: lag,
				WatermarkInterval: time.Second, LateStream: "late"})
			base := h.now.Truncate(time.Minute)
			var all []*tuple.Tuple
			late := map[*tuple.Tuple]bool{}
			ts := map[*tuple.Tuple]time.Time{}
			var mark, maxTs time.Time
			cur := base
			for i := range 150 + rng.IntN(150) {
				if rng.IntN(6) == 0 { // a watermark step
					h.now = h.now.Add(time.Second)
					h.e.onTimer()
					if !maxTs.IsZero() && maxTs.Add(-lag).After(mark) {
						mark = maxTs.Add(-lag)
					}
					continue
				}
				cur = cur.Add(time.Duration(rng.IntN(400)) * time.Millisecond)
				at := cur.Add(-time.Duration(rng.IntN(5000)) * time.Millisecond) // out of order
				tp := h.send(fmt.Sprintf("t%03d", i), at)
				all = append(all, tp)
				ts[tp] = at
				if !mark.IsZero() && at.Before(mark) {
					late[tp] = true
					continue
				}
				if at.After(maxTs) {
					maxTs = at
				}
			}
			// the model's windows
			type win struct {
				end    time.Time
				tuples []*tuple.Tuple
			}
			var want []win
			var ontime []*tuple.Tuple
			for _, tp := range all {
				if !late[tp] {
					ontime = append(ontime, tp)
				}
			}
			slices.SortStableFunc(ontime, func(a, b *tuple.Tuple) int { return ts[a].Compare(ts[b]) })
			if len(ontime) > 0 {
				for end := alignUp(ts[ontime[0]], slide); !end.After(mark); end = end.Add(slide) {
					var in []*tuple.Tuple
					for _, tp := range ontime {
						if !ts[tp].Before(end.Add(-length)) && ts[tp].Before(end) {
							in = append(in, tp)
						}
					}
					if len(in) > 0 {
						want = append(want, win{end, in})
					}
				}
			}
			var got []*Window
			lateSeen := map[*tuple.Tuple]bool{}
			for _, r := range h.log {
				switch {
				case r.kind == "window":
					got = append(got, r.win)
				case r.kind == "emit" && r.stream == "late":
					lateSeen[r.t] = true
				}
			}
			if len(got) != len(want) {
				t.Fatalf("slide %v length %v lag %v: %d windows, want %d", slide, length, lag, len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if !g.End.Equal(w.end) || !g.Start.Equal(w.end.Add(-length)) || ids(g.Tuples) != ids(w.tuples) {
					t.Fatalf("window %d: [%v, %v) %s; want [%v, %v) %s", i, g.Start, g.End, ids(g.Tuples), w.end.Add(-length), w.end, ids(w.tuples))
				}
			}
			for _, tp := range all {
				if late[tp] != lateSeen[tp] {
					t.Errorf("tuple %s (ts %v): late %v, on the late stream %v", tp.ID, ts[tp], late[tp], lateSeen[tp])
				}
			}
			// acked: late ones, and on-time ones whose last window has passed
			acked := map[*tuple.Tuple]bool{}
			for _, tp := range all {
				if late[tp] {
					acked[tp] = true
					continue
				}
				// the next window after the last evaluated one starts after it
				if len(want) > 0 && ts[tp].Before(want[len(want)-1].end.Add(slide).Add(-length)) {
					acked[tp] = true
				}
			}
			checkAcks(t, h.log, all, acked)
		})
	}
}

// TestCount_Model: count windows of random length and slide: the k-th
// window holds the last Length tuples at the k×Slide-th arrival, New and
// Expired are the differences with the one before, and a tuple is acked
// once it is in no window any more.
func TestCount_Model(t *testing.T) {
	for seed := uint64(1); seed <= 100; seed++ {
		rng := rand.New(rand.NewPCG(seed, 5))
		length := 1 + rng.IntN(20)
		slide := 1 + rng.IntN(length)
		h := newHarness(t, Config{Length: Count(length), Slide: Count(slide)})
		n := rng.IntN(200)
		var all []*tuple.Tuple
		for i := range n {
			all = append(all, h.send(fmt.Sprintf("t%03d", i), h.now))
		}
		var got []*Window
		for _, r := range h.log {
			if r.kind == "window" {
				got = append(got, r.win)
			}
		}
		if len(got) != n/slide {
			t.Fatalf("length %d slide %d, %d tuples: %d windows, want %d", length, slide, n, len(got), n/slide)
		}
		var prev []*tuple.Tuple
		for k, g := range got {
			end := (k + 1) * slide
			w := all[max(0, end-length):end]
			if ids(g.Tuples) != ids(w) {
				t.Fatalf("length %d slide %d: window %d %s, want %s", length, slide, k, ids(g.Tuples), ids(w))
			}
			var nw, ex []*tuple.Tuple
			for _, tp := range w {
				if !slices.Contains(prev, tp) {
					nw = append(nw, tp)
				}
			}
			for _, tp := range prev {
				if !slices.Contains(w, tp) {
					ex = append(ex, tp)
				}
			}
			if ids(g.New) != ids(nw) || ids(g.Expired) != ids(ex) {
				t.Fatalf("window %d: new %s expired %s; want %s and %s", k, ids(g.New), ids(g.Expired), ids(nw), ids(ex))
			}
			prev = w
		}
		acked := map[*tuple.Tuple]bool{}
		for i, tp := range all {
			if last := len(got) * slide; i < last-length {
				acked[tp] = true
			}
		}
		checkAcks(t, h.log, all, acked)
	}
}

// TestArrivalTime: time windows by arrival, on the fake clock: every
// slide, the tuples that arrived in the last length.
func TestArrivalTime(t *testing.T) {
	h := newHarness(t, Config{Length: Duration(3 * time.Second), Slide: Duration(time.Second)})
	var all []*tuple.Tuple
	for i := range 10 {
		all = append(all, h.send(fmt.Sprintf("t%d", i), h.now))
		h.now = h.now.Add(time.Second)
		h.e.onTimer()
	}
	var got []string
	for _, r := range h.log {
		if r.kind == "window" {
			got = append(got, ids(r.win.Tuples))
		}
	}
	// (now-length, now], as Storm: a tuple exactly length old has left
	want := []string{"t0", "t0,t1", "t1,t2", "t2,t3", "t3,t4", "t4,t5", "t5,t6", "t6,t7", "t7,t8", "t8,t9"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("windows %v, want %v", got, want)
	}
	acked := map[*tuple.Tuple]bool{}
	for _, tp := range all[:8] {
		acked[tp] = true
	}
	checkAcks(t, h.log, all, acked)
}

func TestConfig_Errors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "length"},
		{Config{Length: Count(5), Slide: Count(6)}, "longer than length"},
		{Config{Length: Count(5), TimestampField: "ts"}, "duration length"},
		{Config{Length: Duration(time.Second), Lag: time.Second}, "need a timestamp_field"},
		{Config{Length: Duration(time.Second), Slide: Count(3)}, ""},
	} {
		err := c.cfg.Validate()
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.cfg, err, c.want)
		}
	}
	// the message timeout must outlast the window
	b, _ := New(recorder{new([]record)}, Config{Length: Duration(time.Minute)})
	tc := &topology.TaskContext{Topology: &topology.Topology{Settings: topology.Settings{MessageTimeout: 30 * time.Second}}}
	if err := b.Prepare(context.Background(), tc, fakeOut{new([]record)}); err == nil || !strings.Contains(err.Error(), "message timeout") {
		t.Errorf("a 1-minute window with a 30 s message timeout: %v, want the timeout error", err)
	}
}

func TestTimestamp(t *testing.T) {
	ref := time.UnixMilli(1_700_000_000_123)
	for _, v := range []any{int64(1_700_000_000_123), 1_700_000_000_123.0, "2023-11-14T22:13:20.123Z", "1700000000123", ref} {
		if got, err := Timestamp(v); err != nil || !got.Equal(ref) {
			t.Errorf("Timestamp(%v): %v, %v", v, got, err)
		}
	}
	for _, v := range []any{"yesterday", nil, true, 1e300} {
		if _, err := Timestamp(v); err == nil {
			t.Errorf("Timestamp(%v): no error", v)
		}
	}
}
