// Package rows runs the rows of Gale's side-by-side benchmark against
// Apache Storm (issue: make bench-storm). Each row is a topology with the
// same shape, the same data and the same counting as its twin in
// bench/storm (Java, Storm's LocalCluster):
//
//	const           const spout -> no-op bolt, acking off
//	wordcount       sentence spout -> split x2 -> count x2 (fields), acking on,
//	                max spout pending 1000
//	wordcount-fail  the same, with the count bolts failing every 100th tuple
//	                they receive (the spout replays the whole sentence)
//
// A run warms up, then measures a window: the spout's emits, acks and fails
// and the last bolt's executions are counted by the components themselves
// (not by the engine's metrics), latency is the emit-to-ack time of each
// tree attempt as seen by the spout, CPU is the process's user+system time
// over the window and memory its peak resident set (VmHWM).
package rows

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/topology"
)

// Row is one benchmark topology.
type Row struct {
	Name  string
	Title string
	// Acked rows count acked trees as throughput; others spout emits.
	Acked bool
	// FailEvery > 0 makes the count bolts fail every FailEvery-th input.
	FailEvery int64
}

// All are the rows, in table order.
var All = []Row{
	{Name: "const", Title: "const spout -> no-op bolt, acking off"},
	{Name: "wordcount", Title: "word count, acking on, max spout pending 1000", Acked: true},
	{Name: "wordcount-fail", Title: "word count, acking on, 1 % of count tuples failed", Acked: true, FailEvery: 100},
}

// Lookup returns the row called name.
func Lookup(name string) (Row, error) {
	var names []string
	for _, r := range All {
		if r.Name == name {
			return r, nil
		}
		names = append(names, r.Name)
	}
	return Row{}, fmt.Errorf("unknown row %q (known: %s)", name, strings.Join(names, ", "))
}

// Options of one run.
type Options struct {
	Warmup  time.Duration
	Measure time.Duration
	// Pending is max spout pending for acked rows (default 1000).
	Pending int
}

// Result is what a run measured. Its fields are those of a RESULT line
// (see Line); NaN stands for "does not apply".
type Result struct {
	Engine        string  `json:"engine"`
	Row           string  `json:"row"`
	WindowS       float64 `json:"window_s"`
	TuplesPerS    float64 `json:"tuples_per_s"`
	EmittedPerS   float64 `json:"emitted_per_s"`
	AckedPerS     float64 `json:"acked_per_s"`
	FailedPerS    float64 `json:"failed_per_s"`
	ExecutedPerS  float64 `json:"bolt_executed_per_s"`
	P50Ms         float64 `json:"p50_ms"`
	P90Ms         float64 `json:"p90_ms"`
	P99Ms         float64 `json:"p99_ms"`
	MaxMs         float64 `json:"max_ms"`
	CPUSeconds    float64 `json:"cpu_s"`
	CPUSecPerMega float64 `json:"cpu_s_per_m"`
	PeakRSSMiB    float64 `json:"peak_rss_mb"`
}

// lineKeys are the RESULT line's keys, in order, with the field each names.
func (r *Result) fields() []struct {
	key string
	v   *float64
} {
	return []struct {
		key string
		v   *float64
	}{
		{"window_s", &r.WindowS}, {"tuples_per_s", &r.TuplesPerS},
		{"emitted_per_s", &r.EmittedPerS}, {"acked_per_s", &r.AckedPerS},
		{"failed_per_s", &r.FailedPerS}, {"bolt_executed_per_s", &r.ExecutedPerS},
		{"p50_ms", &r.P50Ms}, {"p90_ms", &r.P90Ms}, {"p99_ms", &r.P99Ms}, {"max_ms", &r.MaxMs},
		{"cpu_s", &r.CPUSeconds}, {"cpu_s_per_m", &r.CPUSecPerMega}, {"peak_rss_mb", &r.PeakRSSMiB},
	}
}

// Line formats r as the one-line report both sides print:
//
//	RESULT gale row=wordcount window_s=20.0 tuples_per_s=... p99_ms=... cpu_s=... peak_rss_mb=...
func (r *Result) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "RESULT %s row=%s", r.Engine, r.Row)
	for _, f := range r.fields() {
		v := "-"
		if !math.IsNaN(*f.v) {
			v = strconv.FormatFloat(*f.v, 'f', 3, 64)
		}
		fmt.Fprintf(&b, " %s=%s", f.key, v)
	}
	return b.String()
}

