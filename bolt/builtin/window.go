package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/bolt/window"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// WindowConfig configures the "window" bolt: a window (package
// bolt/window) and the aggregates it emits for each window, per group.
type WindowConfig struct {
	// Length and Slide: a number of tuples or a duration ("30s"); Slide
	// defaults to Length (tumbling).
	Length window.Spec `json:"length"`
	Slide  window.Spec `json:"slide"`
	// TimestampField makes the windows follow the tuples' event time
	// (Unix milliseconds, RFC 3339 or a time), with the watermark Lag
	// behind the highest timestamp seen, advanced every
	// WatermarkInterval (default 1s); tuples behind it go to LateStream.
	TimestampField    string            `json:"timestamp_field"`
	Lag               topology.Duration `json:"lag"`
	WatermarkInterval topology.Duration `json:"watermark_interval"`
	LateStream        string            `json:"late_stream"`
	// GroupBy, when set, emits one tuple per value of that field.
	GroupBy string `json:"group_by"`
	// Aggregates are the figures emitted (default: count).
	Aggregates []Aggregate `json:"aggregates"`
}

// Aggregate is one figure of a window: op count, sum, min, max or avg of
// Field, emitted as As (default "count", or op_field).
type Aggregate struct {
	Op    string `json:"op"`
	Field string `json:"field"`
	As    string `json:"as"`
}

// NewWindowConfig returns the defaults (no length: it must be given).
func NewWindowConfig() *WindowConfig { return &WindowConfig{} }

func (c *WindowConfig) window() window.Config {
	return window.Config{Length: c.Length, Slide: c.Slide, TimestampField: c.TimestampField, Lag: time.Duration(c.Lag),
		WatermarkInterval: time.Duration(c.WatermarkInterval), LateStream: c.LateStream}
}

func (c *WindowConfig) aggregates() []Aggregate {
	if len(c.Aggregates) == 0 {
		return []Aggregate{{Op: "count", As: "count"}}
	}
	out := slices.Clone(c.Aggregates)
	for i := range out {
		if out[i].As == "" {
			out[i].As = out[i].Op
			if out[i].Field != "" {
				out[i].As += "_" + out[i].Field
			}
		}
	}
	return out
}

// Validate checks the settings.
func (c *WindowConfig) Validate() error {
	wc := c.window()
	if err := wc.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	names := map[string]string{"window_start": "the window's start", "window_end": "the window's end"}
	if c.GroupBy != "" {
		names[c.GroupBy] = "group_by"
	}
	for i, a := range c.aggregates() {
		switch a.Op {
		case "count":
			if a.Field != "" {
				return fmt.Errorf("%w: aggregates[%d]: count takes no field", ErrInvalidConfig, i)
			}
		case "sum", "min", "max", "avg":
			if a.Field == "" {
				return fmt.Errorf("%w: aggregates[%d]: %s needs a field", ErrInvalidConfig, i, a.Op)
			}
		default:
			return fmt.Errorf("%w: aggregates[%d].op: want count, sum, min, max or avg, got %q", ErrInvalidConfig, i, a.Op)
		}
		if what, dup := names[a.As]; dup {
			return fmt.Errorf("%w: aggregates[%d]: output field %q is already %s (set \"as\")", ErrInvalidConfig, i, a.As, what)
		}
		names[a.As] = fmt.Sprintf("aggregates[%d]", i)
	}
	if c.LateStream == tuple.DefaultStream {
		return fmt.Errorf("%w: late_stream: %q carries the windows; name another stream", ErrInvalidConfig, c.LateStream)
	}
	return nil
}

