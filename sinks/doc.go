// Package sinks holds Gale's batch-idempotent writers — the bolts that
// keep Gale's promise: after any crash, a replay writes the same bytes
// under the same names into every backend.
//
// A sink is a batch-aware bolt (bolt.BatchBolt). It buffers the tuples of
// each batch (the records a Kafka spout planned under one batch id), and
// when the engine says the batch is complete (FinishBatch, after every
// tuple of the batch reached it), the batch's owner task (the "batch"
// grouping sends a whole batch to one task) formats the records (Format:
// JSON lines or raw lines), orders them by tuple id (CompareIDs), and has
// its backend write the batch as one unit, named from the batch:
//
//	<prefix>/<topology>/<topic>[/dt=YYYY-MM-DD[/hh=HH]]/<partition>/<seq>-<start>-<end><ext>
//
// (Naming; with time partitioning by the records' own timestamps a batch
// spanning two hours is two objects). Only once the write is durable are
// the batch's tuples acked; a replay writes the same name with the same
// bytes (the lz4 framing and the optional AES-GCM encryption of Codec are
// deterministic). A failed write is retried with exponential backoff and
// jitter, the batch's tree kept alive meanwhile; at most MaxInflight
// batches per task are written at once, so a backend that is down stops
// the task, fills its queue and slows the spout down (backpressure): no
// loss, bounded memory. Records a backend rejects for good go to JSON
// lines files in the dead-letter directory, named like their batch.
//
// Backends: file_sink (this package: temporary file, fsync, rename, fsync
// of the directory), ceph_sink (sinks/ceph; cgo, build tag ceph), hdfs_sink
// (sinks/hdfs), es_sink (sinks/elasticsearch: one document per record,
// _id = tuple id), kafka_sink (sinks/kafkasink: one transaction per batch
// with the source offsets). Each implements Writer; object stores also
// implement Inventory and search indices DocumentStore, which `gale verify`
// reads to compare what the backends hold with the spouts' ledgers.
//
// Writing a sink for another backend: implement Writer (WriteBatch must be
// idempotent and atomic per object), give it a config struct embedding
// Common, and register it with SinkType; sinks/sinktest runs it in a real
// topology with replays and failed writes.
package sinks
