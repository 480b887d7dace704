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
//   - The tasks can share the partitions anew while they run
//     (spout.Resizer, when the component's parallelism changes in place):
//     a task releases a partition that left its share once what it
//     planned of it is committed (it reads nothing new of it meanwhile),
//     and takes up one that entered its share once its ledger shows the
//     previous owner released it — nothing pending — or after 10 s (the
//     previous owner may not know of the change): opening it then fences
//     the previous owner and its pending plans replay first. A task that
//     leaves stops once it released all its partitions. A task started by
//     the change should be told Resize before its first NextTuple, so that
//     it too waits for the previous owners instead of fencing them at once.
//   - Records are read with a franz-go client, one per task: its poll loop
//     hands each partition the records of a fetch at once (no channel
//     operation per record), and a partition whose reader holds two
//     batches' bytes (8-64 MiB) is not fetched until the spout took half
//     of them (backpressure). The task's sarama client keeps the
//     metadata, the log's start and end offsets, the consumer group's
//     offsets and the dead-letter producer; both use the same tls and
//     sasl.
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
//     instead of falling further behind. Growing batches stop at
//     batch.max_bytes (default bytes: batches of large records do not
//     grow unless it is set). Boundaries then
//     depend on the ledger's and the sinks' pace, which is safe — a replay follows the
//     plans written, never a new cut —; max_records = records keeps every
//     batch at records (two runs then cut the same batches). The
//     plan (topology, spout, topic, partition, seq, start, end) is written
//     to the ledger first (fsynced); then each record is emitted as a tuple
//     with BatchID "topic/00003/000000000042" and ID "topic/3/offset".
//     Fields: topic, partition, offset, key, value, timestamp (the record's,
//     Unix milliseconds), headers, then the fields extracted from the
//     decoded value (json, avro, protobuf, json_schema).
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
//   - A record the deserializer rejects (a poison record) goes to the dead-letter topic
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
// # Avro, Protobuf and JSON Schema from a schema registry
//
// The deserializers "avro", "protobuf" and "json_schema" read values in
// the Confluent wire format (magic byte 0, a 4-byte big-endian schema id,
// for Protobuf the message index array, then the payload), with the
// writer's schema fetched by id from a Confluent-compatible schema
// registry (Confluent Schema Registry, Apicurio Registry's
// /apis/ccompat/v7, Redpanda, Karapace) and cached (ids are immutable):
//
//	"deserializer": "avro",
//	"schema_registry": {"url": "https://registry.example:8081",
//	                    "username": "gale", "password_env": "GALE_REGISTRY_PASSWORD",
//	                    "tls": {"ca_file": "/etc/gale/registry-ca.pem"}},
//	"reader_schema": {"type": "record", "name": "User", "fields": [...]},
//	"fields": ["user.name", "tags[0]"]
//
//	key                          meaning
//	schema_registry.url          the registry's base URL (required; http or https)
//	schema_registry.username     basic auth user; the password from
//	schema_registry.password_env   an environment variable of the worker, or
//	schema_registry.password_file  a file (one of the two; never in the topology)
//	schema_registry.tls          ca_file, cert_file and key_file (PEM) for https
//	schema_registry.timeout      each request's deadline (default "5s")
//	reader_schema                avro only: an Avro schema (JSON, inline or as a
//	                             string) every writer schema is resolved into
//	fields                       paths in the decoded value, as with json
//
// The decoded record is the tuple's "value" field: an Avro record or a
// Protobuf message is a map[string]any; the Go value of every Avro and
// Protobuf type (timestamps are time.Time, Avro dates int32 days,
// decimals their exact text, enums their names...) is listed in package
// internal/schemareg. json_schema values are what the json deserializer
// gives (json.Number numbers), validated against their JSON schema.
//
// With reader_schema, records written with several versions of a schema
// (a rolling deploy) decode to one shape: Avro schema resolution fills
// the reader's fields the writer lacks from their defaults and drops the
// writer's fields the reader lacks.
//
// Errors are classified. A registry that is down, slow (schema_registry.timeout),
// answering 5xx or refusing the login, and a schema id it does not know
// yet (asked 3 times, with backoff, before giving up: a registry replica
// may lag its leader) are transient: the batch is held — planned, not
// emitted — and decoded again with backoff (100 ms doubling up to 10 s);
// the partition emits nothing past it and cuts no new batch, so reading
// stops once its reader's queue is full (backpressure). Nothing is
// dead-lettered or skipped for it; NextTuple reports ErrBatchHeld
// wrapping ErrRegistryUnavailable, and the partition's status shows it.
// An unknown schema id (after those 3 tries), a payload that does not
// match its schema, a schema of the wrong type or that does not resolve
// into reader_schema, and a value without the magic byte are poison: the
// record goes to the dead-letter topic with the reason in "gale.error".
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
//   - A write that failed on its deadline may still land: the ledger's
//     writer settles it and reads the partition's ledger again before its
//     next write, so that what it records next agrees with it.
//   - Final errors stop the partition (for this spout; the others go on):
//     fenced by a newer owner, the ledger's storage deleted, a write the
//     ledger refuses as inconsistent, or a ledger read back corrupt.
//     Batches already emitted may still commit.
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
