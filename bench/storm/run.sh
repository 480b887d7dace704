#!/usr/bin/env bash
# Apache Storm baseline for Gale's word-count benchmark.
#
#   bench/storm/run.sh [SECONDS] [ARGS...]
#   bench/storm/run.sh build
#   bench/storm/run.sh kafka-files brokers=HOST:PORT topic=T group=G out=URI parallelism=N [KEY=VALUE...]
#
# SECONDS is the measured window of each run (default 20). The runs are
# unacked, then acked with max spout pending 1000 and 5000; each is preceded
# by a warm-up (WARMUP seconds, default 10). Further ARGS go to the Java main
# (e.g. modes=acked pending=2000 conf.topology.producer.batch.size=100).
#
# With rows=const,wordcount,wordcount-fail (any of them) it runs those rows
# instead, one "RESULT storm row=..." line each (see README.md).
#
# Prints one "RESULT storm mode=..." line per run on stdout, then a table;
# progress and Storm's warnings go to stderr.
#
# "run.sh kafka-files ..." is the peers mode (the runners' contract: go doc ./bench/cmd/benchpeers; README.md):
# KafkaSpout -> HdfsBolt in LocalCluster, from the earliest offset, until SIGTERM; it
# prints RUNNING on stdout once the spouts are active. It execs java, so the started
# PID is the JVM, which Hadoop's client needs run with a few --add-opens on JDK 17.
#
# "run.sh build" only builds (when needed) and exits, printing nothing on
# stdout, so a driver can build before it measures.
#
# scripts/bench.sh calls it as: run.sh warmup=10 measure=S modes=... pending=...
# (key=value arguments given later override the defaults put first).
#
# Builds once with Maven (Maven Central only) into $GALE_BENCH_CACHE/storm/target,
# with its own local Maven repository $GALE_BENCH_CACHE/m2 (GALE_BENCH_CACHE
# defaults to ~/.cache/gale-bench); nothing is written inside the repository.
# Rebuilds only when pom.xml or src/ change.
# Env: WARMUP, JAVA_OPTS (default -Xmx1g; no -Xms, so the resident set shows
# what the JVM uses rather than a pre-sized heap), MVN (default mvn),
# GALE_BENCH_CACHE.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${GALE_BENCH_CACHE:-$HOME/.cache/gale-bench}"
cache="$root/storm"
build="$cache/target"
m2="$root/m2"
mvn="${MVN:-mvn}"

build_only=false
kafka_files=false
if [[ ${1:-} == build ]]; then
	build_only=true
	shift
elif [[ ${1:-} == kafka-files ]]; then
	kafka_files=true
	shift
fi
measure=20
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
	measure=$1
	shift
fi
warmup="${WARMUP:-10}"

for tool in java "$mvn" sha256sum; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done

# Rebuild only when the sources change.
stamp="$(cd "$here" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
jar="$build/gale-storm-baseline-0.1.0.jar"
if [[ ! -f $jar || ! -f $build/deps-classpath.txt || "$(cat "$build/.stamp" 2>/dev/null)" != "$stamp" ]]; then
	echo "run.sh: building into $build" >&2
	mkdir -p "$cache"
	(cd "$here" && "$mvn" -q -B -Dstyle.color=never package "-Dmaven.repo.local=$m2" "-Dgale.bench.build.dir=$build") >&2
	echo "$stamp" >"$build/.stamp"
fi
if $build_only; then
	exit 0
fi

# LocalCluster writes storm-local/ and logs/ under the working directory.
workdir="$cache/run"
if $kafka_files; then
	workdir="$cache/run-kafka-files"
	mkdir -p "$workdir"
	cd "$workdir"
	# Hadoop 3.4's client (storm-hdfs) reflects into JDK internals that JDK 17 closes
	# (the same flags as testenv/backends/hdfs.sh).
	# shellcheck disable=SC2086
	exec java ${JAVA_OPTS:--Xmx1g} \
		--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED \
		--add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
		--add-opens java.base/java.lang.reflect=ALL-UNNAMED --add-opens java.base/java.io=ALL-UNNAMED \
		"-Dlog4j2.configurationFile=$here/src/main/resources/log4j2-bench.xml" \
		-cp "$jar:$(cat "$build/deps-classpath.txt")" \
		io.galestream.bench.storm.KafkaFiles "$@"
fi
mkdir -p "$workdir"
cd "$workdir"

# shellcheck disable=SC2086
exec java ${JAVA_OPTS:--Xmx1g} \
	"-Dlog4j2.configurationFile=$here/src/main/resources/log4j2-bench.xml" \
	-cp "$jar:$(cat "$build/deps-classpath.txt")" \
	io.galestream.bench.storm.WordCountBench "warmup=$warmup" "measure=$measure" "$@"
