package kafka

import "errors"

// Errors reported by the kafka spout (it keeps running and retries).
var (
	// ErrUnreachable: the brokers could not be reached; the spout retries
	// with exponential backoff (up to 30 s).
	ErrUnreachable = errors.New("kafka brokers unreachable")
	// ErrMissingTopic: a configured topic does not exist.
	ErrMissingTopic = errors.New("topic does not exist")
)

// ErrLocalLedger is the error of Config.CheckCluster: a file ledger that is
// not shared, in a cluster.
var ErrLocalLedger = errors.New("a ledger on one worker's disk")
