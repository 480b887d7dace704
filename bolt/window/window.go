// Package window runs a bolt over windows of tuples, as Storm's windowed
// bolts (BaseWindowedBolt) do: tumbling or sliding windows by count or
// by time; time is the tuples' arrival here, or their own timestamps
// (event time) with a watermark that trails the highest timestamp seen by
// an allowed lag, and a late-tuple stream for the tuples that come behind
// it.
//
// A window's tuples are acked when they leave the last window that holds
// them (Storm's rule): until then their trees are pending, so the
// topology's message timeout must exceed the window's length plus its
// slide (Prepare checks it). Emit from ExecuteWindow anchored to the
// window's tuples (out.EmitTo(stream, w.Tuples, values)) so that a
// failure downstream replays them.
//
//	b, err := window.New(myBolt, window.Config{Length: window.Duration(time.Minute), Slide: window.Duration(10 * time.Second),
//		TimestampField: "ts", Lag: 5 * time.Second, LateStream: "late"})
//
// Windows are evaluated in order and never twice: by count, every Slide
// tuples over the last Length tuples; by time (arrival), every Slide over
// the tuples of the last Length; by event time, for every window
// [end-Length, end) with end a multiple of Slide (from the Unix epoch)
// that holds a tuple, once the watermark reaches end. A tuple whose
// timestamp is behind the watermark is late: it goes to LateStream (its
// own values, anchored to it) and is acked, or, without a LateStream, is
// acked and counted (the task's "window_late" metric).
package window

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Spec is a window's length or its slide: a number of tuples or a
// duration (exactly one is set). In JSON: a number (tuples) or a duration
// string ("30s").
type Spec struct {
	Count    int
	Duration time.Duration
}

// Count is a Spec of n tuples.
func Count(n int) Spec { return Spec{Count: n} }

// Duration is a Spec of d.
func Duration(d time.Duration) Spec { return Spec{Duration: d} }

// IsZero reports whether s is unset.
func (s Spec) IsZero() bool { return s.Count == 0 && s.Duration == 0 }

func (s Spec) String() string {
	if s.Count > 0 {
		return strconv.Itoa(s.Count) + " tuples"
	}
	return s.Duration.String()
}

// UnmarshalJSON reads a number of tuples or a duration string.
func (s *Spec) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		c, err := strconv.Atoi(n.String())
		if err != nil || c < 1 {
			return fmt.Errorf("%s: want a whole number of tuples of at least 1, or a duration such as \"30s\"", n)
		}
		*s = Spec{Count: c}
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("want a number of tuples or a duration such as \"30s\"")
	}
	d, err := time.ParseDuration(str)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q: want a positive duration such as \"30s\", or a number of tuples", str)
	}
	*s = Spec{Duration: d}
	return nil
}

// MarshalJSON writes a number or a duration string.
func (s Spec) MarshalJSON() ([]byte, error) {
	if s.Count > 0 {
		return json.Marshal(s.Count)
	}
	return json.Marshal(s.Duration.String())
}

// Config is a window's shape.
type Config struct {
	// Length is the window's length; Slide how far it moves between two
	// evaluations (zero: Length, a tumbling window).
	Length, Slide Spec
	// TimestampField, when set, names the field holding each tuple's
	// event time (see Timestamp); windows then follow the watermark. Both
	// Length and Slide must then be durations.
	TimestampField string
	// Lag is how far behind the highest timestamp seen the watermark stays
	// (the out-of-orderness allowed; Storm's withLag).
	Lag time.Duration
	// WatermarkInterval is how often the watermark advances (default 1 s).
	WatermarkInterval time.Duration
	// LateStream, when set, receives the tuples that came behind the
	// watermark (declare it with the inputs' fields).
	LateStream string
}

// ErrConfig is returned for a window that cannot be built.
var ErrConfig = errors.New("window")

