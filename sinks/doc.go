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
// # Formats
//
// The keys of Common that choose what an object holds:
//
//	format                  "json" (default): JSON lines, ".jsonl"; "lines": text lines, ".log";
//	                        "avro": one Avro Object Container File, ".avro";
//	                        "parquet": one Parquet file, ".parquet"
//	field                   json: the field holding the document (default: all fields);
//	                        lines: the text; avro, parquet: the record (default "value")
//	fields                  json without field: the fields to write (default all)
//	schema                  avro, parquet: the Avro schema of the records, a JSON object
//	                        or a JSON string holding one (its root is a record)
//	schema_file             avro, parquet: a file holding the schema, instead of schema
//	avro_codec              avro: "deflate" (default, level 6), "snappy" or "null"
//	avro_block_records      avro: records per block (default 1000)
//	parquet_compression     parquet: "snappy" (default), "zstd" (one goroutine, default
//	                        level) or "none"
//	parquet_row_group_rows  parquet: rows per row group (default 100000)
//
// With avro and parquet, Format.Record coerces the tuple's field to the
// schema (package internal/avro: the Go values of Gale's Avro, Protobuf
// and JSON deserializers, or JSON text; json.Number to int, long, float or
// double; RFC 3339 text or a number in the field's unit to a timestamp): a
// value that does not fit is a rejection, written to the dead-letter
// files with the path of the field at fault ("at value.items[2].qty: want
// int, got string \"x\""), and the batch goes on without it. The
// object's content is then made by the format's Encoder from the records'
// values, in batch order: an Avro file (the schema and codec in its
// header, a sync marker derived from the object's name, a block every
// avro_block_records records) or a Parquet file (a schema derived from the
// Avro one, see internal/parquetfile; a row group every
// parquet_row_group_rows rows; no timestamp in it): the same batch gives
// the same bytes. Such files compress inside, so the backends' lz4
// compression is refused with them ("compression": "none"); encryption
// applies as to any object. `gale verify` counts and sums the records of
// an Avro file and the rows of a Parquet file as it does a file's lines,
// each as its record's Avro encoding, so that Avro and Parquet sinks
// compare with each other (LinesSum.AddObject).
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
