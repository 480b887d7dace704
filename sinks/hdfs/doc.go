// Package hdfs is Gale's HDFS sink, the "hdfs_sink" component type: it
// writes each batch as one file (or, with time partitioning, one file per
// time bucket) into HDFS, with the pure-Go client
// github.com/colinmarc/hdfs/v2 (no cgo, no JVM, no build tag).
//
// # Names
//
// A file's name is the one sinks.Naming makes, under dir:
//
//	<dir>/<prefix>/<topology>/<source>[/dt=YYYY-MM-DD[/hh=HH]]/<partition>/<seq>-<start>-<end><ext>
//
// where <ext> is ".jsonl" (format "json"), ".log" (format "lines"),
// ".avro" or ".parquet" (formats "avro", "parquet": one Avro Object
// Container File or one Parquet file, which Spark, Hive and Trino read in
// place), then ".lz4" with compression, then ".enc" with encryption.
// It derives from the batch alone, so a replayed batch gets the same name,
// and its bytes (sinks.Codec: a deterministic lz4 frame, optionally AES-GCM
// with a deterministic nonce) are the same too.
//
// # Atomicity
//
// Each file is first written under a hidden temporary name in its final
// directory, ".<base>.tmp-<random>", closed (HDFS "complete"; the
// NameNode's "replication in progress" answer is retried a bounded number
// of times with a short backoff, which the client documents as safe), and
// then renamed over the final name with the NameNode's rename2 call with
// OVERWRITE, which replaces an existing file in one atomic NameNode
// operation (the client's Rename sends exactly that). A reader therefore
// sees the old file or the new one, never a partial one, and a replay
// leaves exactly the state of one write. On any failure the temporary file
// is removed (best effort: at once, or, when the connection itself failed,
// by the writer's next successful write); temporaries left by a crash are
// hidden (their names start with a dot, and Objects skips them) and the
// first write of a writer into a directory removes those older than ten
// minutes. Parent directories are created as needed. Files are created
// with the configured replication and block size (HDFS CreateFile). A
// file of several blocks is written one block per session: created with
// its first block and closed, then appended to and closed once per block.
// Written in one session, the Go client could leave such a file never
// complete under load (see sessionBytes in writer.go).
//
// # Failures
//
// Every network operation is bounded by timeout_ms: connecting (to the
// NameNode and the DataNodes), each read and write on the NameNode
// connection (the client sets none itself), and each chunk written to or
// read from a DataNode. A NameNode that is down or hangs makes WriteBatch
// return an error naming the NameNode's address, and the sink layer
// retries the batch with backoff. After an error on the connection the
// writer drops its client (a timed-out RPC leaves the client's stream out
// of step) and connects afresh for the next write.
//
// # Configuration
//
// The keys of sinks.Common (format, field, fields, time_field,
// time_partition, prefix, max_inflight, min_backoff_ms, max_backoff_ms,
// dead_letter_dir; for formats avro and parquet schema, schema_file,
// avro_codec, avro_block_records, parquet_compression,
// parquet_row_group_rows: see "Formats" in package sinks), and:
//
//   - namenode (required): "host:port", or several "host:port,host:port"
//     for a NameNode pair (the client fails over on StandbyException).
//   - user: the HDFS user (default $HADOOP_USER_NAME, else "gale").
//   - dir (required): the absolute HDFS path under which files are written.
//   - replication: replicas per file (0, the default: the cluster's
//     dfs.replication).
//   - block_size: HDFS block size in bytes, a multiple of 512 (0, the
//     default: the cluster's dfs.blocksize; a NameNode refuses sizes below
//     its dfs.namenode.fs-limits.min-block-size, 1 MiB by default).
//   - compression: "lz4" (default) or "none" (required with formats avro
//     and parquet, whose files compress inside).
//   - encryption: {"key_file": ...} or {"key_env": ...} (see
//     sinks.EncryptionConfig; by default $GALE_SINK_KEY); files then end in
//     ".enc".
//   - timeout_ms: bound of each network operation (default 30000).
//
// Example component:
//
//	{"id": "hdfs", "type": "hdfs_sink", "parallelism": 2,
//	 "inputs": [{"component": "events", "grouping": "batch"}],
//	 "config": {"namenode": "127.0.0.1:9000", "dir": "/gale/out",
//	            "field": "value", "time_partition": "hour",
//	            "replication": 3, "block_size": 134217728,
//	            "compression": "lz4"}}
//
// The writer also implements sinks.Inventory for `gale verify`: Objects
// lists a topology's files (names relative to dir, as Naming made them) and
// Read returns a file's decoded content.
package hdfs