// Validate checks the config.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	switch {
	case c.Length.IsZero():
		return bad("length: want a number of tuples or a duration")
	case c.Length.Count < 0 || c.Length.Duration < 0 || c.Slide.Count < 0 || c.Slide.Duration < 0:
		return bad("length and slide must be positive")
	case c.Length.Count > 0 && c.Length.Duration > 0, c.Slide.Count > 0 && c.Slide.Duration > 0:
		return bad("a length or slide is a count or a duration, not both")
	case c.Lag < 0 || c.WatermarkInterval < 0:
		return bad("lag and watermark_interval must not be negative")
	}
	slide := c.slide()
	if slide.Count > c.Length.Count && c.Length.Count > 0 && slide.Count > 0 ||
		slide.Duration > c.Length.Duration && c.Length.Duration > 0 && slide.Duration > 0 {
		return bad("slide %v is longer than length %v: tuples between two windows would be in none", slide, c.Length)
	}
	if c.TimestampField != "" && (c.Length.Duration == 0 || slide.Duration == 0) {
		return bad("timestamp_field %q: event-time windows need a duration length and slide", c.TimestampField)
	}
	if c.TimestampField == "" && (c.Lag != 0 || c.LateStream != "") {
		return bad("lag and late_stream need a timestamp_field (event time)")
	}
	return nil
}

func (c *Config) slide() Spec {
	if c.Slide.IsZero() {
		return c.Length
	}
	return c.Slide
}

// Window is one evaluation of the window.
type Window struct {
	// Tuples are the window's tuples, in arrival order (by count or
	// arrival time) or by timestamp (event time).
	Tuples []*tuple.Tuple
	// New arrived since the previous window; Expired were in the previous
	// window and are not in this one (they are acked after this call).
	New, Expired []*tuple.Tuple
	// Start and End bound a time window: [Start, End). Zero for a count
	// window.
	Start, End time.Time
}

// Bolt is a windowed bolt's code.
type Bolt interface {
	// Prepare readies the bolt. out stays valid until Cleanup returns.
	Prepare(ctx context.Context, tc *topology.TaskContext, out bolt.Collector) error
	// ExecuteWindow processes one window. It may emit (anchored to
	// w.Tuples) but must not ack or fail the window's tuples: the window
	// does, when they expire.
	ExecuteWindow(ctx context.Context, w *Window) error
	// Cleanup releases resources; called once when the task stops.
	Cleanup() error
}

// New returns the bolt.Bolt that runs b over windows of cfg.
func New(b Bolt, cfg Config) (bolt.Bolt, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.WatermarkInterval == 0 {
		cfg.WatermarkInterval = time.Second
	}
	return &executor{b: b, cfg: cfg, slide: cfg.slide(), now: time.Now}, nil
}

// entry is a tuple held by the window.
type entry struct {
	t  *tuple.Tuple
	at time.Time // arrival time, or event time
	n  uint64    // arrival number, from 1
}

// executor is the bolt.Bolt around a windowed Bolt.
type executor struct {
	b     Bolt
	cfg   Config
	slide Spec
	now   func() time.Time
	out   bolt.Collector
	tc    *topology.TaskContext

	mu       sync.Mutex // guards the fields below; the timer goroutine runs windows too
	ctx      context.Context
	held     []entry // in arrival order (count, arrival time) or by time (event time)
	arrived  uint64  // tuples so far
	sinceEv  int     // tuples since the last evaluation (count slide)
	prev     map[*tuple.Tuple]bool
	maxTs    time.Time
	mark     time.Time // the watermark
	lastEnd  time.Time // end of the last event-time window evaluated
	nextEval time.Time // next arrival-time evaluation (duration slide), or watermark
	late     uint64

	stop    chan struct{}
	done    chan struct{}
	noTimer bool // tests call onTimer themselves
}

// Prepare checks the message timeout, prepares b and starts the timer.
func (e *executor) Prepare(ctx context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	e.out, e.tc, e.ctx = out, tc, ctx
	if tc != nil && tc.Topology != nil {
		need, what := e.cfg.Length.Duration+e.slide.Duration, fmt.Sprintf("length %v + slide %v", e.cfg.Length, e.slide)
		if e.cfg.TimestampField != "" {
			need += e.cfg.Lag + e.cfg.WatermarkInterval
			what += fmt.Sprintf(" + lag %v + watermark interval %v", e.cfg.Lag, e.cfg.WatermarkInterval)
		}
		if to := tc.Topology.Settings.MessageTimeout; need > 0 && to > 0 && to <= need {
			return fmt.Errorf("%w: %s = %v, not less than the message timeout (topology.message.timeout.secs) %v: "+
				"the window's tuples would time out before it acks them", ErrConfig, what, need, to)
		}
	}
	if err := e.b.Prepare(ctx, tc, out); err != nil {
		return err
	}
	e.prev = map[*tuple.Tuple]bool{}
	every := e.slide.Duration
	if e.cfg.TimestampField != "" {
		every = e.cfg.WatermarkInterval
	}
	e.nextEval = e.now().Add(every)
	if every > 0 && !e.noTimer {
		e.stop, e.done = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(e.done)
			tick := time.NewTicker(min(every, 100*time.Millisecond))
			defer tick.Stop()
			for {
				select {
				case <-e.stop:
					return
				case <-tick.C:
					e.onTimer()
				}
			}
		}()
	}
	return nil
}

