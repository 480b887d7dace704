package rows

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistQuantiles(t *testing.T) {
	var h hist
	r := rand.New(rand.NewPCG(1, 2))
	var vals []float64
	for range 100000 {
		d := time.Duration(r.ExpFloat64() * float64(3*time.Millisecond))
		h.record(d)
		vals = append(vals, float64(d)/1e6)
	}
	slices.Sort(vals)
	snap := h.snapshot()
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := snap.quantile(q)
		if math.Abs(got-want)/want > 0.02 {
			t.Errorf("q%.2f = %.4f ms, exact %.4f ms: more than 2 %% off", q, got, want)
		}
	}
	if got, want := snap.max(), vals[len(vals)-1]; got < want || got > want*1.02 {
		t.Errorf("max = %.4f ms, exact %.4f ms", got, want)
	}
	// A window holds only what was recorded after its start.
	for range 10 {
		h.record(time.Second)
	}
	win := h.snapshot().since(snap)
	if win.count() != 10 || math.Abs(win.quantile(0.5)-1000)/1000 > 0.02 {
		t.Errorf("window: count %d, p50 %.1f ms; want 10 and about 1000", win.count(), win.quantile(0.5))
	}
	if !math.IsNaN(histSnap(make([]uint64, 10)).quantile(0.5)) {
		t.Error("the quantile of an empty window should be NaN")
	}
}

func TestHistBucketsAreMonotonic(t *testing.T) {
	prev := -1
	for _, ns := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<20 + 1, 1 << 40, 1 << 50} {
		b := histBucket(ns)
		if b < prev {
			t.Fatalf("bucket(%d) = %d < bucket of a smaller value (%d)", ns, b, prev)
		}
		if lo := histLow(b); float64(ns) < lo && ns < 1<<44 {
			t.Fatalf("%d lies below its bucket's low bound %v", ns, lo)
		}
		prev = b
	}
}

func TestLineRoundTrip(t *testing.T) {
	in := Result{Engine: "gale", Row: "wordcount", WindowS: 20, TuplesPerS: 500000.5, EmittedPerS: 500001,
		AckedPerS: 500000.5, FailedPerS: 0, ExecutedPerS: 3e6, P50Ms: 1.5, P90Ms: 2, P99Ms: 4.25, MaxMs: 9,
		CPUSeconds: 38.2, CPUSecPerMega: 3.82, PeakRSSMiB: math.NaN()}
	out, err := ParseLine(in.Line())
	if err != nil {
		t.Fatal(err)
	}
	if out.Engine != in.Engine || out.Row != in.Row || out.TuplesPerS != in.TuplesPerS ||
		out.P99Ms != in.P99Ms || out.CPUSecPerMega != in.CPUSecPerMega || !math.IsNaN(out.PeakRSSMiB) {
		t.Errorf("round trip:\n in  %+v\n out %+v", in, out)
	}
	// The Storm side prints more keys; they are ignored.
	storm := "RESULT storm row=const window_s=10.0 tuples_per_s=300000 emitted_per_s=300000 acked_per_s=- " +
		"failed_per_s=- bolt_executed_per_s=299000 p50_ms=- p90_ms=- p99_ms=- max_ms=- cpu_s=19.5 " +
		"cpu_s_per_m=6.5 peak_rss_mb=612.3 heap_max_mb=1024"
	s, err := ParseLine(storm)
	if err != nil {
		t.Fatal(err)
	}
	if s.Engine != "storm" || s.TuplesPerS != 300000 || !math.IsNaN(s.P99Ms) || s.PeakRSSMiB != 612.3 {
		t.Errorf("storm line parsed as %+v", s)
	}
	for _, bad := range []string{"", "RESULT gale", "RESULT gale tuples_per_s=1", "RESULT gale row=x p50_ms=fast", "RESULT gale row=x junk"} {
		if _, err := ParseLine(bad); err == nil {
			t.Errorf("ParseLine(%q) accepted", bad)
		}
	}
}

// TestRowsRun runs every row briefly and checks that each measures what it
// claims: tuples through, acks and latencies where acking is on, failures
// and replays in the failing row.
func TestRowsRun(t *testing.T) {
	for _, row := range All {
		t.Run(row.Name, func(t *testing.T) {
			res, err := Run(context.Background(), row, Options{Warmup: 100 * time.Millisecond, Measure: 400 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res.Line())
			if res.TuplesPerS <= 0 || res.EmittedPerS <= 0 || res.ExecutedPerS <= 0 {
				t.Fatalf("nothing flowed: %s", res.Line())
			}
			if res.CPUSeconds <= 0 || math.IsNaN(res.CPUSecPerMega) {
				t.Errorf("no CPU time measured: %s", res.Line())
			}
			if !row.Acked {
				if !math.IsNaN(res.P99Ms) || !math.IsNaN(res.AckedPerS) {
					t.Errorf("an unacked row reports acks or latency: %s", res.Line())
				}
				return
			}
			if math.IsNaN(res.P50Ms) || res.P50Ms <= 0 || res.P99Ms < res.P50Ms {
				t.Errorf("latency p50 %v p99 %v", res.P50Ms, res.P99Ms)
			}
			// Each sentence has 4 to 8 words, so count executes more than acked trees.
			if res.ExecutedPerS < 4*res.AckedPerS {
				t.Errorf("count executed %.0f/s for %.0f acked sentences/s", res.ExecutedPerS, res.AckedPerS)
			}
			if row.FailEvery > 0 && res.FailedPerS <= 0 {
				t.Errorf("the failing row failed nothing: %s", res.Line())
			}
			if row.FailEvery == 0 && res.FailedPerS != 0 {
				t.Errorf("the clean row failed trees: %s", res.Line())
			}
		})
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup of an unknown row succeeded")
	}
}
