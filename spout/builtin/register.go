package builtin

import "github.com/gale-stream/gale/registry"

func init() {
	for _, t := range Types() {
		registry.MustRegisterSpout(t)
	}
}

// Types returns the package's spout types: generator and lines.
func Types() []registry.SpoutType {
	return []registry.SpoutType{GeneratorType(), LinesType()}
}

// Register adds the package's spout types to r. It stops at the first
// error, such as registry.ErrDuplicate when a type is already there.
func Register(r *registry.Registry) error {
	for _, t := range Types() {
		if err := r.RegisterSpout(t); err != nil {
			return err
		}
	}
	return nil
}