// Cleanup stops the timer and cleans b up; the tuples still held are
// neither acked nor failed (they time out and replay).
func (e *executor) Cleanup() error {
	if e.stop != nil {
		close(e.stop)
		<-e.done
	}
	return e.b.Cleanup()
}

// Execute adds t to the window (or sends it to the late stream).
func (e *executor) Execute(ctx context.Context, t *tuple.Tuple) error {
	if t.IsTick() {
		e.out.Ack(t)
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.arrived++
	ent := entry{t: t, at: e.now(), n: e.arrived}
	if f := e.cfg.TimestampField; f != "" {
		i := t.Fields.Index(f)
		if i < 0 || i >= len(t.Values) {
			e.out.ReportError(fmt.Errorf("window: tuple from %s/%s has no field %q: failed", t.Component, t.Stream, f))
			e.out.Fail(t)
			return nil
		}
		ts, err := Timestamp(t.Values[i])
		if err != nil {
			e.out.ReportError(fmt.Errorf("window: field %q: %w: acked without being windowed", f, err))
			e.out.Ack(t)
			return nil
		}
		if !e.mark.IsZero() && ts.Before(e.mark) {
			e.onLate(t)
			return nil
		}
		ent.at = ts
		if ts.After(e.maxTs) {
			e.maxTs = ts
		}
		// by time: insert in order (mostly at the end)
		i = len(e.held)
		for i > 0 && e.held[i-1].at.After(ts) {
			i--
		}
		e.held = slices.Insert(e.held, i, ent)
		return nil
	}
	e.held = append(e.held, ent)
	e.sinceEv++
	if e.slide.Count > 0 && e.sinceEv >= e.slide.Count {
		e.sinceEv = 0
		return e.evaluate(e.now())
	}
	return nil
}

func (e *executor) onLate(t *tuple.Tuple) {
	e.late++
	e.tc.RecordMetric("window_late", 1)
	if e.cfg.LateStream != "" {
		e.out.EmitTo(e.cfg.LateStream, []*tuple.Tuple{t}, t.Values)
	}
	e.out.Ack(t)
}

// onTimer evaluates arrival-time windows whose slide elapsed, or
// advances the watermark and evaluates the event-time windows behind it.
func (e *executor) onTimer() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	var err error
	switch {
	case e.cfg.TimestampField != "" && !now.Before(e.nextEval):
		e.nextEval = now.Add(e.cfg.WatermarkInterval)
		err = e.advance(e.maxTs.Add(-e.cfg.Lag))
	case e.slide.Duration > 0:
		// at the scheduled times, not when the timer fired: consecutive
		// windows then leave no gap between them
		var errs []error
		for !now.Before(e.nextEval) {
			errs = append(errs, e.evaluate(e.nextEval))
			e.nextEval = e.nextEval.Add(e.slide.Duration)
		}
		err = errors.Join(errs...)
	}
	if err != nil {
		e.out.ReportError(err)
	}
}

// evaluate runs one window over the last Length (count or time up to now)
// of the held tuples, in arrival order, and acks those that left it.
func (e *executor) evaluate(now time.Time) error {
	// the tuples that arrived by now (the later ones are for the next window)
	upto := len(e.held)
	for upto > 0 && e.held[upto-1].at.After(now) {
		upto--
	}
	later := slices.Clone(e.held[upto:])
	e.held = e.held[:upto]
	defer func() { e.held = append(e.held, later...) }()
	keep := len(e.held)
	if n := e.cfg.Length.Count; n > 0 {
		keep = min(keep, n)
	}
	if d := e.cfg.Length.Duration; d > 0 {
		keep = min(keep, countAfter(e.held, now.Add(-d)))
	}
	gone := e.held[:len(e.held)-keep]
	win := &Window{}
	for _, en := range e.held[len(e.held)-keep:] {
		win.Tuples = append(win.Tuples, en.t)
	}
	if e.cfg.Length.Duration > 0 {
		win.Start, win.End = now.Add(-e.cfg.Length.Duration), now
	}
	err := e.run(win, gone)
	e.held = slices.Delete(e.held, 0, len(gone))
	return err
}

