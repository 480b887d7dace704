package registry

import (
	"fmt"
	"reflect"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Outputs declares the streams a component type emits. Build it with
// Emits or EmitsStreams (fixed streams), PassThrough (the fields the
// component receives) or Declare (streams that depend on the config). The
// zero Outputs declares none: the component emits nothing (a sink).
type Outputs struct {
	declare func(settings any, inputs []tuple.Fields) (topology.Streams, error)
	// config is Declare's config type, checked against the component
	// type's when it is registered; nil for the others
	config reflect.Type
}

// Emits declares one stream, the default one, with fields.
func Emits(fields ...string) Outputs {
	return EmitsStreams(topology.Streams{tuple.DefaultStream: tuple.Fields(fields)})
}

// EmitsStreams declares fixed streams: stream id -> fields.
func EmitsStreams(streams topology.Streams) Outputs {
	streams = cloneStreams(streams)
	return Outputs{declare: func(any, []tuple.Fields) (topology.Streams, error) { return cloneStreams(streams), nil }}
}

// PassThrough declares on the default stream the fields of the
// component's first input stream, for bolts that forward the tuples they
// receive (filters).
func PassThrough() Outputs {
	return Outputs{declare: func(_ any, in []tuple.Fields) (topology.Streams, error) {
		if len(in) == 0 {
			return topology.Streams{}, nil
		}
		return topology.Streams{tuple.DefaultStream: in[0]}, nil
	}}
}

// Declare declares streams that depend on the component's config c and
// on the fields of its input streams (inputs, in the order of the
// component's inputs). It is also where a type checks that its config
// fits its inputs: an error is reported at the component's path when the
// topology is validated. C must be the component type's config type.
func Declare[C any](f func(c *C, inputs []tuple.Fields) (topology.Streams, error)) Outputs {
	return Outputs{
		config: reflect.TypeFor[C](),
		declare: func(settings any, inputs []tuple.Fields) (topology.Streams, error) {
			if settings == nil { // a type without config (NoConfig)
				return f(new(C), inputs)
			}
			c, ok := settings.(*C)
			if !ok || c == nil {
				return nil, fmt.Errorf("outputs: settings of type %T, want *%v: %w", settings, reflect.TypeFor[C](), ErrConfigType)
			}
			return f(c, inputs)
		},
	}
}

func cloneStreams(s topology.Streams) topology.Streams {
	out := make(topology.Streams, len(s))
	for id, f := range s {
		out[id] = append(tuple.Fields(nil), f...)
	}
	return out
}
