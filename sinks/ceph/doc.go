//go:build ceph

// Package ceph is Gale's Ceph sink, the "ceph_sink" bolt type: it writes
// each batch into a RADOS pool with go-ceph's librados binding, so that a
// replay after any crash writes the same bytes under the same names.
//
// It needs cgo and librados (librados-dev to build, librados2 to run), so
// it builds only with the `ceph` build tag; against Ceph 16 (Pacific, as in
// Debian 12) go-ceph v0.37.0 also needs `pacific`:
//
//	go build -tags ceph,pacific ./...
//
// Package registry/all registers the type when the binary is built with
// the tag (bin/gale-full); `gale` built without it says so beside an
// "unknown type" error.
//
// # Objects and names
//
// Every batch becomes one object per part of sinks.Naming.Parts (one, or
// one per time bucket with time_partition), named as the file sink names
// its files, prefix included:
//
//	<prefix>/<topology>/<topic>[/dt=YYYY-MM-DD[/hh=HH]]/<partition>/<seq>-<start>-<end>.jsonl.lz4[.enc]
//
// in the pool, within the namespace when one is set. The data is
// sinks.Codec.Encode(name, content): an lz4 frame the lz4 tool reads
// (`rados get` then `lz4 -d`), optionally AES-256-GCM sealed; identical
// for identical content. The object carries these xattrs: gale.batch (the
// batch id), gale.records, gale.sha256 (sinks.Checksum of the decoded
// content), gale.start and gale.end (the batch's offsets) and gale.bytes
// (the encoded size).
//
// # Atomicity
//
// An object is written with ONE compound RADOS write op, which the primary
// OSD applies as one transaction: create (idempotent), remove, write_full
// of the data, setxattr of each gale.* attribute. The remove clears any
// older data, xattrs and omap of the object (go-ceph v0.37.0's WriteOp has
// no truncate nor rmxattr; the create before it keeps the remove from
// failing with ENOENT on a new object). Readers see the previous version
// or the new one, never a torn object or new data with old metadata, and a
// replay leaves exactly what one write leaves.
//
// # Large objects: parts and a manifest
//
// RADOS objects should stay small (an OSD refuses single writes above
// osd_max_write_size, 90 MB by default). An encoded object larger than
// max_object_bytes is split, at fixed offsets, into parts of exactly
// max_object_bytes (the last one shorter), written in order, each with
// one op (write_full and the xattr gale.part-of naming the head):
//
//	NAME.part-00000, NAME.part-00001, ...
//
// and then NAME itself is written last, as above, as an empty manifest
// whose xattr gale.parts=N says how many parts to concatenate (plus the
// other xattrs; gale.bytes and gale.sha256 cover the whole). A crash
// before the manifest leaves the previous version of NAME (or none), plus
// parts that the replay of the batch rewrites with the same bytes; since a
// replay encodes identical bytes, rewriting the parts under an existing
// manifest does not change what it describes. Parts beyond the new count
// (left by a version split differently, e.g. after max_object_bytes
// changed) are deleted after the head is written. Reading (Read, `gale
// verify`) concatenates the parts and checks gale.bytes and gale.sha256, so
// a version changed while read is an error, never silently mixed. To read
// a split object by hand: `rados get` each part, concatenate them in
// order, `lz4 -d`.
//
// # Connection and errors
//
// Each sink task opens its own connection (rados.Conn) and pool context at
// the bolt's Prepare and closes them at Cleanup. client_mount_timeout,
// rados_mon_op_timeout and rados_osd_op_timeout are set to
// timeout_seconds, so with the cluster down connecting and every operation
// fail after that time instead of hanging; the sink layer retries failed
// writes with backoff. (go-ceph's calls take no context: the context is
// checked between operations.) A missing pool is a configuration error
// (sinks.ErrConfig) naming the pool, unless create_pool is true: then the
// sink creates it with the cluster's defaults and enables the "rados"
// application on it.
//
// # Config
//
// Besides the keys of sinks.Common (format, field, fields, time_field,
// time_partition, prefix, max_inflight, min_backoff_ms, max_backoff_ms,
// dead_letter_dir; for formats avro and parquet schema, schema_file,
// avro_codec, avro_block_records, parquet_compression,
// parquet_row_group_rows: see "Formats" in package sinks):
//
//	conf_file         ceph.conf to read (default $CEPH_CONF, else /etc/ceph/ceph.conf)
//	user              cephx user without "client." (default "admin")
//	pool              pool of the objects (required)
//	namespace         RADOS namespace (default none)
//	create_pool       create the pool if missing (default false)
//	compression       "lz4" (default) or "none" (must be "none" with formats avro, parquet)
//	encryption        {"key_file": ...} or {"key_env": ...} (default none; see sinks.Codec)
//	max_object_bytes  largest single object, 1 MiB..90 MiB (default 64 MiB)
//	timeout_seconds   bound of connecting and of each mon/OSD op (default 30)
//
// For example:
//
//	{"id": "archive", "type": "ceph_sink", "parallelism": 2,
//	 "inputs": [{"component": "events", "grouping": "batch"}],
//	 "config": {"pool": "gale-archive", "namespace": "prod", "prefix": "raw",
//	            "field": "value", "time_partition": "hour",
//	            "encryption": {"key_file": "/etc/gale/sink.key"}}}
//
// The Writer is also a sinks.Inventory (Objects, Read) for `gale verify`;
// Config.Open gives one outside a topology.
package ceph
