package builtin

import "github.com/gale-stream/gale/registry"

func init() {
	for _, t := range Types() {
		registry.MustRegisterBolt(t)
	}
}

// Types returns the package's bolt types: split, count, filter, json,
// print, noop and fail.
func Types() []registry.BoltType {
	return []registry.BoltType{
		SplitType(), CountType(), FilterType(), JSONType(), PrintType(), NoopType(), FailType(),
	}
}

// Register adds the package's bolt types to r. It stops at the first
// error, such as registry.ErrDuplicate when a type is already there.
func Register(r *registry.Registry) error {
	for _, t := range Types() {
		if err := r.RegisterBolt(t); err != nil {
			return err
		}
	}
	return nil
}
