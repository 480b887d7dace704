// Package cluster makes Gale a clustered engine with no single master:
// `gale worker` nodes (Worker) find each other with gossip, keep the
// cluster's state — submitted topologies, their status, task assignments
// — in a store outside themselves (package cluster/store: files or a
// compacted Kafka topic), and run their share of every topology with the
// runtime of package local (local.Options.Placement). One worker, the
// holder of the leader lease in the store (store.Elector), writes the
// assignments over the membership once it has been stable for a moment (a
// flapping worker moves nothing), balanced and stable: a joining or
// leaving worker moves few tasks; epochs only grow. Every worker runs what
// its assignment gives it; the runtimes of one topology exchange tuples,
// acks and tree completions as messages (internal/codec) that the workers
// carry, opaque, over one multiplexed TCP connection per pair. Every worker
// serves the HTTP API (package cluster/api) that the CLI and the monitor UI
// use, the UI itself and /metrics; ServeLocal serves the same for a
// topology run in one process (`gale run --ui`).
//
// When a worker leaves or dies, the others see it within seconds, the
// leader reassigns its tasks, and the spouts replay the trees it held at
// once rather than at their timeout.
//
// The machinery — gossip membership, the transport, the scheduler, the
// monitor's windows and the versioned reports workers exchange, the UI,
// the Prometheus collector — lives in cluster/internal: nothing outside
// this module can import it.
package cluster
