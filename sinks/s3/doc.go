// Package s3 is Gale's S3 sink, the "s3_sink" bolt type: it writes each
// batch as objects of a bucket of any S3-compatible store — AWS S3, Ceph's
// RADOS Gateway, MinIO, Pure FlashBlade, ... — so that a replay after any
// crash writes the same bytes under the same keys.
//
// A binary that imports the package (even as `import _`) has the type in
// registry.Default. It is pure Go (no cgo, no build tag).
//
// # Keys
//
// Every batch becomes one object per part of sinks.Naming.Parts (one, or
// one per time bucket with time_partition), keyed as the file sink names
// its files, prefix included:
//
//	<prefix>/<topology>/<topic>[/dt=YYYY-MM-DD[/hh=HH]]/<partition>/<seq>-<start>-<end>.jsonl.lz4[.enc]
//
// (".log" instead of ".jsonl" with format "lines"; no ".lz4" with
// compression "none"). The key derives from the batch alone, and the bytes
// (sinks.Codec: an lz4 frame with fixed settings, optionally AES-256-GCM
// with a key per object and a nonce from the content) from its records
// alone, so a replayed batch gets the same key with the same bytes. `aws s3
// cp s3://bucket/key - | lz4 -d` reads an object.
//
// Each object carries user metadata (x-amz-meta-*, see sinks.ObjectMeta):
// gale-batch (the batch id), gale-records, gale-sha256 (sinks.Checksum of
// the decoded content), gale-start and gale-end (the batch's offsets) and
// gale-bytes (the stored size); and a Content-Type: application/x-lz4,
// application/octet-stream when encrypted, application/x-ndjson or
// text/plain otherwise.
//
// # Atomicity and replays
//
// An object up to multipart_threshold_bytes (default 16 MiB, once encoded)
// is stored with one PutObject. S3 applies a PutObject whole or not at all,
// and replaces an existing object atomically: a reader sees the old object
// or the new one, never a part of one. Writing a batch again (a replay)
// therefore leaves exactly what one write leaves, and, the bytes being the
// same, the object does not change (its ETag, the MD5 of the bytes, stays
// the same too). The requests carry Content-MD5, so the store refuses a
// body damaged on the way (BadDigest) instead of storing it.
//
// # Large objects: multipart uploads
//
// A larger object goes as a multipart upload: CreateMultipartUpload (with
// the metadata), the object's bytes cut at fixed offsets into parts of
// part_bytes (default 8 MiB, at least S3's 5 MiB; larger when an object
// would need more than S3's 10,000 parts), each with UploadPart and its
// Content-MD5, at most part_concurrency (default 4) at once, then
// CompleteMultipartUpload. The object appears only when the upload
// completes, whole, replacing the previous version atomically as a
// PutObject does; until then readers see the previous version. The parts
// are slices of the encoded object already in memory: the upload adds no
// copy of it, whatever the number of parts (the memory a batch costs is its
// content and its encoded form, as with every sink).
//
// On any failure — a part refused, a timeout, the sink stopping (its
// context ending) — the writer aborts the upload (AbortMultipartUpload,
// with a context of its own bounded by timeout_seconds, so that it runs
// even when the write's context has ended), so no incomplete upload, whose
// parts a store keeps and bills until a lifecycle rule removes them, is
// left behind; then the batch is retried, as a new upload. A crash of the
// process between the start of an upload and its end leaves an incomplete
// upload, which no one aborts: give the bucket a lifecycle rule
// (AbortIncompleteMultipartUpload after a day) in production. A replay
// uploads the same parts again; since the parts are cut at the same
// offsets, the multipart ETag ("<md5 of the parts' md5s>-N") is the same
// too.
//
// # Credentials
//
// The topology never holds a secret: the config names where the keys are.
// By default the sink reads the variables the AWS tools read,
// $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and (optionally)
// $AWS_SESSION_TOKEN; access_key_env, secret_key_env and session_token_env
// name others. With credentials_file the keys come from an AWS shared
// credentials file instead (aws_access_key_id, aws_secret_access_key,
// aws_session_token in section credentials_profile, default "default").
// They are read when the sink opens (missing ones are a configuration
// error naming the variable or the section) and again every minute, so
// rotated keys are taken up without a restart. No message the sink writes
// holds a key: errors name the variables, the file and its sections, never
// their values, and the SDK logs nothing. Endpoints with user:password
// are refused.
//
// # Opening, errors and retries
//
// Each sink task makes its own client (and connection pool) at the bolt's
// Prepare, and checks the bucket with one ListObjectsV2 of at most one key,
// which also proves the credentials: a missing bucket, wrong keys or a
// missing permission fail the topology's start with a clear message rather
// than its first batch. A missing bucket is a configuration error
// (sinks.ErrConfig) naming the bucket, unless create_bucket is true: then
// the sink creates it (with the region as location constraint, but for
// us-east-1).
//
// Every request is bounded by timeout_seconds (the SDK's own retries of it
// included: three attempts of the standard retryer). A failed request is a
// *RequestError, with the operation, the key, the HTTP status and the S3
// error code. errors.Is(err, ErrPermanent) tells the refusals that retrying
// cannot overcome as things stand (4xx such as NoSuchBucket, AccessDenied,
// InvalidAccessKeyId, SignatureDoesNotMatch; 501) from transient failures
// (5xx, SlowDown and other throttling, timeouts, connection errors);
// ErrNoSuchBucket and ErrAccessDenied match those causes. The sink layer
// retries a failed write with backoff until it succeeds — for a permanent
// refusal too, reporting it each time: a bucket may be created, or a key
// rotated, while the batches wait, held, never dropped.
//
// # The SDK
//
// The client is the AWS SDK for Go v2 (github.com/aws/aws-sdk-go-v2,
// service/s3): AWS's own client, which AWS S3 and every S3-compatible store
// test against, with no dependency outside AWS's modules, typed errors
// (the HTTP status and the S3 code without parsing messages), and the
// multipart calls themselves, so that the sink decides how parts are cut,
// how many go at once, and that a failed upload is aborted. Since
// service/s3 v1.73.0 (January 2025) the SDK adds CRC32 checksums to every
// upload and validates those of downloads by default, which many
// S3-compatible stores refuse (XAmzContentSHA256Mismatch, "aws-chunked
// encoding is not supported": over https the checksum goes as a trailer of
// an aws-chunked body) or do not send back. The sink sets
// RequestChecksumCalculation and ResponseChecksumValidation to "when
// required" and sends Content-MD5 instead, which every S3 store checks. The
// client is configured directly, not from ~/.aws/config, so nothing but
// this config decides where the sink writes and with which keys.
//
// # Config
//
// Besides the keys of sinks.Common (format, field, fields, time_field,
// time_partition, prefix, max_inflight, min_backoff_ms, max_backoff_ms,
// dead_letter_dir; for formats avro and parquet schema, schema_file,
// avro_codec, avro_block_records, parquet_compression,
// parquet_row_group_rows: see "Formats" in package sinks):
//
//	endpoint                   the store's URL, "http(s)://host[:port]" (default: AWS S3 of region)
//	region                     signing region; with AWS also the endpoint's (default "us-east-1")
//	bucket                     the bucket of the objects (required)
//	path_style                 bucket in the path, not the host name (default: true with an endpoint)
//	create_bucket              create the bucket if missing (default false)
//	access_key_env             variable holding the access key (default "AWS_ACCESS_KEY_ID")
//	secret_key_env             variable holding the secret key (default "AWS_SECRET_ACCESS_KEY")
//	session_token_env          variable holding a session token, if set (default "AWS_SESSION_TOKEN")
//	credentials_file           an AWS shared credentials file, read instead of the variables
//	credentials_profile        its section (default "default")
//	tls_ca_file                PEM of the CAs to trust for an https endpoint (default the system's)
//	compression                "lz4" (default) or "none" (must be "none" with formats avro, parquet)
//	encryption                 {"key_file": ...} or {"key_env": ...} (default none; see sinks.Codec)
//	multipart_threshold_bytes  larger objects go as multipart uploads, 5 MiB..5 GiB (default 16 MiB)
//	part_bytes                 size of their parts, 5 MiB..5 GiB (default 8 MiB)
//	part_concurrency           parts of one object uploaded at once, 1..64 (default 4)
//	timeout_seconds            bound of each request, with its retries (default 60)
//
// For example, into Ceph's RADOS Gateway, with the keys in $RGW_ACCESS_KEY
// and $RGW_SECRET_KEY:
//
//	{"id": "archive", "type": "s3_sink", "parallelism": 2,
//	 "inputs": [{"component": "events", "grouping": "batch"}],
//	 "config": {"endpoint": "http://rgw.example:7480", "bucket": "gale-archive",
//	            "access_key_env": "RGW_ACCESS_KEY", "secret_key_env": "RGW_SECRET_KEY",
//	            "prefix": "raw", "field": "value", "time_partition": "hour"}}
//
// The principal needs s3:PutObject, s3:AbortMultipartUpload and
// s3:ListBucket (the check at open, and `gale verify`), and s3:GetObject
// for `gale verify`.
//
// The Writer is also a sinks.Inventory (Objects lists a topology's keys
// page by page; Read gets an object, decodes it and checks it against its
// gale-sha256) for `gale verify`; Config.Open gives one outside a topology.
package s3
