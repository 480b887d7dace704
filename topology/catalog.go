package topology

import (
	"encoding/json"

	"github.com/gale-stream/gale/tuple"
)

// Catalog answers what component types exist. The registry package
// implements it; tests use small catalogs of their own.
type Catalog interface {
	// ComponentType returns the type called name of the given kind.
	ComponentType(kind Kind, name string) (*ComponentType, bool)
	// TypeNames lists the names of the known types of a kind, sorted.
	TypeNames(kind Kind) []string
}

// ComponentType describes a registered spout or bolt type: how to decode
// its config and which streams it emits. The factory that builds running
// instances lives in the registry package.
type ComponentType struct {
	Kind Kind
	// Name is what topologies write in a component's "type".
	Name string
	// Doc is a one-line description shown by `gale types`.
	Doc string
	// NewConfig returns a pointer to a config struct holding the defaults.
	// The component's JSON config is decoded into it strictly (unknown
	// fields are errors, each error names its JSON path); when the struct
	// has a `Validate() error` method it is called afterwards. A nil
	// NewConfig means the type takes no config: a non-empty config is an
	// error.
	NewConfig func() any
	// Outputs declares the type's output streams for a decoded config
	// (nil when NewConfig is nil). inputs holds the fields of each stream
	// the component consumes, in the order of its Inputs, so that
	// pass-through bolts can declare the fields they receive. A nil
	// Outputs means the component emits nothing.
	Outputs func(settings any, inputs []tuple.Fields) (Streams, error)
	// OverridableOutputs allows a topology to replace the declared output
	// streams with its own "outputs".
	OverridableOutputs bool
	// Resizable: a spout type whose tasks can share the work anew while
	// they run (spout.Resizer), so that its parallelism can change in
	// place (Topology.Elastic).
	Resizable bool
	// DirectStreams lists output streams that are direct (EmitDirect only).
	DirectStreams []string
}

// DecodeSettings decodes raw (may be empty) into a fresh config of type t.
// Errors name paths below prefix, e.g. "bolts[2].config.field".
func (t *ComponentType) DecodeSettings(raw json.RawMessage, prefix string) (any, error) {
	return decodeSettings(t, raw, prefix)
}
