package builtin

import (
	"context"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// NoopType is the "noop" bolt type. It takes no config.
func NoopType() registry.Bolt[registry.NoConfig] {
	return registry.Bolt[registry.NoConfig]{
		Name: "noop",
		Doc:  "acks every tuple and emits nothing (for benchmarks)",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return &Noop{}, nil },
	}
}

// Noop is the "noop" bolt: it acks every tuple and emits nothing.
type Noop struct {
	out bolt.Collector
}

var _ bolt.Bolt = (*Noop)(nil)

// Prepare keeps out.
func (n *Noop) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	n.out = out
	return nil
}

// Execute acks t.
func (n *Noop) Execute(_ context.Context, t *tuple.Tuple) error {
	n.out.Ack(t)
	return nil
}

// Cleanup does nothing.
func (n *Noop) Cleanup() error { return nil }
