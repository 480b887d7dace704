// Package elasticsearch is Gale's Elasticsearch sink, the "es_sink" bolt
// type: it indexes every record of a batch as one document of an
// Elasticsearch-API cluster (Elasticsearch or OpenSearch), through
// github.com/opensearch-project/opensearch-go/v4. Pure Go.
//
// # What it writes
//
// Each record's line (the sink needs format "json", so each line is one
// JSON document) is the document's _source, stored as sent, under
// _id = the tuple id (e.g. "events/3/1042"), with the _bulk API's "index"
// action, in batch order, in chunks of at most bulk_max_docs documents and
// bulk_max_bytes bytes of request body.
//
// # Names and idempotence
//
// The index is fixed ("logs") or holds one date pattern: a Go time layout
// in braces, "logs-{2006.01.02}", filled from each record's timestamp
// (sinks.Record.Time, UTC, taken from the tuple, never from the clock), so
// that a replay sends every document to the same index. A record without
// a timestamp goes to the index whose pattern part reads "none"
// ("logs-none"). Since the _id is the tuple id and the action is "index"
// (create or replace), writing a batch again — a replay after a crash, or
// the sink layer's retry after a failed call — leaves exactly the
// documents of one write: the same ids, the same sources. A crash in the
// middle of a batch leaves some documents of it, each whole; the replay
// writes them all again. The sink does not refresh: documents become
// searchable at the index's refresh interval.
//
// # Errors, retries, rejections
//
//   - Items answered 429 (too many requests) or 5xx are sent again, only
//     those, with exponential backoff and jitter, a bounded number of times
//     within one call; if some still fail, the call fails and the sink
//     layer retries the whole batch (harmless: it is idempotent).
//   - Items refused for good (another 4xx: a mapping conflict such as
//     mapper_parsing_exception, an id too long, ...) come back as
//     sinks.Rejection{ID, Error: "<index>: <type>: <reason>"}: they go to
//     the dead-letter files and the rest of the batch succeeds.
//   - Item errors that concern the index and not the document
//     (index_not_found_exception with create_index false,
//     index_closed_exception, cluster_block_exception such as a read-only
//     index when the disk is full, security_exception) fail the call: the
//     batch is retried until the cause is fixed, never dead-lettered.
//   - A failed request (connection refused, a timeout, a 4xx/5xx answer to
//     the whole request) fails the call with an error naming the URLs.
//
// With create_index true (the default) a missing index is created by the
// cluster's auto-creation, or, where that is disabled, explicitly with the
// cluster's defaults (an index template gives it mappings). With
// create_index false the sink checks, once per index and writer, that the
// index exists, and fails with an error naming it when it does not.
//
// # Verification
//
// Writer implements sinks.DocumentStore: Documents visits every document
// of the indices the pattern names (the date part replaced by "*":
// "logs-*"), giving each _source as stored, byte for byte. It reads them
// with scrolls sorted by _doc, 10,000 documents a page: no sort and no
// field data (a sort by _id makes each page cost as much as the whole
// index, and needs the _id field data Elasticsearch 8 disables), the next
// page requested while the last one is
// decoded, one scroll per shard at once (up to Writer.Slices). A read that
// does not add up to the total the scroll counted, a failed shard, a
// search timeout or a scroll gone (ErrScrollExpired) is an error, never a
// smaller index. A million small documents take about 6 s on two cores
// (bench/verify_test.go). Writer also implements sinks.DocumentCounter
// (_count), for gale verify's progress line.
//
// # Configuration
//
// The keys shared by every sink (format, field, fields, time_field,
// max_inflight, min_backoff_ms, max_backoff_ms, dead_letter_dir) are
// described in package sinks; format must be "json" and time_partition
// and prefix are not used (the index pattern names the time buckets).
// The keys of this sink:
//
//	urls                the cluster's base URLs (required), e.g. ["http://127.0.0.1:9200"]
//	username            HTTP basic authentication (optional), with the password
//	password_env        from this environment variable of the workers, or
//	password_file       from this file ("password" in the topology is refused:
//	                    the cluster stores topologies and its API shows them)
//	index               the index name or pattern (required), e.g. "logs-{2006.01.02}"
//	create_index        create missing indices (default true), else fail
//	bulk_max_docs       documents per _bulk request (default 1000)
//	bulk_max_bytes      request body bytes per _bulk request (default 5 MiB)
//	request_timeout_ms  timeout of one request (default 30000)
//
// An example component:
//
//	{"id": "search", "type": "es_sink", "parallelism": 2,
//	 "inputs": [{"component": "parse", "grouping": "batch"}],
//	 "config": {"urls": ["http://127.0.0.1:9200"], "index": "events-{2006.01.02}",
//	            "field": "value", "time_field": "timestamp", "bulk_max_docs": 500}}
package elasticsearch
