package kafka

import (
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// TypeName is the spout type's name in topologies.
const TypeName = "kafka"

// Type is the "kafka" spout type.
func Type() registry.Spout[Config] {
	return registry.Spout[Config]{
		Name:   TypeName,
		Doc:    "reads Kafka topics in batches planned in a ledger first, so that replays re-emit the same batches",
		Config: NewConfig,
		Outputs: registry.Declare(func(c *Config, _ []tuple.Fields) (topology.Streams, error) {
			return topology.Streams{tuple.DefaultStream: c.outputFields()}, nil
		}),
		Resizable: true,
		New:       func(c *Config) (spout.Spout, error) { return New(c), nil },
	}
}