// WindowType is the "window" bolt type.
func WindowType() registry.Bolt[WindowConfig] {
	return registry.Bolt[WindowConfig]{
		Name:   "window",
		Doc:    "aggregates tumbling or sliding windows (by count, arrival time or event time) into count/sum/min/max/avg per group; late tuples to a stream",
		Config: NewWindowConfig,
		Outputs: registry.Declare(func(c *WindowConfig, inputs []tuple.Fields) (topology.Streams, error) {
			for _, f := range []string{c.TimestampField, c.GroupBy} {
				if f != "" {
					if err := checkField(f, inputs); err != nil {
						return nil, err
					}
				}
			}
			out := tuple.Fields{"window_start", "window_end"}
			if c.GroupBy != "" {
				out = append(out, c.GroupBy)
			}
			for _, a := range c.aggregates() {
				if a.Field != "" {
					if err := checkField(a.Field, inputs); err != nil {
						return nil, err
					}
				}
				out = append(out, a.As)
			}
			streams := topology.Streams{tuple.DefaultStream: out}
			if c.LateStream != "" {
				// the late tuples as they came: every input must have the same fields
				for i, f := range inputs[1:] {
					if !slices.Equal(f, inputs[0]) {
						return nil, fmt.Errorf("late_stream: input %d has fields %v, input 0 %v: a late stream carries the inputs' "+
							"tuples as they are, so every input needs the same fields", i+1, f, inputs[0])
					}
				}
				if len(inputs) > 0 {
					streams[c.LateStream] = inputs[0]
				}
			}
			return streams, nil
		}),
		New: func(c *WindowConfig) (bolt.Bolt, error) {
			if err := c.Validate(); err != nil {
				return nil, err
			}
			return window.New(&windowAgg{cfg: *c, aggs: c.aggregates()}, c.window())
		},
	}
}

// windowAgg computes a window's aggregates per group.
type windowAgg struct {
	cfg  WindowConfig
	aggs []Aggregate
	out  bolt.Collector
}

func (w *windowAgg) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	w.out = out
	return nil
}

func (w *windowAgg) Cleanup() error { return nil }

// group is one group's tuples and running figures.
type group struct {
	key    string
	tuples []*tuple.Tuple
	count  []int64   // per aggregate: values seen
	sum    []float64 // per aggregate
	min    []float64
	max    []float64
}

// ExecuteWindow emits, per group (sorted by key), window_start and
// window_end (Unix milliseconds; 0 for a count window), the group's key
// and the aggregates, anchored to the group's tuples.
func (w *windowAgg) ExecuteWindow(_ context.Context, win *window.Window) error {
	groups := map[string]*group{}
	var order []string
	for _, t := range win.Tuples {
		key := ""
		if w.cfg.GroupBy != "" {
			v, err := fieldValue(t, w.cfg.GroupBy)
			if err != nil {
				w.out.ReportError(fmt.Errorf("window: %w", err))
				continue
			}
			key = tuple.AsString(v)
		}
		g := groups[key]
		if g == nil {
			n := len(w.aggs)
			g = &group{key: key, count: make([]int64, n), sum: make([]float64, n), min: make([]float64, n), max: make([]float64, n)}
			for i := range n {
				g.min[i], g.max[i] = math.Inf(1), math.Inf(-1)
			}
			groups[key] = g
			order = append(order, key)
		}
		g.tuples = append(g.tuples, t)
		for i, a := range w.aggs {
			if a.Op == "count" {
				g.count[i]++
				continue
			}
			v, err := fieldValue(t, a.Field)
			if err != nil {
				w.out.ReportError(fmt.Errorf("window: %w", err))
				continue
			}
			x, ok := number(v)
			if !ok {
				w.out.ReportError(fmt.Errorf("window: field %q: %v (%T) is not a number: left out of %s", a.Field, v, v, a.As))
				continue
			}
			g.count[i]++
			g.sum[i] += x
			g.min[i], g.max[i] = min(g.min[i], x), max(g.max[i], x)
		}
	}
	slices.Sort(order)
	var start, end int64
	if !win.End.IsZero() {
		start, end = win.Start.UnixMilli(), win.End.UnixMilli()
	}
	for _, key := range order {
		g := groups[key]
		vals := tuple.Values{start, end}
		if w.cfg.GroupBy != "" {
			vals = append(vals, key)
		}
		for i, a := range w.aggs {
			var v any
			switch a.Op {
			case "count":
				v = g.count[i]
			case "sum":
				v = g.sum[i]
			case "avg":
				v = nil
				if g.count[i] > 0 {
					v = g.sum[i] / float64(g.count[i])
				}
			case "min", "max":
				v = nil
				if g.count[i] > 0 {
					v = map[string]float64{"min": g.min[i], "max": g.max[i]}[a.Op]
				}
			}
			vals = append(vals, v)
		}
		w.out.EmitTo(tuple.DefaultStream, g.tuples, vals)
	}
	return nil
}

// number reads a numeric value: Go numbers, json.Number, numeric strings.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x)
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}