// ParseLine reads a RESULT line of either side. Unknown keys are ignored
// (the Storm side prints a few more); missing or "-" values are NaN.
func ParseLine(line string) (Result, error) {
	parts := strings.Fields(line)
	if len(parts) < 3 || parts[0] != "RESULT" {
		return Result{}, fmt.Errorf("not a RESULT line: %q", line)
	}
	kv := map[string]string{}
	for _, p := range parts[2:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return Result{}, fmt.Errorf("RESULT line: %q is not key=value", p)
		}
		kv[k] = v
	}
	r := Result{Engine: parts[1], Row: kv["row"]}
	if r.Row == "" {
		return Result{}, fmt.Errorf("RESULT line without row=: %q", line)
	}
	for _, f := range r.fields() {
		*f.v = math.NaN()
		s, ok := kv[f.key]
		if !ok || s == "-" || s == "NaN" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return Result{}, fmt.Errorf("RESULT line: %s=%q: %w", f.key, s, err)
		}
		*f.v = v
	}
	return r, nil
}

// snapshot is the counters and the process's CPU time at one moment.
type snapshot struct {
	at                        time.Time
	emitted, acked, failed, x int64
	lat                       histSnap
	cpu                       time.Duration
}

func (c *counters) snapshot() snapshot {
	return snapshot{
		at: time.Now(), emitted: c.emitted.Load(), acked: c.acked.Load(),
		failed: c.failed.Load(), x: c.executed(), lat: c.latency.snapshot(), cpu: processCPU(),
	}
}

// Topology returns the row's topology (the same shape as bench/storm's).
func (row Row) Topology(pending int) *topology.Builder {
	b := topology.NewBuilder("bench-" + row.Name)
	if row.Name == "const" {
		b.SetConfig(topology.ConfigAckers, 0)
		b.Spout("spout", "const", 1)
		b.Bolt("noop", "noop", 1).ShuffleGrouping("spout")
		return b
	}
	spoutType := "sentences-unreliable"
	if row.Acked {
		spoutType = "sentences"
		b.SetConfig(topology.ConfigAckers, 1).SetConfig(topology.ConfigMaxSpoutPending, pending)
	} else {
		b.SetConfig(topology.ConfigAckers, 0)
	}
	b.Spout("spout", spoutType, 1)
	b.Bolt("split", "split", 2).ShuffleGrouping("spout")
	b.Bolt("count", "count", 2).FieldsGrouping("split", "word")
	return b
}

// Run runs row: warm-up, then the measured window, then a stop.
func Run(ctx context.Context, row Row, opts Options) (Result, error) {
	if opts.Pending <= 0 {
		opts.Pending = 1000
	}
	if opts.Measure <= 0 {
		return Result{}, errors.New("rows: the measured window must be positive")
	}
	c := &counters{start: time.Now()}
	reg := registryFor(c, row.FailEvery)
	topo, err := row.Topology(opts.Pending).Build(reg)
	if err != nil {
		return Result{}, err
	}
	rt, err := local.New(topo, local.Options{DrainTimeout: 5 * time.Second})
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()

	wait := func(d time.Duration) error {
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("the topology stopped early")
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	if err := wait(opts.Warmup); err != nil {
		return Result{}, err
	}
	s0 := c.snapshot()
	if err := wait(opts.Measure); err != nil {
		return Result{}, err
	}
	s1 := c.snapshot()
	rss := peakRSSMiB()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	return result(row, s0, s1, rss), nil
}

func result(row Row, s0, s1 snapshot, rss float64) Result {
	secs := s1.at.Sub(s0.at).Seconds()
	rate := func(a, b int64) float64 { return float64(b-a) / secs }
	r := Result{
		Engine: "gale", Row: row.Name, WindowS: secs,
		EmittedPerS: rate(s0.emitted, s1.emitted), AckedPerS: rate(s0.acked, s1.acked),
		FailedPerS: rate(s0.failed, s1.failed), ExecutedPerS: rate(s0.x, s1.x),
		CPUSeconds: (s1.cpu - s0.cpu).Seconds(), PeakRSSMiB: rss,
		P50Ms: math.NaN(), P90Ms: math.NaN(), P99Ms: math.NaN(), MaxMs: math.NaN(),
	}
	r.TuplesPerS = r.EmittedPerS
	if row.Acked {
		r.TuplesPerS = r.AckedPerS
		lat := s1.lat.since(s0.lat)
		r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs = lat.quantile(0.50), lat.quantile(0.90), lat.quantile(0.99), lat.max()
	} else {
		r.AckedPerS, r.FailedPerS = math.NaN(), math.NaN()
	}
	r.CPUSecPerMega = math.NaN()
	if n := r.TuplesPerS * secs; n > 0 {
		r.CPUSecPerMega = r.CPUSeconds / n * 1e6
	}
	return r
}

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMiB reads the peak resident set size (VmHWM) of this process from
// /proc/self/status, the same source the Storm side reads; NaN elsewhere.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) > 0 {
				if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
					return kb / 1024
				}
			}
		}
	}
	return math.NaN()
}
