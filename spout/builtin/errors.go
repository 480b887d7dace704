package builtin

import "errors"

// ErrInvalidConfig is wrapped by every error a config's Validate method
// returns, so that callers can tell bad settings from other failures.
var ErrInvalidConfig = errors.New("invalid config")
