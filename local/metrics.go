package local

import (
	"math"

	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// monoBase anchors mono.
var monoBase = time.Now()

// mono is a monotonic clock in nanoseconds: the engine's timeouts and
// latencies must not move when the machine's wall clock jumps.
func mono() int64 { return int64(time.Since(monoBase)) }

// sampleMask selects the tuples whose latencies are measured: one in 16,
// as Storm samples a fraction, so that timing costs stay off the hot path.
const sampleMask = 15

// taskMetrics are the live counters of one task. Counters are cumulative
// since the task started; readers take a Snapshot.
type taskMetrics struct {
	Emitted     atomic.Uint64 // tuples emitted (one per emit call)
	Transferred atomic.Uint64 // tuples delivered to tasks (fan-out counted)
	Acked       atomic.Uint64 // bolts: inputs acked; spouts: trees completed
	Failed      atomic.Uint64 // bolts: inputs failed; spouts: trees failed or timed out
	TimedOut    atomic.Uint64 // spouts: trees that timed out
	Executed    atomic.Uint64 // bolts: tuples executed
	Errors      atomic.Uint64 // errors reported (including panics)
	Panics      atomic.Uint64 // panics recovered in Execute/NextTuple
	// spouts: nanoseconds the task's loop worked (everything but its
	// waits), and waited with max spout pending full
	Busy      atomic.Uint64
	Throttled atomic.Uint64

	exec     histogram // bolts: Execute duration (sampled)
	process  histogram // bolts: receipt to ack (sampled)
	complete histogram // spouts: emit to tree completion (sampled)

	mu         sync.Mutex // guards the fields below
	errs       []ErrorRecord
	logWindow  time.Time // start of the current one-second log window
	logged     int       // errors logged in the window
	suppressed int       // errors not logged in the window
	custom     map[string]float64
}

// maxLoggedPerSecond caps the errors a task logs per second: a component
// that fails every tuple must not flood the log (all are still counted and
// the last ones kept).
const maxLoggedPerSecond = 5

// ErrorRecord is an error reported by a task.
type ErrorRecord struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

const keepErrors = 10

// addError records err; it reports whether to log it, and how many errors
// went unlogged in the previous window.
func (m *taskMetrics) addError(err error) (log bool, suppressed int) {
	m.Errors.Add(1)
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.errs) == keepErrors {
		copy(m.errs, m.errs[1:])
		m.errs = m.errs[:keepErrors-1]
	}
	m.errs = append(m.errs, ErrorRecord{Time: now, Message: err.Error()})
	if now.Sub(m.logWindow) >= time.Second {
		suppressed = m.suppressed
		m.logWindow, m.logged, m.suppressed = now, 0, 0
	}
	if m.logged >= maxLoggedPerSecond {
		m.suppressed++
		return false, 0
	}
	m.logged++
	return true, suppressed
}

// AddCustom adds v to the custom metric name.
func (m *taskMetrics) AddCustom(name string, v float64) {
	m.mu.Lock()
	if m.custom == nil {
		m.custom = map[string]float64{}
	}
	m.custom[name] += v
	m.mu.Unlock()
}

func (m *taskMetrics) customCopy() map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.custom) == 0 {
		return nil
	}
	out := make(map[string]float64, len(m.custom))
	for k, v := range m.custom {
		out[k] = v
	}
	return out
}

// LastErrors returns the most recent errors, oldest first.
func (m *taskMetrics) LastErrors() []ErrorRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]ErrorRecord(nil), m.errs...)
}

// histogram records durations in logarithmic buckets (four per power of
// two, so a percentile read from it is within about 19 % of the truth).
// It is safe for concurrent use.
type histogram struct {
	count   atomic.Uint64
	sum     atomic.Uint64 // nanoseconds
	buckets [histBuckets]atomic.Uint64
}

const histBuckets = 64 * 4

func bucketOf(ns uint64) int {
	if ns < 4 {
		return int(ns)
	}
	n := bits.Len64(ns) - 1         // ns in [2^n, 2^(n+1))
	sub := int((ns >> (n - 2)) & 3) // next two bits
	return n*4 + sub
}

func bucketLow(i int) float64 {
	if i < 4 {
		return float64(i)
	}
	n, sub := i/4, i%4
	return math.Ldexp(1+float64(sub)/4, n)
}

// Record adds one duration.
func (h *histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	ns := uint64(d)
	h.count.Add(1)
	h.sum.Add(ns)
	h.buckets[bucketOf(ns)].Add(1)
}

// Count returns the number of recorded durations.
func (h *histogram) Count() uint64 { return h.count.Load() }

// Mean returns the mean duration, or 0.
func (h *histogram) Mean() time.Duration {
	c := h.count.Load()
	if c == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / c)
}

// Quantile returns an estimate of the q-quantile (0 < q ≤ 1), or 0.
func (h *histogram) Quantile(q float64) time.Duration {
	var counts [histBuckets]uint64
	var total uint64
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank && c > 0 {
			// the middle of the bucket
			lo, hi := bucketLow(i), bucketLow(i+1)
			return time.Duration((lo + hi) / 2)
		}
	}
	return 0
}

