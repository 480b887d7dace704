package schedule

import "errors"

// Sentinel errors. Compute and NewDebouncer wrap them with the name of
// the offending worker, topology or component; match them with errors.Is.
var (
	// ErrInvalidConfig: a Config or DebouncerConfig field is out of range.
	ErrInvalidConfig = errors.New("invalid config")
	// ErrInvalidName: a worker, topology or component name is empty or
	// contains a zero byte.
	ErrInvalidName = errors.New("invalid name")
	// ErrDuplicate: two workers, two topologies, or two components of one
	// topology share a name.
	ErrDuplicate = errors.New("duplicate name")
	// ErrInvalidSlots: a worker's slot limit is negative.
	ErrInvalidSlots = errors.New("invalid slot limit")
	// ErrInvalidComponent: a component has a negative parallelism, an
	// unknown kind, or an acker kind and id that do not go together.
	ErrInvalidComponent = errors.New("invalid component")
	// ErrTooLarge: the input has more than MaxTasks tasks or MaxWorkers
	// workers, or its flow problems would exceed MaxCells.
	ErrTooLarge = errors.New("input too large")
)
