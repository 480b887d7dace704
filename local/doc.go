// Package local is Gale's runtime: it runs a topology in this process, the
// way Storm's LocalCluster does — for `gale run`, for tests of your own
// components, for programs that embed Gale — and a cluster worker's share
// of one (package cluster runs every share through it).
//
//	reg := all.Registry()                      // the built-in types (registry/all)
//	reg.MustRegister(myBolt)                   // and yours
//	topo, err := topology.Decode(data, reg)   // the topology remembers reg
//	...
//	stats, err := local.Run(ctx, topo, local.Options{})
//
// Run returns when ctx is cancelled (after draining the tuples in flight,
// for at most Options.DrainTimeout) or when every spout has stopped by
// itself (spout.ErrStop) and every tuple tree is complete. To watch a
// topology while it runs, or pause its spouts, build the Runtime with New
// and call Run, Stats, Activate and Deactivate yourself.
//
// # What runs
//
// Every component becomes Parallelism tasks, numbered as Storm does
// (components sorted by id, tasks 1..N; a component with an autoscale
// policy holds ids up to its max: topology.TaskSlots), and an elastic
// bolt's tasks can change while the others run (Runtime.Reshape). Each
// task runs in its own
// goroutine with a bounded input queue; tuples move between the tasks of
// this process in batches (topology.transfer.batch.size) without
// serialisation, and a slow bolt fills its queue and blocks its producers,
// up to the spouts: memory stays bounded. Acker tasks track every tuple
// tree with Storm's XOR algorithm (package acker); a tree that is not
// complete within topology.message.timeout.secs fails, and its spout
// replays it. A spout that sends batches (spout.BatchSender) has them
// delivered, whole, to batch-aware bolts (bolt.BatchBolt): the sinks.
//
// The components are built by the catalog the topology was validated
// against (topology.Topology.Catalog): a registry is given once.
//
// # What it reports
//
// Stats is a snapshot of every task's counters (emitted, transferred,
// acked, failed, executed, errors), sampled latencies (execute, process,
// complete with p50 and p99), the estimated busy time (Storm's capacity),
// the last errors, custom metrics (topology.TaskContext.RecordMetric), and
// what spouts and bolts report themselves when they implement
// StatusReporter: a Kafka spout its partitions (PartitionStatus), a sink
// its writes (SinkStatus). The monitor UI, /metrics and `gale run` read
// them.
//
// # A worker's share
//
// Options.Placement runs only some tasks and acker tasks here: what they
// send to the others leaves through Placement.Remote as messages (the
// codec of package internal/codec), and what the others send comes in
// through Runtime.Receive. Cluster workers do this; a program that runs a
// topology in one process never needs it.
package local
