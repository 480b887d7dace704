package builtin

import "errors"

// Errors of the built-in bolts.
var (
	// ErrInvalidConfig is wrapped by every error a config's Validate
	// method returns and by the factories given settings of a wrong type.
	ErrInvalidConfig = errors.New("invalid config")
	// ErrNoField means a bolt's configured field is missing: from an input
	// stream when the topology is validated (an error then), or from a
	// tuple at run time (reported, and the tuple is acked: a replay would
	// not bring the field back).
	ErrNoField = errors.New("no such field")
	// ErrNotJSON means the json bolt got a record that does not parse as
	// JSON.
	ErrNotJSON = errors.New("not JSON")
	// ErrFailedOnPurpose is the error the fail bolt reports for a tuple
	// it fails, when its report_errors option is on.
	ErrFailedOnPurpose = errors.New("failed on purpose by the fail bolt")
)
