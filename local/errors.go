package local

import "errors"

// Errors reported by the engine. Emit errors are reported against the
// emitting task (they are programming errors in a component) and the tuple
// is not sent.
var (
	// ErrUndeclaredStream: an emit on a stream the component did not declare.
	ErrUndeclaredStream = errors.New("stream not declared by the component")
	// ErrFieldCount: an emit whose number of values differs from the
	// stream's fields.
	ErrFieldCount = errors.New("wrong number of values")
	// ErrPanic wraps a value recovered from a panicking component.
	ErrPanic = errors.New("component panicked")
	// ErrNotValidated: the topology was not validated (Decode or Validate).
	ErrNotValidated = errors.New("topology not validated")
	// ErrNoFactory: the catalog the topology was validated against cannot
	// build components (a catalog of descriptions only, such as a test's).
	ErrNoFactory = errors.New("catalog builds no components")
	// ErrDrainTimeout: in-flight trees did not complete within the drain
	// timeout when stopping; they will be replayed by the source.
	ErrDrainTimeout = errors.New("drain timed out")
)
