// Package spout is the API for writing spouts: the components that bring
// tuples into a topology from a source (a queue, a file, a generator).
//
// # The contract
//
//   - One instance per task; Open, NextTuple, Ack, Fail and Close are never
//     called concurrently on one instance, so a spout needs no locks.
//   - NextTuple emits zero or more tuples through the [Collector] and
//     returns quickly; when it emits nothing, the engine backs off a little
//     (up to a millisecond) before calling it again. Return an error
//     wrapping [ErrStop] when the source is exhausted: the task stops once
//     its pending tuples are acked or failed, and a topology whose spouts
//     have all stopped finishes.
//   - Reliability: emit with a non-nil message id and the spout is told
//     Ack(id) when the whole tree of tuples grown from it is processed, or
//     Fail(id) when any bolt failed it or it timed out
//     ("topology.message.timeout.secs"); Fail is the spout's cue to emit
//     it again. Emitting with a nil id means fire and forget.
//   - "topology.max.spout.pending" caps the trees in flight per task:
//     NextTuple is not called while the cap is reached.
//   - Emits may block while downstream queues are full (backpressure).
//   - Optional interface [Activator]: told when the topology is
//     deactivated and activated.
//
// Register a spout type with registry.RegisterSpout; spouts in other
// languages run through the "shell" type (package spout/shell).
package spout
