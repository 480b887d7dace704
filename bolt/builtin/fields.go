package builtin

import (
	"fmt"
	"slices"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// fieldValue returns the value of the named field of t, or its first
// value when name is "".
func fieldValue(t *tuple.Tuple, name string) (any, error) {
	if name == "" {
		if len(t.Values) == 0 {
			return nil, fmt.Errorf("tuple from %s/%s has no values: %w", t.Component, t.Stream, ErrNoField)
		}
		return t.Values[0], nil
	}
	i := t.Fields.Index(name)
	if i < 0 || i >= len(t.Values) {
		return nil, fmt.Errorf("field %q of tuple from %s/%s with fields %v: %w", name, t.Component, t.Stream, t.Fields, ErrNoField)
	}
	return t.Values[i], nil
}

// checkField checks that every input stream has the field name, or at
// least one field when name is "" (the first value).
func checkField(name string, inputs []tuple.Fields) error {
	for i, f := range inputs {
		if name == "" && len(f) == 0 {
			return fmt.Errorf("input %d has no fields: %w", i, ErrNoField)
		}
		if name != "" && !f.Contains(name) {
			return fmt.Errorf("input %d with fields %v: field %q: %w", i, f, name, ErrNoField)
		}
	}
	return nil
}

// passThrough declares on the default stream the fields of the inputs,
// which must all be the same, after checking that they have the field
// returned by field (nil: no field to check).
func passThrough[C any](field func(c *C) string) registry.Outputs {
	return registry.Declare(func(c *C, inputs []tuple.Fields) (topology.Streams, error) {
		if field != nil && len(inputs) > 0 {
			if err := checkField(field(c), inputs); err != nil {
				return nil, err
			}
		}
		return passThroughStreams(inputs)
	})
}

// passThroughStreams declares the default stream with the fields of the
// inputs, which must all have the same.
func passThroughStreams(inputs []tuple.Fields) (topology.Streams, error) {
	if len(inputs) == 0 {
		return topology.Streams{}, nil
	}
	for i, f := range inputs[1:] {
		if !slices.Equal(f, inputs[0]) {
			return nil, fmt.Errorf("%w: a pass-through bolt needs inputs with the same fields, got %v (input 0) and %v (input %d)",
				ErrInvalidConfig, inputs[0], f, i+1)
		}
	}
	return topology.Streams{tuple.DefaultStream: inputs[0]}, nil
}
