// Package file is the "file_sink" type: each batch becomes one file (per
// time bucket) on a local or shared filesystem, named from the batch
//
//	<dir>/<prefix>/<topology>/<topic>[/dt=YYYY-MM-DD[/hh=HH]]/<partition>/<seq>-<start>-<end>.jsonl.lz4
//
// and written atomically and durably: a temporary file in the same
// directory, fsync, rename over the final name, fsync of the directory. A
// replay writes the same name with the same bytes (the lz4 frame and the
// optional AES-GCM encryption of sinks.Codec are deterministic), so a crash
// at any point leaves either the old file or the new one, never a part and
// never a duplicate. The `lz4` command-line tool reads the files; `gale
// decrypt` opens encrypted ones.
//
// Config (beside sinks.Common's format, time_partition, prefix,
// max_inflight, backoff and dead_letter_dir, and the schema and settings
// of formats avro and parquet: see "Formats" in package sinks):
//
//	{"dir": "/data/events", "compression": "lz4", "encryption": {"key_file": "/etc/gale/key"}}
//	{"dir": "/data/events", "format": "parquet", "schema_file": "/etc/gale/event.avsc", "compression": "none"}
//
// dir is required; compression is "lz4" (default) or "none" (required
// with formats avro and parquet, whose files compress inside); no_fsync is
// for throwaway data only.
package file
