package bolt

import (
	"context"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Bolt consumes tuples. The engine runs each task's Bolt in a goroutine of
// its own: Prepare, Execute and Cleanup are never called concurrently on
// one Bolt.
//
// A Bolt acks or fails every input through its Collector, possibly later
// (aggregations ack when they flush). When Execute returns an error, the
// engine reports it and fails the input unless it was already acked or
// failed. A panic in Execute is recovered, reported and fails the input.
type Bolt interface {
	// Prepare readies the bolt. out stays valid until Cleanup returns.
	Prepare(ctx context.Context, tc *topology.TaskContext, out Collector) error
	// Execute processes one tuple.
	Execute(ctx context.Context, t *tuple.Tuple) error
	// Cleanup releases resources; called once when the task stops.
	Cleanup() error
}

// Collector emits a bolt's tuples and acks its inputs.
//
// Emits may block while downstream queues are full. Collector methods may
// be called from goroutines other than Execute's (a sink that writes
// asynchronously acks later), but one input tuple must not be used by two
// goroutines at once.
type Collector interface {
	// Emit sends values on the default stream, anchored to anchor (nil for
	// an unanchored tuple that is not tracked).
	Emit(anchor *tuple.Tuple, values tuple.Values)
	// EmitTo sends values on stream, anchored to every tuple of anchors.
	EmitTo(stream string, anchors []*tuple.Tuple, values tuple.Values)
	// EmitDirect sends values to one task of a consumer subscribed to the
	// (direct) stream with the Direct grouping.
	EmitDirect(task int, stream string, anchors []*tuple.Tuple, values tuple.Values)
	// Send is the general form; it returns the receiving task ids when
	// m.NeedTaskIDs is set.
	Send(m Message) []int
	// Ack marks t as fully processed by this bolt.
	Ack(t *tuple.Tuple)
	// Fail fails the whole tree of t at once; its spout replays it.
	Fail(t *tuple.Tuple)
	// ResetTimeout restarts the message timeout of t's trees, for
	// tuples held a long time on purpose.
	ResetTimeout(t *tuple.Tuple)
	// ReportError records an error against the task (metrics, UI, logs)
	// without stopping it.
	ReportError(err error)
}

// Message is one emit, with every option.
type Message struct {
	// Stream defaults to tuple.DefaultStream.
	Stream  string
	Anchors []*tuple.Tuple
	Values  tuple.Values
	// DirectTask, when positive, makes the emit direct to that task.
	DirectTask int
	// ID overrides the tuple id inherited from a single anchor.
	ID string
	// NeedTaskIDs asks Send to return the receiving task ids.
	NeedTaskIDs bool
}
