// Package builtin holds Gale's built-in spouts for demos and tests:
//
//   - "generator" emits sentences chosen deterministically from a list. The
//     value of tuple number i is a pure function of (seed, i), so a replay
//     of message id i re-emits exactly the same values without the spout
//     keeping them, and two runs with the same seed emit the same data.
//   - "lines" emits one tuple per line of a file, or of stdin with path
//     "-", and can follow a growing file like tail -f.
//
// Importing the package registers nothing: the gale command line gets
// the types from package registry/all, and tests and embedding programs
// add them to a registry of their own with [Register]:
//
//	reg := registry.New()
//	if err := builtin.Register(reg); err != nil {
//		return err
//	}
//
// Both spouts are reliable by default: they emit with message ids, keep
// what they need to replay a failed tuple (nothing for the generator, the
// line's text for lines) and replay failed ids before emitting new
// tuples. When their input is exhausted and every tuple was acked, their
// NextTuple returns an error wrapping [spout.ErrStop] so that the engine
// can finish the topology.
//
// A spout value is used by one task; as spout.Spout requires, its Open,
// NextTuple, Ack, Fail and Close are never called concurrently. The
// counters (Emitted, Acked, Failed, Replayed) may be read from any
// goroutine.
package builtin
