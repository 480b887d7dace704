#!/usr/bin/env bash
# scripts/bench.sh — `make bench`: Gale's benchmarks beside their baselines,
# measured in the same run on this machine:
#   Gale vs Apache Storm 2.8 (bench/storm, LocalCluster): const spout -> no-op,
#       word count acked, word count with 1 % failures (`make bench-storm`,
#       go run ./bench/cmd/benchstorm; one table, JSON in ~/.cache/gale-bench)
#   Gale vs Apache Flink vs Apache Storm, Kafka -> files, HDFS, and files with
#       replays, each engine its own process: records/s, CPU, memory, latency
#       at 50 and 90 % load, exactly-once check (`make bench-peers`,
#       go run ./bench/cmd/benchpeers; starts Kafka and HDFS; about an hour
#       with the defaults; PEERS_ARGS adds flags)
#   multilang: a Python split bolt through Gale's shell type vs the same in Go
#   Kafka: Gale's kafka spout (ledger, acking) vs a bare sarama consumer on
#       the same topic, and Kafka -> lz4 file sink vs a hand-written consumer
#       writing lz4 files (starts Kafka with testenv/testenv up kafka)
#   Kafka ledger: opening a partition's ledger on a topic holding
#       LEDGER_HISTORY batches (default 1e7; about 10 min on 2 cores, ~1.3 GB
#       of Kafka log while it runs) vs on a fresh topic, records before and
#       after compaction; ledger batches/s vs the batches/s the Kafka path
#       needs (bare consumer and Gale's spout at 500 records a batch)
#   network partitions: 3 worker hosts in network namespaces (root), Kafka
#       -> files + Elasticsearch over PARTITION_RECORDS records (default
#       1e6) with 10 random link cuts: failover time per cut, exactly once
#   sinks: write throughput of each backend (starts all the backends)
#   gale verify: 10k lz4 files and 1M Elasticsearch documents (seeded in a
#       minute or two) vs a bare parallel read of the files and a bare
#       search_after read of the documents (VERIFY_DOCS, VERIFY_FILES)
# Env: WARMUP and MEASURE (seconds per Storm-comparison run, default 10 and
# 20); PEERS_ARGS (flags of benchpeers, e.g. "-sizes 100 -latency 20s");
# LEDGER_HISTORY (batches, default 1e7) and LEDGER_SECONDS (seconds per
# ledger throughput row, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
WARMUP=${WARMUP:-10}
MEASURE=${MEASURE:-20}

echo "==> Gale vs Apache Storm (warm-up ${WARMUP}s, measured ${MEASURE}s per run)"
go run ./bench/cmd/benchstorm -warmup "${WARMUP}s" -measure "${MEASURE}s"

echo
echo "==> Gale vs Apache Flink vs Apache Storm: Kafka -> files, HDFS, replays (each engine its own process)"
testenv/testenv up kafka hdfs >/dev/null
eval "$(testenv/testenv env)"
# a failed row (records lost or duplicated, a runner that does not build)
# fails `make bench` at the end, after the other benchmarks
peers_status=0
# shellcheck disable=SC2086
go run ./bench/cmd/benchpeers ${PEERS_ARGS:-} || peers_status=$?

echo
echo "==> word count on one worker process vs two (tuples cross the network)"
go test -run '^$' -bench 'ClusterWordCount' -benchtime 1x ./bench/ | grep Benchmark

echo
echo "==> word count on 1, 2 and 3 hosts (network namespaces: tuples cross veth links and a bridge; needs root)"
go test -run '^$' -bench 'ClusterHosts' -benchtime 1x ./bench/ | grep Benchmark

echo
echo "==> latency at low rates: a blocking spout at 10, 1,000 and 100,000 tuples/s, timer flush off vs 1 ms"
go test -run '^$' -bench 'LowRateLatency' -benchtime 1x ./bench/ | grep Benchmark

echo
echo "==> multilang: Python split bolt vs Go split bolt"
go test -run '^$' -bench 'Multilang' -benchtime 20000x ./bench/ | grep Benchmark

