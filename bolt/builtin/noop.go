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
		Doc:    "acks every tuple and emits nothing, after an optional delay (for benchmarks)",
		Config: func() *NoopConfig { return &NoopConfig{} },
		New:    func(c *NoopConfig) (bolt.Bolt, error) { return &Noop{delay: time.Duration(c.Delay)}, nil },
	}
}

// Noop is the "noop" bolt: it acks every tuple and emits nothing.
type Noop struct {
	out   bolt.Collector
	delay time.Duration
}

var _ bolt.Bolt = (*Noop)(nil)

// Prepare keeps out.
func (n *Noop) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	n.out = out
	return nil
}

// Execute acks t, after the delay.
func (n *Noop) Execute(_ context.Context, t *tuple.Tuple) error {
	if n.delay > 0 {
		time.Sleep(n.delay)
	}
	n.out.Ack(t)
	return nil
}

// Cleanup does nothing.
func (n *Noop) Cleanup() error { return nil }