// TaskStats is a snapshot of one task's metrics.
type TaskStats struct {
	Component   string        `json:"component"`
	Kind        string        `json:"kind"`
	Task        int           `json:"task"`
	Worker      string        `json:"worker,omitempty"`
	Emitted     uint64        `json:"emitted"`
	Transferred uint64        `json:"transferred"`
	Acked       uint64        `json:"acked"`
	Failed      uint64        `json:"failed"`
	TimedOut    uint64        `json:"timed_out,omitempty"`
	Executed    uint64        `json:"executed"`
	Errors      uint64        `json:"errors"`
	Panics      uint64        `json:"panics"`
	Pending     int64         `json:"pending,omitempty"`   // spouts: trees in flight
	QueueLen    int           `json:"queue_len,omitempty"` // bolts: tuples waiting
	ExecuteLat  time.Duration `json:"execute_latency_ns"`  // mean, sampled
	ProcessLat  time.Duration `json:"process_latency_ns"`  // mean, sampled
	CompleteLat time.Duration `json:"complete_latency_ns"` // mean, sampled
	CompleteP50 time.Duration `json:"complete_p50_ns"`     // spouts
	CompleteP99 time.Duration `json:"complete_p99_ns"`     // spouts
	BusyNanos   uint64        `json:"busy_ns"`             // bolts: estimated time spent in Execute; spouts: time not waiting
	// ThrottledNanos is, for spouts, the time spent waiting with max spout
	// pending full (the topology downstream is the bottleneck).
	ThrottledNanos uint64 `json:"throttled_ns,omitempty"`
	// The sampled latencies' counts and sums, for means over a window.
	ExecuteSamples  uint64        `json:"execute_samples,omitempty"`
	ExecuteSum      time.Duration `json:"execute_sum_ns,omitempty"`
	ProcessSamples  uint64        `json:"process_samples,omitempty"`
	ProcessSum      time.Duration `json:"process_sum_ns,omitempty"`
	CompleteSamples uint64        `json:"complete_samples,omitempty"`
	CompleteSum     time.Duration `json:"complete_sum_ns,omitempty"`
	LastErrors      []ErrorRecord `json:"last_errors,omitempty"`
	// Status is what the spout or bolt reports itself (a Kafka spout's
	// partitions, a sink's writes), when it is a StatusReporter.
	Status *TaskStatus `json:"status,omitempty"`
	// Custom are the task's own metrics (TaskContext.RecordMetric, and the
	// multilang "metrics" command), summed.
	Custom map[string]float64 `json:"custom,omitempty"`
}

func (m *taskMetrics) snapshot(ts *TaskStats) {
	ts.Emitted = m.Emitted.Load()
	ts.Transferred = m.Transferred.Load()
	ts.Acked = m.Acked.Load()
	ts.Failed = m.Failed.Load()
	ts.TimedOut = m.TimedOut.Load()
	ts.Executed = m.Executed.Load()
	ts.Errors = m.Errors.Load()
	ts.Panics = m.Panics.Load()
	ts.ExecuteLat = m.exec.Mean()
	ts.ProcessLat = m.process.Mean()
	ts.CompleteLat = m.complete.Mean()
	ts.CompleteP50 = m.complete.Quantile(0.50)
	ts.CompleteP99 = m.complete.Quantile(0.99)
	ts.ExecuteSamples, ts.ExecuteSum = m.exec.count.Load(), time.Duration(m.exec.sum.Load())
	ts.ProcessSamples, ts.ProcessSum = m.process.count.Load(), time.Duration(m.process.sum.Load())
	ts.CompleteSamples, ts.CompleteSum = m.complete.count.Load(), time.Duration(m.complete.sum.Load())
	ts.BusyNanos, ts.ThrottledNanos = m.Busy.Load(), m.Throttled.Load()
	if ts.ExecuteSamples > 0 {
		// the sampled time scaled to every executed tuple
		ts.BusyNanos = uint64(float64(ts.ExecuteSum) * float64(ts.Executed) / float64(ts.ExecuteSamples))
	}
	ts.LastErrors = m.LastErrors()
	ts.Custom = m.customCopy()
}

// ComponentStats sums the tasks of one component.
type ComponentStats struct {
	Component   string             `json:"component"`
	Kind        string             `json:"kind"`
	Type        string             `json:"type"`
	Tasks       int                `json:"tasks"`
	Emitted     uint64             `json:"emitted"`
	Transferred uint64             `json:"transferred"`
	Acked       uint64             `json:"acked"`
	Failed      uint64             `json:"failed"`
	TimedOut    uint64             `json:"timed_out,omitempty"`
	Executed    uint64             `json:"executed"`
	Errors      uint64             `json:"errors"`
	Panics      uint64             `json:"panics"`
	Pending     int64              `json:"pending,omitempty"`
	ExecuteLat  time.Duration      `json:"execute_latency_ns"`
	ProcessLat  time.Duration      `json:"process_latency_ns"`
	CompleteLat time.Duration      `json:"complete_latency_ns"`
	CompleteP50 time.Duration      `json:"complete_p50_ns"`
	CompleteP99 time.Duration      `json:"complete_p99_ns"`
	BusyNanos   uint64             `json:"busy_ns"`
	LastErrors  []ErrorRecord      `json:"last_errors,omitempty"`
	Custom      map[string]float64 `json:"custom,omitempty"`
}

// Stats is a snapshot of a running topology's metrics.
type Stats struct {
	Topology string        `json:"topology"`
	Uptime   time.Duration `json:"uptime_ns"`
	// Started is when the runtime started (zero before): a new value means
	// the tasks' counters started again from zero.
	Started    time.Time        `json:"started,omitempty"`
	Components []ComponentStats `json:"components"`
	Tasks      []TaskStats      `json:"tasks"`
}

// Component returns the stats of the component id (zero value if none).
func (s Stats) Component(id string) ComponentStats {
	for _, c := range s.Components {
		if c.Component == id {
			return c
		}
	}
	return ComponentStats{}
}
