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
func Type() registry.SpoutType {
	return registry.SpoutType{
		ComponentType: topology.ComponentType{
			Name:      TypeName,
			Doc:       "reads Kafka topics in batches planned in a ledger first, so that replays re-emit the same batches",
			NewConfig: func() any { return NewConfig() },
			Outputs: func(settings any, _ []tuple.Fields) (topology.Streams, error) {
				return topology.Streams{tuple.DefaultStream: settings.(*Config).outputFields()}, nil
			},
		},
		New: func(settings any) (spout.Spout, error) { return New(settings.(*Config)), nil },
	}
}

// Register adds the kafka spout type to r.
func Register(r *registry.Registry) error { return r.RegisterSpout(Type()) }

func init() { registry.MustRegisterSpout(Type()) }
