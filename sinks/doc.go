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
// The backends, one package each: file_sink (sinks/file: temporary file,
// fsync, rename, fsync of the directory), s3_sink (sinks/s3: any
// S3-compatible store; one PutObject, or a multipart upload aborted on
// failure), ceph_sink (sinks/ceph: RADOS objects with one atomic write op;
// cgo, build tag ceph), hdfs_sink (sinks/hdfs), es_sink
// (sinks/elasticsearch: one document per record, _id = tuple id) and
// kafka_sink (sinks/kafkasink: one transaction per batch with the source
// offsets). Package registry/all registers them all. Each implements
// Writer; its config implements Verifiable, whose store is an Inventory
// (object stores) or a DocumentStore (a search index, a topic), which
// `gale verify` reads to compare what the backends hold with the spouts'
// ledgers.
//
// # A sink for another backend
//
// Implement Writer: WriteBatch writes one batch, already ordered, as the
// objects Naming.Parts names, each atomically, so that writing the same
// batch again leaves the same names with the same bytes. Give it a config
// struct embedding Common (its keys sit beside the backend's own in a
// component's "config"), with a Validate method, and register the type
// built by Type (see its example). Implement Verifiable on the config so
// that `gale verify` can read the backend. Then make the sink's test call
// sinktest.Conformance (package sinks/sinktest): the suite every sink
// passes, against the real backend — replays that write identical bytes,
// an outage held by backpressure, dead letters, the inventory, names that
// stay under the sink's root.
package sinks