// countAfter counts the entries (in arrival order) that arrived after t.
func countAfter(es []entry, t time.Time) int {
	n := 0
	for i := len(es) - 1; i >= 0 && es[i].at.After(t); i-- {
		n++
	}
	return n
}

// run calls ExecuteWindow with New and Expired filled in (from the
// previous window) and acks gone, the tuples no later window holds.
func (e *executor) run(win *Window, gone []entry) error {
	now := make(map[*tuple.Tuple]bool, len(win.Tuples))
	for _, t := range win.Tuples {
		now[t] = true
		if !e.prev[t] {
			win.New = append(win.New, t)
		}
	}
	for t := range e.prev {
		if !now[t] {
			win.Expired = append(win.Expired, t)
		}
	}
	slices.SortFunc(win.Expired, func(a, b *tuple.Tuple) int { return strings.Compare(a.ID, b.ID) })
	e.prev = now
	var err error
	if len(win.Tuples) > 0 {
		err = e.call(win)
	}
	for _, en := range gone {
		e.out.Ack(en.t)
	}
	return err
}

// call runs ExecuteWindow, turning a panic into an error.
func (e *executor) call(win *Window) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("window: ExecuteWindow panicked: %v", p)
		}
	}()
	return e.b.ExecuteWindow(e.ctx, win)
}

// advance moves the watermark to mark and evaluates every event-time
// window that ends at or before it, in order, acking the tuples no
// later window can hold.
func (e *executor) advance(mark time.Time) error {
	if e.maxTs.IsZero() || !mark.After(e.mark) {
		return nil
	}
	e.mark = mark
	length, slide := e.cfg.Length.Duration, e.slide.Duration
	var errs []error
	for len(e.held) > 0 {
		// the first window end after the last one evaluated that holds
		// the earliest tuple still held
		first := e.held[0].at
		end := alignUp(first, slide)
		if !first.Before(end) {
			end = end.Add(slide)
		}
		if !e.lastEnd.IsZero() && !end.After(e.lastEnd) {
			end = e.lastEnd.Add(slide)
		}
		if end.After(mark) {
			break
		}
		start := end.Add(-length)
		win := &Window{Start: start, End: end}
		for _, en := range e.held {
			if !en.at.Before(end) {
				break
			}
			if !en.at.Before(start) {
				win.Tuples = append(win.Tuples, en.t)
			}
		}
		// the tuples no later window holds: before the next window's start
		nextStart := end.Add(slide).Add(-length)
		i := 0
		for i < len(e.held) && e.held[i].at.Before(nextStart) {
			i++
		}
		gone := slices.Clone(e.held[:i])
		if err := e.run(win, gone); err != nil {
			errs = append(errs, err)
		}
		e.held = slices.Delete(e.held, 0, i)
		e.lastEnd = end
	}
	return errors.Join(errs...)
}

// alignUp is the first multiple of d (from the Unix epoch) at or after t.
func alignUp(t time.Time, d time.Duration) time.Time {
	n := t.UnixNano()
	r := n % int64(d)
	if r < 0 {
		r += int64(d)
	}
	if r == 0 {
		return t
	}
	return time.Unix(0, n-r+int64(d)).In(t.Location())
}

// Timestamp reads an event time: a time.Time, Unix milliseconds (any
// integer or a float), or an RFC 3339 string.
func Timestamp(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case int64:
		return time.UnixMilli(x), nil
	case int:
		return time.UnixMilli(int64(x)), nil
	case uint64:
		if x > math.MaxInt64 {
			break
		}
		return time.UnixMilli(int64(x)), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e15 {
			break
		}
		return time.UnixMilli(int64(x)), nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return time.UnixMilli(n), nil
		}
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t, nil
		}
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return time.UnixMilli(n), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %v (%T): want Unix milliseconds, an RFC 3339 string or a time", v, v)
}
