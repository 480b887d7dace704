package bolt

import (
	"context"

	"github.com/gale-stream/gale/tuple"
)

// BatchBolt is a Bolt that is told when it has executed every tuple of a
// batch: the tuples a spout sent together with spout.BatchSender (the
// Kafka spout sends each planned offset range so), and every tuple grown
// from them upstream of this bolt.
//
// The engine knows a batch is complete at a task from end-of-batch markers:
// each upstream task, once it has finished the batch itself, tells each
// downstream task how many of the batch's tuples it sent it. When every
// upstream task has reported and that many tuples were executed, the task
// calls FinishBatch and then forwards its own markers downstream. So
// FinishBatch of a bolt runs after FinishBatch of every batch-aware bolt
// upstream of it has returned.
//
// Every task of the bolt gets FinishBatch for every batch, also a task that
// received none of its tuples (Batch.Executed == 0); under the "batch"
// grouping one task — Batch.Owner — gets all of them.
//
// A replay of a batch is a new attempt (Batch.Attempt differs) that brings
// the same tuples again; a bolt that still holds tuples of an older attempt
// of the same batch should drop them (their tree has already failed).
//
// Tuples emitted to a batch's tuples must be emitted inside Execute or
// FinishBatch, anchored to the batch's tuples (or to Batch.End); emits made
// later from other goroutines are not counted in the batch's markers.
type BatchBolt interface {
	Bolt
	// FinishBatch is called on the task's goroutine once every tuple of the
	// batch that reaches this task has been executed. It must ack (or fail)
	// the tuples of b.End, the end markers, like any input — normally
	// together with the batch's tuples, once the batch is durably handled;
	// the batch's tree completes only then. Returning an error fails them
	// (and so the batch) unless they were acked or failed already.
	FinishBatch(ctx context.Context, b *Batch) error
}

// Settle acks every tuple of lists when ok, else fails them: how a
// BatchBolt settles a batch's tuples and its end markers together. The
// engine's collectors do it in bulk (a lock and a flush per thousand
// tuples instead of per tuple, and one message to the acker for the
// tuples of a tree that follow each other).
func Settle(out Collector, ok bool, lists ...[]*tuple.Tuple) {
	if s, bulk := out.(bulkSettler); bulk {
		for _, l := range lists {
			s.SettleAll(ok, l)
		}
		return
	}
	for _, l := range lists {
		for _, t := range l {
			if ok {
				out.Ack(t)
			} else {
				out.Fail(t)
			}
		}
	}
}

// bulkSettler is a Collector that acks or fails many tuples in one call,
// with the effect of Ack or Fail on each in turn.
type bulkSettler interface {
	SettleAll(ok bool, tuples []*tuple.Tuple)
}

// Batch is one attempt of one batch at one task of a BatchBolt.
type Batch struct {
	// Meta describes the batch (id, source range); shared, read-only.
	Meta *tuple.BatchMeta
	// Attempt identifies this attempt of the batch; a replay has another.
	Attempt uint64
	// Executed is how many of the batch's tuples this task executed.
	Executed int
	// Owner reports whether this task is the one the "batch" grouping sends
	// the batch to (the task that writes it, for a sink, even when it is
	// empty).
	Owner bool
	// Failed reports that a tuple of this attempt was failed (by this bolt
	// or upstream): the batch will be replayed, and what this task received
	// of it may be partial. Do not write it; fail (or ack) and drop its
	// tuples and markers.
	Failed bool
	// End are the end-of-batch markers the task received; ack them when the
	// batch is done.
	End []*tuple.Tuple
}
