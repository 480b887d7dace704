package spout

import "errors"

// ErrStop, returned (possibly wrapped) by NextTuple, stops the spout's task
// cleanly: it is closed once its pending tuples are acked or failed.
var ErrStop = errors.New("spout: stop")