echo
echo "==> Kafka: kafka spout vs bare sarama consumer, and Kafka -> lz4 files vs a hand-written consumer + lz4 writer"
testenv/testenv up kafka >/dev/null
eval "$(testenv/testenv env)"
go test -run '^$' -bench 'Kafka' -benchtime 3x ./bench/ | grep Benchmark

echo
echo "==> Kafka ledger: batches/s vs the Kafka path's, and open after ${LEDGER_HISTORY:-1e7} batches vs fresh"
GALE_BENCH_LEDGER_SECONDS=${LEDGER_SECONDS:-10} \
	go test -run '^$' -bench 'LedgerThroughput' -benchtime 1x ./bench/ | grep -E '^(Benchmark|ledger-)'
GALE_BENCH_LEDGER_HISTORY=${LEDGER_HISTORY:-1e7} \
	go test -run '^$' -bench 'LedgerOpen' -benchtime 1x -timeout 60m ./bench/ | grep -E '^(Benchmark|ledger-)' | grep -v 'compacting:'

echo
echo "==> failover in a 3-worker cluster whose Kafka ledger holds ${FAILOVER_HISTORY:-1e6} batches of history"
GALE_BENCH_FAILOVER_HISTORY=${FAILOVER_HISTORY:-1e6} \
	go test -count=1 -run 'TestFailover_LedgerHistory' -timeout 30m -v ./internal/e2e |
	grep -E 'history written|wrote again|writing again|^(--- |ok|FAIL)'

echo
echo "==> network partitions: 3 worker hosts in network namespaces, ${PARTITION_RECORDS:-1e6} records, 10 random link cuts (needs root)"
testenv/testenv up kafka es >/dev/null
eval "$(testenv/testenv env)"
GALE_BENCH_PARTITIONS=${PARTITION_RECORDS:-1e6} \
	go test -count=1 -run 'TestPartitions_Soak' -timeout 30m -v ./internal/e2e |
	grep -E 'cut [0-9]+ \(|writing again|records expected|documents|OK:|SKIPPED|^(--- |ok|FAIL)'

echo
echo "==> autoscaling: 3 workers; burst: 100 records/s for 60 s, 1,000/s for 120 s, 100/s for 120 s, changes in place, then the same restarting the tasks for every change (the baseline of the replays per change); steady: 800/s for 10 minutes (no change after the first 2); flap: ten 10-s bursts of 1,000/s, 10 s apart (changes within the stated bound); the bottleneck bolt's tasks and the lag every 2 s"
testenv/testenv up kafka >/dev/null
eval "$(testenv/testenv env)"
for mode in burst burst-restart steady flap; do
	echo "--- $mode"
	restart=0
	case $mode in *-restart) restart=1 ;; esac
	GALE_BENCH_AUTOSCALE=${mode%-restart} GALE_BENCH_AUTOSCALE_RESTART=$restart \
		go test -count=1 -run 'TestAutoscale_Burst' -timeout 30m -v ./internal/e2e |
		grep -E 'timeline|^ +[0-9]+s work|scaled up|decision|steady load|flapping load|changes applied|each written once|replays per change|OK:|SKIPPED|^(--- |ok|FAIL)'
done

echo
echo "==> write throughput of each sink's backend (file, HDFS, Elasticsearch, Ceph)"
testenv/testenv up >/dev/null
eval "$(testenv/testenv env)"
go test -run '^$' -bench 'SinkWrite' -benchtime 3x -tags ceph,pacific ./bench/ | grep Benchmark

echo
echo "==> gale verify of ${VERIFY_FILES:-1e4} files and ${VERIFY_DOCS:-1e6} Elasticsearch documents vs bare reads of the same"
GALE_BENCH_VERIFY_DOCS=${VERIFY_DOCS:-1e6} GALE_BENCH_VERIFY_FILES=${VERIFY_FILES:-1e4} \
	go test -run '^$' -bench 'Verify' -benchtime 1x -timeout 30m ./bench/ | grep -E '^(Benchmark|verify: )'

if [[ $peers_status -ne 0 ]]; then
	echo
	echo "benchpeers failed (exit $peers_status): see its FAIL lines above"
	exit "$peers_status"
fi
