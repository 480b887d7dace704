package spout

import (
	"context"
	"time"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Spout is a source of tuples. The engine runs each task's Spout in a
// goroutine of its own: Open, NextTuple, Ack, Fail and Close are never
// called concurrently on one Spout, so a Spout needs no locks of its own.
type Spout interface {
	// Open prepares the spout. out stays valid until Close returns.
	Open(ctx context.Context, tc *topology.TaskContext, out Collector) error
	// NextTuple emits zero or more tuples through the collector and
	// returns quickly. When it emits nothing the engine waits a little
	// (up to a millisecond) before calling it again. A returned error is
	// reported against the component and the spout keeps running; return
	// an error wrapping ErrStop to stop this task for good.
	NextTuple(ctx context.Context) error
	// Ack tells the spout that the tuple tree of msgID completed.
	Ack(msgID any)
	// Fail tells the spout that the tuple tree of msgID failed or timed
	// out; the spout should emit it again (replay).
	Fail(msgID any)
	// Close releases what Open acquired. It is called once, after the
	// last NextTuple/Ack/Fail.
	Close() error
}

// Activator is an optional interface for spouts that want to know when
// their topology is deactivated (NextTuple stops being called) and
// activated again. As in Storm, Activate is also called once before the
// first NextTuple when the topology starts active.
type Activator interface {
	Activate()
	Deactivate()
}

// Pacer is an optional interface for spouts whose NextTuple may wait for
// input or hold back output itself (the Kafka spout waits a few
// milliseconds to fill a batch, and holds a partition at its own max
// pending batches). The engine asks after each NextTuple: waited is the
// time the call spent waiting for input, left out of the spout's busy
// time; heldBack, when the call emitted nothing, says that the topology
// downstream has not finished the spout's earlier tuples, so that the
// wait until the next call counts as throttled, as a wait at max spout
// pending does. Both feed the autoscaler: a busy spout needs more tasks,
// a throttled one needs faster bolts.
type Pacer interface {
	LastNextTuple() (waited time.Duration, heldBack bool)
}

// Resizer is a spout whose tasks can share its work anew while they run,
// so that its component's parallelism changes without stopping the tasks
// that stay (topology.Elastic; the spout's type says so with
// registry.Spout.Resizable). The runtime calls Resize from the task's own
// goroutine, between two NextTuple calls, when the component now runs
// tasks tasks and this one is the index-th of them (0-based), or with
// index -1 when this task leaves.
//
// The spout gives up what is no longer its share without losing it: it
// starts nothing new of it, lets what it has in flight complete, then
// releases it. It takes up what became its share once the previous owner
// released it, or after a bounded wait (the previous owner may never have
// learnt of the change): the spout's own fencing must then make taking it
// over safe, and what the previous owner still had in flight replays. A
// leaving task returns an error wrapping ErrStop from NextTuple once it
// released everything and has no tree pending: the runtime then stops it.
type Resizer interface {
	Resize(tasks, index int)
}

// Collector emits a spout's tuples. Emits may block while downstream
// queues are full: that is how a slow bolt slows its spouts down.
//
// A Collector must only be used from the spout's own goroutine (inside
// Open, NextTuple, Ack or Fail).
type Collector interface {
	// Emit sends values on the default stream. A non-nil msgID makes the
	// tuple reliable: the spout is told Ack(msgID) when its tree
	// completes, or Fail(msgID) when it fails or times out. msgID must be
	// comparable (a map key).
	Emit(values tuple.Values, msgID any)
	// EmitTo sends values on the given stream.
	EmitTo(stream string, values tuple.Values, msgID any)
	// EmitDirect sends values to one task of a consumer subscribed to
	// the (direct) stream with the Direct grouping.
	EmitDirect(task int, stream string, values tuple.Values, msgID any)
	// Send is the general form of the emits above; it returns the ids of
	// the tasks the tuple was sent to when m.NeedTaskIDs is set.
	Send(m Message) []int
	// ReportError records an error against the task (metrics, UI, logs)
	// without stopping it.
	ReportError(err error)
}

// Message is one emit, with every option.
type Message struct {
	// Stream defaults to tuple.DefaultStream.
	Stream string
	Values tuple.Values
	// MsgID makes the tuple reliable; see Collector.Emit.
	MsgID any
	// DirectTask, when positive, makes the emit direct to that task.
	DirectTask int
	// ID is the tuple's deterministic id (e.g. topic/partition/offset).
	ID string
	// BatchID names the batch the tuple belongs to.
	BatchID string
	// NeedTaskIDs asks Send to return the receiving task ids.
	NeedTaskIDs bool
}

// TreeSender is an optional interface of a Collector (the engine's has it):
// SendTree emits every message as ONE tuple tree, tracked as a whole. The
// spout is told Ack(msgID) once when every tuple grown from every message
// completed, or Fail(msgID) once when any failed or the tree timed out.
// "topology.max.spout.pending" counts the tree once. Spouts that process
// batches (the Kafka spout) use it to track a batch with one tree instead
// of one per record. The messages' own MsgID fields are ignored. The
// collector takes the messages' values, never msgs itself: the spout may
// use the slice again once SendTree (or SendBatch) returns.
type TreeSender interface {
	SendTree(msgID any, msgs []Message)
}

// BatchSender is an optional interface of a Collector (the engine's has
// it): SendBatch is SendTree for one batch of a source, described by meta
// (meta.ID must equal the messages' BatchID). After the messages it sends
// every task downstream an end-of-batch marker, so that batch-aware bolts
// (bolt.BatchBolt) learn when they have executed all of the batch's tuples
// — however many tasks and bolts lie between — and sinks can write the
// batch as one unit. The markers belong to the batch's tree: the spout is
// acked only once every bolt has finished the batch.
type BatchSender interface {
	SendBatch(msgID any, meta *tuple.BatchMeta, msgs []Message)
}
