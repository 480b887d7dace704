// Package bolt is the API for writing bolts: the components that consume
// streams, transform them, and emit new tuples.
//
// # Two ways to write a bolt
//
// A [BasicBolt] is the easy one: every tuple it emits is anchored to the
// input being executed, and the input is acked when Execute returns nil or
// failed (so that its spout replays it) when Execute returns an error. Wrap
// it with [Basic]; a stateless one-function bolt is a [Func].
//
// A [Bolt] has full control through its [Collector]: it anchors emits to
// any inputs it holds, acks or fails each input itself, possibly later
// (a bolt that aggregates acks when it flushes), emits on named streams or
// directly to a task, and resets the timeout of tuples it holds on purpose.
// Every input must eventually be acked or failed, or its tree times out.
//
// # The contract
//
//   - One instance per task: the engine calls the type's factory once per
//     task. Prepare, Execute and Cleanup are never called concurrently on
//     one instance, so a bolt needs no locks for its own state.
//   - The values of an input tuple are shared with other receivers: read
//     them, never modify them.
//   - Emits may block while downstream queues are full: that is how a slow
//     bolt slows its spouts down (backpressure).
//   - A panic in Execute is recovered: the input fails, the panic is
//     counted and reported with the component id, the task keeps running.
//   - Tick tuples: give the component "tick": "1s" in the topology and
//     test t.IsTick() in Execute.
//
// # Registering a type
//
// Topologies name bolts by type. Register a [registry.BoltType] with its
// name, its config struct (decoded strictly from the component's JSON
// "config", errors naming their JSON path), its output streams and its
// factory; see package registry and examples/custom-bolt. Bolts written in
// other languages run through the "shell" type (package bolt/shell).
package bolt
