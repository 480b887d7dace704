package builtin

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// FailConfig configures the "fail" bolt.
type FailConfig struct {
	// Ratio is the fraction of tuples failed the first time they are seen,
	// from 0 to 1 (default 0.1).
	Ratio float64 `json:"ratio"`
	// Seed changes which tuples are chosen.
	Seed int64 `json:"seed"`
	// ReportErrors: report an error (ErrFailedOnPurpose, naming the tuple)
	// through the collector for each tuple failed, so that it shows in the
	// monitor's errors (tests and demos of the UI).
	ReportErrors bool `json:"report_errors"`
}

// NewFailConfig returns the defaults.
func NewFailConfig() *FailConfig { return &FailConfig{Ratio: 0.1} }

// Validate checks the ratio.
func (c *FailConfig) Validate() error {
	if !(c.Ratio >= 0 && c.Ratio <= 1) { // NaN too
		return fmt.Errorf("%w: ratio: want a number from 0 to 1, got %v", ErrInvalidConfig, c.Ratio)
	}
	return nil
}

// FailType is the "fail" bolt type.
func FailType() registry.Bolt[FailConfig] {
	return registry.Bolt[FailConfig]{
		Name:    "fail",
		Doc:     "fails a deterministic fraction of the tuples once each, passes the rest through (tests, chaos demos)",
		Config:  NewFailConfig,
		Outputs: passThrough[FailConfig](nil),
		New:     func(c *FailConfig) (bolt.Bolt, error) { return NewFail(c) },
	}
}

// Fail is the "fail" bolt. A tuple is identified by its ID, or when it has
// none by its stream and values; a hash of that key and the seed chooses,
// deterministically, the Ratio of keys to fail. A chosen tuple is failed
// the first time its key is seen by this task (its spout replays it); every
// other tuple, a replay included, is passed through on the default stream,
// anchored, and acked. Tick tuples are acked and ignored. With
// ReportErrors, each failure is also reported as an error of the task.
//
// The keys failed once are kept in memory. A replay must reach the same
// task to pass: give the bolt one task or a fields grouping; with
// shuffling, a tuple fails at most once per task.
//
// Failed and Passed may be called from any goroutine.
type Fail struct {
	cfg FailConfig
	out bolt.Collector

	failed, passed atomic.Int64
	mu             sync.Mutex          // guards seen
	seen           map[string]struct{} // keys failed once
}

var _ bolt.Bolt = (*Fail)(nil)

// NewFail returns a fail bolt for cfg, which is validated.
func NewFail(cfg *FailConfig) (*Fail, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Fail{cfg: *cfg, seen: map[string]struct{}{}}, nil
}

// Prepare keeps out.
func (f *Fail) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	f.out = out
	return nil
}

// Execute fails t or passes it through.
func (f *Fail) Execute(_ context.Context, t *tuple.Tuple) error {
	if t.IsTick() {
		f.out.Ack(t)
		return nil
	}
	key := failKey(t)
	if f.Chosen(key) {
		f.mu.Lock()
		_, again := f.seen[key]
		f.seen[key] = struct{}{}
		f.mu.Unlock()
		if !again {
			f.failed.Add(1)
			if f.cfg.ReportErrors {
				f.out.ReportError(fmt.Errorf("%w: tuple %s", ErrFailedOnPurpose, describeKey(t)))
			}
			f.out.Fail(t)
			return nil
		}
	}
	f.passed.Add(1)
	f.out.Emit(t, t.Values)
	f.out.Ack(t)
	return nil
}

// failKey identifies t: its ID, else its stream and values.
func failKey(t *tuple.Tuple) string {
	if t.ID != "" {
		return t.ID
	}
	b := []byte(t.Stream)
	for _, v := range t.Values {
		b = append(b, 0x1f)
		b = append(b, tuple.AsString(v)...)
	}
	return string(b)
}

// describeKey names t in an error: its ID, else its stream and values.
func describeKey(t *tuple.Tuple) string {
	if t.ID != "" {
		return t.ID
	}
	vals := make([]string, len(t.Values))
	for i, v := range t.Values {
		vals[i] = tuple.AsString(v)
	}
	return fmt.Sprintf("%s%q", t.Stream, vals)
}

// Chosen reports whether the tuples of key are failed once.
func (f *Fail) Chosen(key string) bool {
	if f.cfg.Ratio <= 0 {
		return false
	}
	h := fnv.New64a()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(f.cfg.Seed))
	h.Write(seed[:])
	h.Write([]byte(key))
	x := h.Sum64()
	// finish with splitmix64's mixer: FNV's low bits spread poorly
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < f.cfg.Ratio
}

// Failed returns the number of tuples failed.
func (f *Fail) Failed() int64 { return f.failed.Load() }

// Passed returns the number of tuples passed through.
func (f *Fail) Passed() int64 { return f.passed.Load() }

// Cleanup does nothing.
func (f *Fail) Cleanup() error { return nil }
