package builtin

import "github.com/gale-stream/gale/registry"

// Types returns the package's spout types: generator and lines.
func Types() []registry.Type {
	return []registry.Type{GeneratorType(), LinesType()}
}

// Register adds the package's spout types to r. It stops at the first
// error, such as registry.ErrDuplicate when a type is already there.
func Register(r *registry.Registry) error { return r.Register(Types()...) }
