package kafka

import (
	"errors"
	"fmt"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/schemareg"
)

// Errors reported by the kafka spout (it keeps running and retries).
var (
	// ErrUnreachable: the brokers could not be reached; the spout retries
	// with exponential backoff (up to 30 s).
	ErrUnreachable = errors.New("kafka brokers unreachable")
	// ErrMissingTopic: a configured topic does not exist.
	ErrMissingTopic = errors.New("topic does not exist")
	// ErrDataLoss: records the spout had to read were deleted by Kafka
	// (retention) first. With on_data_loss "fail" the partition stops with
	// a *DataLossError; with "skip" the loss is recorded in the ledger.
	ErrDataLoss = errors.New("records deleted by Kafka before they were read")
	// ErrRegistryUnavailable: the schema registry of the avro, protobuf or
	// json_schema deserializer did not answer (down, slow, 5xx, a refused
	// login), or does not know a record's schema id yet. The partition's
	// batch waits and is decoded again with backoff: nothing is
	// dead-lettered or skipped for it.
	ErrRegistryUnavailable = schemareg.ErrRegistryUnavailable
	// ErrBatchHeld: a planned batch could not be decoded now (the schema
	// registry is unavailable, or a schema id is not found yet) and waits
	// to be decoded again with backoff; its partition emits nothing past
	// it. The error wraps the cause too.
	ErrBatchHeld = errors.New("batch held")
)

// unreachable wraps err, from connecting to the brokers, in ErrUnreachable,
// unless the brokers answered and refused the SASL login or the TLS
// handshake, or the spout's tls or sasl cannot be used (a missing password
// file): those are not the network's doing, and say so themselves.
func unreachable(err error) error {
	if errors.Is(err, kafkasec.ErrAuth) || errors.Is(err, kafkasec.ErrTLS) || errors.Is(err, kafkasec.ErrConfig) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}

// ErrLocalLedger is the error of Config.CheckCluster: a file ledger that is
// not shared, in a cluster.
var ErrLocalLedger = errors.New("a ledger on one worker's disk")

// DataLossError names records of a partition that Kafka deleted before the
// spout read them: the offsets [Start, End) of batch Batch, which Kafka no
// longer has (its log starts at LogStart). It unwraps to ErrDataLoss.
type DataLossError struct {
	Topic     string
	Partition int32
	Batch     string // the batch id, "topic/00003/000000000042"
	Start     int64
	End       int64
	LogStart  int64
}

func (e *DataLossError) Error() string {
	return fmt.Sprintf("%s/%d: offsets [%d, %d) of batch %s: %v (the log now starts at %d)",
		e.Topic, e.Partition, e.Start, e.End, e.Batch, ErrDataLoss, e.LogStart)
}

func (e *DataLossError) Unwrap() error { return ErrDataLoss }
