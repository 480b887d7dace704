// Package sinktest is the conformance suite every Gale sink passes: one
// function, Conformance, runs a sink type in real topologies against its
// real backend and checks the promise — after any replay the backend
// holds the same bytes under the same names, nothing lost, nothing twice —
// and what goes with it: tuple-id order, retries with backpressure and
// bounded memory during an outage, dead letters, an inventory `gale
// verify` can read, names that stay under the sink's root.
//
// A sink's test names its type and how to point it at a backend of its
// own:
//
//	func TestConformance(t *testing.T) {
//		sinktest.Conformance(t, sinktest.Backend[file.Config]{
//			Type: file.Type(),
//			Config: func(t testing.TB, place string) map[string]any {
//				return map[string]any{"dir": filepath.Join(t.TempDir(), place)}
//			},
//		})
//	}
//
// The runs use a source of 12 batches of 40 records on two partitions, a
// bolt between it and the sink (two tasks, which fails some tuples once in
// the chaos runs so their batches replay), and the sink with two tasks
// reading with the batch grouping; max spout pending is 3 batches.
package sinktest
