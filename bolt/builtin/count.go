package builtin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/bolt/stateful"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Emit modes of the count bolt.
const (
	// EmitUpdate emits the new count of a key on every input.
	EmitUpdate = "update"
	// EmitTick emits the counts changed since the last tick tuple when a
	// tick arrives (set the component's "tick" interval).
	EmitTick = "tick"
)

// CountConfig configures the "count" bolt.
type CountConfig struct {
	// Field is the key to count by (default "word"). Its value is
	// formatted with tuple.AsString.
	Field string `json:"field"`
	// Emit is "update" (default) or "tick"; see EmitUpdate and EmitTick.
	Emit string `json:"emit"`
	// State, when set, makes the counts exactly once and durable: kept in
	// this store (a Kafka topic, or a directory in local mode), updated
	// per batch and restored when a task restarts or moves; see package
	// bolt/stateful. The input must come in batches (the Kafka spout)
	// and, with several tasks, with the fields grouping on Field. Emit
	// must be "update": each input emits the key's count after it, and a
	// replayed batch emits the same counts again.
	State *stateful.StoreConfig `json:"state,omitempty"`
}

// NewCountConfig returns the defaults.
func NewCountConfig() *CountConfig {
	return &CountConfig{Field: "word", Emit: EmitUpdate}
}

// Validate checks the settings.
func (c *CountConfig) Validate() error {
	switch {
	case c.Field == "":
		return fmt.Errorf("%w: field: want the name of the key field", ErrInvalidConfig)
	case c.Field == "count":
		return fmt.Errorf("%w: field: %q would name both output fields", ErrInvalidConfig, c.Field)
	case c.Emit != EmitUpdate && c.Emit != EmitTick:
		return fmt.Errorf("%w: emit: want %q or %q, got %q", ErrInvalidConfig, EmitUpdate, EmitTick, c.Emit)
	case c.State != nil && c.Emit != EmitUpdate:
		return fmt.Errorf("%w: emit: a count with state emits on every update (a tick's emits would belong to no batch), got %q", ErrInvalidConfig, c.Emit)
	}
	if c.State != nil {
		if err := c.State.Validate(); err != nil {
			return under("state", err) // *topology.FieldErrors, each at its path
		}
	}
	return nil
}

// under puts the *topology.FieldError paths of err (one, or joined) under
// path.
func under(path string, err error) error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for i, e := range errs {
		var fe *topology.FieldError
		if errors.As(e, &fe) {
			errs[i] = &topology.FieldError{Path: path + "." + fe.Path, Msg: fe.Msg, Err: fmt.Errorf("%w: %w", ErrInvalidConfig, cmp.Or(fe.Err, errors.New(fe.Msg)))}
		} else {
			errs[i] = fmt.Errorf("%s: %w", path, e)
		}
	}
	return errors.Join(errs...)
}

// CheckCluster refuses, in a cluster, a state kept on one worker's disk.
func (c *CountConfig) CheckCluster() error {
	if c.State == nil {
		return nil
	}
	if err := c.State.CheckCluster(); err != nil {
		return under("state", err)
	}
	return nil
}

// CountType is the "count" bolt type.
func CountType() registry.Bolt[CountConfig] {
	return registry.Bolt[CountConfig]{
		Name:   "count",
		Doc:    "counts tuples by a key field and emits {key, count} on every update or on ticks",
		Config: NewCountConfig,
		Outputs: registry.Declare(func(c *CountConfig, inputs []tuple.Fields) (topology.Streams, error) {
			if err := checkField(c.Field, inputs); err != nil {
				return nil, err
			}
			return topology.Streams{tuple.DefaultStream: {c.Field, "count"}}, nil
		}),
		New: func(c *CountConfig) (bolt.Bolt, error) {
			if c.State != nil {
				return NewStatefulCount(c)
			}
			return NewCount(c)
		},
	}
}

// Count is the "count" bolt. It keeps a count per key in memory and acks
// every input at once: the counts are in-memory state, lost when the task
// stops, and a replayed tuple is counted again (at-least-once).
//
// The emitted key is the field's value formatted as a string, the count
// an int64. With emit "update" it emits {key, count} anchored to each
// input. With
// emit "tick" it emits nothing until a tick tuple arrives, then emits the
// counts changed since the previous tick, sorted by key and unanchored
// (their inputs are already acked).
//
// Counts may be called from any goroutine.
type Count struct {
	cfg CountConfig
	out bolt.Collector

	mu      sync.Mutex // guards the fields below
	counts  map[string]int64
	changed map[string]struct{} // keys updated since the last tick
}

var _ bolt.Bolt = (*Count)(nil)

// NewCount returns a count bolt for cfg, which is validated.
func NewCount(cfg *CountConfig) (*Count, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Count{cfg: *cfg, counts: map[string]int64{}, changed: map[string]struct{}{}}, nil
}

// Prepare keeps out.
func (c *Count) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	c.out = out
	return nil
}

// Execute counts t, or flushes the changed counts on a tick.
func (c *Count) Execute(_ context.Context, t *tuple.Tuple) error {
	if t.IsTick() {
		if c.cfg.Emit == EmitTick {
			c.flush()
		}
		c.out.Ack(t)
		return nil
	}
	v, err := fieldValue(t, c.cfg.Field)
	if err != nil {
		c.out.ReportError(fmt.Errorf("count: %w", err))
		c.out.Ack(t)
		return nil
	}
	key := tuple.AsString(v)
	c.mu.Lock()
	c.counts[key]++
	n := c.counts[key]
	if c.cfg.Emit == EmitTick {
		c.changed[key] = struct{}{}
	}
	c.mu.Unlock()
	if c.cfg.Emit == EmitUpdate {
		c.out.Emit(t, tuple.Values{key, n})
	}
	c.out.Ack(t)
	return nil
}

func (c *Count) flush() {
	c.mu.Lock()
	keys := slices.Sorted(maps.Keys(c.changed))
	vals := make([]tuple.Values, len(keys))
	for i, k := range keys {
		vals[i] = tuple.Values{k, c.counts[k]}
	}
	clear(c.changed)
	c.mu.Unlock()
	for _, v := range vals {
		c.out.Emit(nil, v)
	}
}

// Counts returns a copy of the counts.
func (c *Count) Counts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Cleanup does nothing.
func (c *Count) Cleanup() error { return nil }

// NewStatefulCount returns the count bolt of a config with State: a
// stateful.Bolt whose value per key is its count in decimal.
func NewStatefulCount(cfg *CountConfig) (*stateful.Bolt, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.State == nil {
		return nil, fmt.Errorf("%w: state: not set", ErrInvalidConfig)
	}
	return stateful.New(stateful.UpdateFunc(countUpdate), stateful.Options{KeyField: cfg.Field, Store: *cfg.State}), nil
}

// countUpdate adds one to key's count and emits {key, count}.
func countUpdate(key string, value []byte, _ *tuple.Tuple) ([]byte, []stateful.Output, error) {
	var n int64
	if value != nil {
		var err error
		if n, err = strconv.ParseInt(string(value), 10, 64); err != nil {
			return nil, nil, fmt.Errorf("stored count %q: %w", value, err)
		}
	}
	n++
	return strconv.AppendInt(nil, n, 10), []stateful.Output{{Values: tuple.Values{key, n}}}, nil
}
