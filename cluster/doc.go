// Package cluster will make Gale a clustered engine with no single master:
// `gale worker` nodes that find each other with gossip
// (hashicorp/memberlist), compute the same task assignment from the live
// members and the submitted topologies, carry tuples between workers over
// one multiplexed TCP connection per pair with backpressure, serve the
// HTTP API and the monitor UI, and restart a dead worker's tasks elsewhere
// within seconds. Durable state (submitted topologies, assignments, the
// batch ledger) lives outside the workers.
//
// Today topologies run in one process: see internal/engine and `gale run`.
package cluster
