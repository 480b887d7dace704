// Package registry holds the component types a Gale program knows, the
// way database/sql holds drivers: the name a topology writes in a
// component's "type", how to decode and check its "config", which streams
// it emits, and how to build one instance per task.
//
// A type is described by a [Bolt] or a [Spout] of its config type C. The
// registry decodes each component's JSON config strictly into a *C made by
// Config (the defaults), calls its Validate method if it has one, and hands
// the same *C to New — no type assertion anywhere:
//
//	type UpperConfig struct {
//		Field string `json:"field"`
//	}
//
//	var Upper = registry.Bolt[UpperConfig]{
//		Name:    "upper",
//		Doc:     "upper-cases a field",
//		Config:  func() *UpperConfig { return &UpperConfig{Field: "line"} },
//		Outputs: registry.Emits("upper"),
//		New: func(c *UpperConfig) (bolt.Bolt, error) {
//			return bolt.Basic(&upper{field: c.Field}), nil
//		},
//	}
//
//	reg := registry.New()
//	reg.MustRegister(Upper)
//
// Outputs are declared with [Emits] (fixed fields on the default stream),
// [EmitsStreams], [PassThrough] (the fields the bolt receives) or
// [Declare] (streams computed from the config and the input fields, which
// is also where a type checks that its config fits its inputs). A type that
// takes no config uses [NoConfig].
//
// A topology decoded or built against a registry remembers it
// (topology.Topology.Catalog), so that the runner (package local) builds the
// components from the same registry: a registry is given once.
//
// [Default] is the process-wide registry a program that embeds Gale fills
// in main before it hands over to the gale command line (cli.Main), which
// adds the built-in types of package registry/all to it. Libraries never
// register into Default by themselves, and tests build their own registry
// with [New] (or registry/all's Registry) so that they share no mutable
// state.
package registry
