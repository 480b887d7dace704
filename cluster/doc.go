// Package cluster makes Gale a clustered engine with no single master:
// `gale worker` nodes (Worker) find each other with gossip (membership),
// keep the cluster's state — submitted topologies, their status, task
// assignments — in a store outside themselves (store: files or a compacted
// Kafka topic), and run their share of every topology through an engine
// Placement. One worker, the holder of the leader lease in the store
// (store.Elector), writes the assignments over the membership once it has
// been stable for a second (a flapping worker moves nothing), balanced and
// stable: a joining or leaving worker moves few tasks; epochs only grow.
// Every worker runs what its assignment gives it, and tuples, acks and
// tree completions travel between workers over one multiplexed TCP
// connection per pair (transport, with the binary codec of
// internal/codec). Every worker serves the HTTP API (api) that
// the CLI and the UI use.
//
// When a worker leaves or dies, the others see it within seconds, the
// leader reassigns its tasks, and the spouts replay the trees it held at
// once rather than at their timeout.
package cluster
