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
//     records or batch.bytes bytes, or what arrived within batch.time.
//     Under load a batch grows: while the ledger writes the partition's
//     previous plans, the next batch keeps filling up to
//     batch.max_records (default 10 × records) and is cut when the write
//     returns, so a ledger write (a Kafka transaction) carries more
//     records as the rate rises instead of capping it; likewise the
//     first batch cut after the partition was held at
//     max_pending_batches (the sinks behind) fills up to max_records, so
//     a slow store (HDFS, an object store) gets fewer, larger objects
//     instead of falling further behind. Boundaries then
//     depend on the ledger's and the sinks' pace, which is safe — a replay follows the
//     plans written, never a new cut —; max_records = records keeps every
//     batch at records (two runs then cut the same batches). The
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
//
// # TLS and SASL
//
// "tls" and "sasl", next to "brokers", secure every connection of the
// spout, its Kafka ledger's included (same brokers, same settings):
//
//	"brokers": ["kafka-1.example:9094"],
//	"tls":  {"enabled": true, "ca_file": "/etc/gale/kafka-ca.pem"},
//	"sasl": {"mechanism": "SCRAM-SHA-512", "username": "gale",
//	         "password_file": "/etc/gale/kafka-password"}
//
// The password comes from password_file or password_env (a variable of
// the worker), never from the topology, which refuses a "password". A
// refused login is reported naming the brokers, the mechanism and the user
// (kafkasec.AuthError), a failed TLS handshake with what to check; both
// are retried like unreachable brokers. See package internal/kafkasec for
// every field.
//
// # The ledger: deadlines, retries, and a task that never waits on it
//
// The ledger is a file store (ledger.kind "file", local mode) or a
// compacted Kafka topic (ledger.kind "kafka"). Each partition's ledger is
// written by a goroutine of the spout's own (its ledger loop), never by
// the goroutine the engine calls NextTuple, Ack and Fail on, so a broker
// that hangs does not freeze the task:
//
//   - Every ledger call has a deadline, ledger.timeout (default 10s).
//   - Ack and Fail only count; a batch whose tuples are all acked is
//     handed to the ledger loop to commit and stays in flight
//     ("committing") until the ledger answers. NextTuple first takes the
//     answers: committed batches advance the consumer group's offset (over
//     contiguous batches only, whatever order the commits end in).
//   - A commit that fails is retried with exponential backoff and jitter
//     (100 ms doubling up to 10 s), the batch kept, never dropped and
//     never emitted again; the partition's status counts the retries
//     (commit_retries) and shows the last error. Committing batches count
//     against max_pending_batches, so a ledger that stays down holds the
//     partition rather than piling batches up.
//   - A plan is still written before its batch is emitted, but NextTuple
//     does not wait for it: it goes on reading and cutting batches (up to
//     max_pending_batches, planned ones included), and a later NextTuple
//     emits the batch once the ledger confirmed its plan. A plan that
//     failed (after at most ledger.timeout) is reported by NextTuple,
//     naming the batch, and tried again with the same boundaries.
//   - Each ledger write carries every write queued while the last one was
//     on its way (ledger.Writer.Apply): the plans of the batches cut and
//     the commits of the batches completed meanwhile cost one transaction,
//     so under load the ledger writes fewer, larger records rather than
//     holding the partition back.
//   - Final errors stop the partition (for this spout; the others go on):
//     fenced by a newer owner, the ledger's storage deleted, or a write
//     the ledger refuses as inconsistent. Batches already emitted may still
//     commit.
//   - Close gives the commits still queued one last try, within
//     ledger.timeout; a batch whose commit did not land is replayed after
//     a restart, with its plan.
//
// # Records Kafka deleted before they were read (on_data_loss)
//
// Retention can delete records the spout still has to read: the rest of a
// batch planned before a crash, or the next records of a spout that fell
// behind. The spout sees it from the partition's log start offset (Kafka
// refuses the read as out of range), and never retries such a read
// forever nor skips it silently. on_data_loss decides:
//
//   - "skip" (the default): the lost offsets are recorded in the ledger
//     (ledger.Writer.Lose) and the partition goes on from the log start.
//     A planned batch keeps its id and plan: the offsets before the log
//     start are recorded lost and the rest of it is emitted; a batch lost
//     whole, or the offsets [next, log start) a spout that fell behind
//     never read (planned as one batch), are recorded lost and emitted
//     empty, so that the sinks record the batch. The loss shows in the
//     partition's status (lost_offsets, last_lost), in
//     gale_kafka_partition_lost_records_total (alert on its increase), in
//     the monitor's partition table and `gale describe`, and `gale verify`
//     exits 1 naming the ranges.
//   - "fail": the partition stops with a *DataLossError naming the topic,
//     partition, batch and lost range (ErrDataLoss), reported once and
//     shown as the partition's stopped reason; nothing is recorded lost,
//     nothing more is emitted from it. To go on, restart the spout with
//     "skip" (which records the loss).
//
// "skip" is the default because stopping brings nothing back: the records
// are gone either way, and while a stopped partition stands still its
// lag grows and retention deletes more of what it has not read, turning a
// small, known loss into a larger one. Skipping keeps the loss as small as
// it can be, and explicit: recorded durably with its exact offsets, counted
// in a metric one alerts on, and failing `gale verify`. Choose "fail" when
// no record may be given up without a person deciding, and the partition
// is watched closely enough to be restarted before retention runs again.
package kafka
