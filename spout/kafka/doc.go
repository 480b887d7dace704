// Package kafka is Gale's Kafka spout: it reads topics batch by batch, and
// every batch is planned in a durable ledger before any of its tuples is
// emitted, so that any replay — after a failed tuple, a timeout, or a
// crash and restart — re-emits exactly the same records under exactly the
// same batch id. That is what lets Gale's sinks write idempotently.
//
// How it works, per partition:
//
//   - Partitions are spread over the spout's tasks deterministically: the
//     i-th partition of the sorted topics goes to task i mod parallelism;
//     new partitions are picked up every metadata_refresh (30 s).
//   - Records are cut into batches [start, end) of at most batch.records
//     records or batch.bytes bytes, or what arrived within batch.time. The
//     plan (topology, spout, topic, partition, seq, start, end) is written
//     to the ledger first (fsynced); then each record is emitted as a tuple
//     with BatchID "topic/00003/000000000042" and ID "topic/3/offset".
//     Fields: topic, partition, offset, key, value, timestamp (the record's,
//     Unix milliseconds), headers, then the extracted JSON fields.
//   - A batch is sent as one tuple tree followed by end-of-batch markers
//     (spout.BatchSender), so batch-aware bolts downstream — the sinks —
//     learn when they have all of it (bolt.BatchBolt); tuples carry a
//     tuple.BatchMeta with the plan (topic, partition, seq, start, end).
//   - A batch completes when all its tuples are acked: the ledger marks it
//     committed and the consumer group's offset (so Kafka's tools show the
//     lag) advances over the contiguous committed batches only (7 done
//     before 6 waits for 6). A failed or timed-out tuple fails its batch:
//     once its tuples settle the whole batch is emitted again, same plan.
//   - After a restart, committed batches are skipped, planned-but-
//     uncommitted ones are read back from Kafka with their planned ranges
//     and replayed first, and new batches continue after the last plan.
//   - One writer per partition: opening a partition's ledger fences the
//     previous owner, whose next ledger write fails; it then stops
//     emitting for that partition.
//   - A record the deserializer rejects goes to the dead-letter topic
//     (default "<topic>.dlq", created with one partition when missing)
//     with the error in the "gale.error" header and
//     its source in "gale.source"; it is counted and never blocks the
//     partition. A batch replay dead-letters it again (at-least-once).
//   - Brokers that are down are retried with backoff (errors reported,
//     no crash); a missing topic is reported by name.
//
// The ledger ("ledger" in the config) is a directory of files (kind
// "file", the default: local mode) or a compacted Kafka topic (kind
// "kafka": production, fenced with transactional producers). In a cluster
// a spout task can move to another worker, and a file ledger on the old
// worker's disk stays behind: its new owner would cut new batches and the
// sinks would hold duplicates and mismatches. So a cluster refuses a
// topology whose kafka spout keeps its ledger in files
// (Config.CheckCluster, at submit and before a worker runs a stored
// topology), unless the directory is on a filesystem every worker mounts
// at the same absolute path: {"kind": "file", "dir": "/mnt/shared/ledger",
// "shared": true}. `gale run`, one process, takes either kind.
package kafka
