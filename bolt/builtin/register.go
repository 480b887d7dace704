package builtin

import "github.com/gale-stream/gale/registry"

// Types returns the package's bolt types: split, count, filter, json,
// print, noop, fail and window.
func Types() []registry.Type {
	return []registry.Type{
		SplitType(), CountType(), FilterType(), JSONType(), PrintType(), NoopType(), FailType(), WindowType(),
	}
}

// Register adds the package's bolt types to r. It stops at the first
// error, such as registry.ErrDuplicate when a type is already there.
func Register(r *registry.Registry) error { return r.Register(Types()...) }
