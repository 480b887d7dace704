package local

import "time"

// StatusReporter is implemented by spouts and bolts that report more than
// the engine's counters: a Kafka spout its partitions, a sink its writes.
// The runtime calls TaskStatus from another goroutine than the task's, at
// any time (each stats snapshot): implementations must be safe for that
// and cheap.
type StatusReporter interface {
	TaskStatus() TaskStatus
}

// TaskStatus is what a StatusReporter reports.
type TaskStatus struct {
	Partitions []PartitionStatus `json:"partitions,omitempty"`
	Sink       *SinkStatus       `json:"sink,omitempty"`
}

// PartitionStatus is one Kafka partition a spout task reads.
type PartitionStatus struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Planned: batches planned in the ledger (the next batch's seq);
	// Committed: batches committed contiguously; InFlight: emitted and not
	// complete; Replaying: waiting to be emitted again.
	Planned   uint64 `json:"planned"`
	Committed uint64 `json:"committed"`
	InFlight  int    `json:"in_flight"`
	Replaying int    `json:"replaying"`
	// NextOffset: where the next batch starts; CommittedOffset: the offset
	// committed to the consumer group; HighWatermark: the partition's end
	// as last seen (-1 when unknown).
	NextOffset      int64 `json:"next_offset"`
	CommittedOffset int64 `json:"committed_offset"`
	HighWatermark   int64 `json:"high_watermark"`
	// Committing: batches of InFlight whose tuples all completed, waiting
	// for their commit in the ledger; CommitRetries: failed ledger writes
	// of such batches (commits, lost ranges) that were retried, since the
	// task started.
	Committing    int   `json:"committing"`
	CommitRetries int64 `json:"commit_retries"`
	// LastError is the partition's last error (a ledger write, a read
	// from Kafka), at LastErrorAt; empty when there was none.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LostOffsets counts the offsets the ledger recorded lost, ever:
	// Kafka (its retention) deleted them before the spout read them;
	// LastLost is the latest such range.
	LostOffsets int64      `json:"lost_offsets"`
	LastLost    *LostRange `json:"last_lost,omitempty"`
	// Stopped says why the spout stopped emitting for the partition (a
	// newer owner fenced it, its ledger is gone, records were lost under
	// on_data_loss "fail"); empty while it runs.
	Stopped string `json:"stopped,omitempty"`
}

// LostRange is a range of offsets [Start, End) of a batch that Kafka had
// deleted when the spout went to read them.
type LostRange struct {
	Batch string `json:"batch"` // "topic/00003/000000000042"
	Start int64  `json:"start"`
	End   int64  `json:"end"`
}

// Lag is the records between the committed offset and the high
// watermark, or -1 while either is unknown.
func (p PartitionStatus) Lag() int64 {
	if p.HighWatermark < 0 || p.CommittedOffset < 0 {
		return -1
	}
	return max(0, p.HighWatermark-p.CommittedOffset)
}

// SinkStatus is a sink task's writes.
type SinkStatus struct {
	Batches     int64         `json:"batches"`
	Records     int64         `json:"records"`
	Bytes       int64         `json:"bytes"`
	Retries     int64         `json:"retries"`
	Rejected    int64         `json:"rejected"`
	InFlight    int64         `json:"in_flight"`
	WriteNanos  int64         `json:"write_ns"` // total time in successful writes
	LastWrite   time.Duration `json:"last_write_ns"`
	LastError   string        `json:"last_error,omitempty"`
	LastErrorAt time.Time     `json:"last_error_at,omitempty"`
}
