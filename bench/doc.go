// Package bench holds Gale's side-by-side benchmarks, each measured beside
// its baseline in the same run:
//
//   - Gale vs Apache Storm: the rows of package bench/rows (const spout ->
//     no-op; word count acked; word count with 1 % failures) against the
//     same topologies in Storm's LocalCluster (bench/storm, Java). One
//     command runs both and prints one table, and writes a JSON report:
//
//     make bench-storm   # go run ./bench/cmd/benchstorm [-warmup 10s] [-measure 20s]
//
//   - Gale vs Apache Flink vs Apache Storm on Kafka -> durable files (local
//     files, HDFS, and files with replays), each engine a process of its
//     own started through a runner (bench/cmd/galepeer, bench/flink/run.sh,
//     bench/storm/run.sh): records/s, CPU and peak memory at saturation,
//     end-to-end latency at 50 % and 90 % of each engine's own rate, and an
//     exactly-once check of every record (package bench/peers: records,
//     producer, watcher, accounting):
//
//     make bench-peers   # go run ./bench/cmd/benchpeers [-engines gale,flink,storm] [-rows files,hdfs,replay]
//
//   - the Kafka spout against a bare Kafka consumer, and a Python multilang
//     bolt against the same bolt in Go (go test -bench here).
//
//   - the Kafka batch ledger (internal/ledger on kvlog.KafkaLog), against
//     Kafka in the same run (ledger_test.go, -benchtime 1x):
//     BenchmarkLedgerOpen opens a partition's ledger, as a new process
//     does, on a topic that holds GALE_BENCH_LEDGER_HISTORY historical
//     batches (default 10^7) before and after Kafka compacted it, beside
//     the same open on a fresh topic, and counts the topic's records
//     before and after compaction; BenchmarkLedgerThroughput measures the
//     batches/s the ledger sustains (1, 4 and 16 partitions' writers on one
//     store; a Plan and a Commit per batch, the spout's ledger loop, 4
//     batches in flight) beside the batches/s the Kafka path needs (the
//     records/s of a bare consumer and of the spout over 500-record
//     batches). Both need Kafka from testenv:
//
//     GALE_BENCH_LEDGER_HISTORY=1e6 go test -run '^$' -bench LedgerOpen -benchtime 1x -timeout 60m ./bench/
//     go test -run '^$' -bench LedgerThroughput -benchtime 1x ./bench/
//
//   - gale verify (verify_test.go, -benchtime 1x): a topology whose ledger
//     committed 10,000 batches of 100 records, held by a file_sink as
//     10,000 lz4 files and by an es_sink as 1,000,000 documents (both
//     written by the sinks' Writers), beside a bare parallel read of the
//     files and a bare search_after read of the documents. It needs
//     OpenSearch from testenv; GALE_BENCH_VERIFY_DIR keeps the seeded data
//     for another run (another build) to read again:
//
//     go test -run '^$' -bench Verify -benchtime 1x -timeout 30m ./bench/
//
// `make bench` runs them all. Gale's word count alone:
//
//	go test -run '^$' -bench WordCount -benchtime 2000000x ./bench/
package bench
