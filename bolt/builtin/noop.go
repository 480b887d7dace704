package builtin

import (
	"context"
	"fmt"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// NoopConfig configures the "noop" bolt.
type NoopConfig struct {
	// Delay is how long each tuple takes (a sleep, no CPU): a bolt of a
	// known cost per tuple, whose capacity follows its input rate, for
	// tests and benchmarks of back pressure and autoscaling. Default 0.
	Delay topology.Duration `json:"delay,omitempty"`
	// Forward emits every tuple unchanged (anchored to it) on the default
	// stream instead of nothing: a pass-through stage of a known cost.
	Forward bool `json:"forward,omitempty"`
}

// Validate checks the settings.
func (c *NoopConfig) Validate() error {
	if c.Delay < 0 || c.Delay > topology.Duration(time.Minute) {
		return fmt.Errorf("%w: delay: want between 0 and 1m, got %v", ErrInvalidConfig, time.Duration(c.Delay))
	}
	return nil
}

// NoopType is the "noop" bolt type.
func NoopType() registry.Bolt[NoopConfig] {
	return registry.Bolt[NoopConfig]{
		Name:   "noop",
		Doc:    "acks every tuple after an optional delay, emitting nothing or, with forward, the tuple unchanged (for benchmarks)",
		Config: func() *NoopConfig { return &NoopConfig{} },
		Outputs: registry.Declare(func(c *NoopConfig, inputs []tuple.Fields) (topology.Streams, error) {
			if !c.Forward {
				return topology.Streams{}, nil
			}
			return passThroughStreams(inputs)
		}),
		New: func(c *NoopConfig) (bolt.Bolt, error) {
			return &Noop{delay: time.Duration(c.Delay), forward: c.Forward}, nil
		},
	}
}

// Noop is the "noop" bolt: it acks every tuple and emits nothing, or
// with forward the tuple itself.
type Noop struct {
	out     bolt.Collector
	delay   time.Duration
	forward bool
}

var _ bolt.Bolt = (*Noop)(nil)

// Prepare keeps out.
func (n *Noop) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	n.out = out
	return nil
}

// Execute acks t, after the delay (and emits it again with forward).
func (n *Noop) Execute(_ context.Context, t *tuple.Tuple) error {
	if n.delay > 0 {
		time.Sleep(n.delay)
	}
	if n.forward {
		n.out.Emit(t, t.Values)
	}
	n.out.Ack(t)
	return nil
}

// Cleanup does nothing.
func (n *Noop) Cleanup() error { return nil }
