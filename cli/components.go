package cli

// The component types every gale binary has: the built-in demo types, the
// Kafka spout, and the multilang "shell" bolt and spout. Heavy backends (Ceph via cgo) link
// in only with their build tags.
import (
	_ "github.com/gale-stream/gale/bolt/builtin"
	_ "github.com/gale-stream/gale/bolt/shell"
	_ "github.com/gale-stream/gale/spout/builtin"
	_ "github.com/gale-stream/gale/spout/kafka"
	_ "github.com/gale-stream/gale/spout/shell"
	_ "github.com/gale-stream/gale/sinks"
)
