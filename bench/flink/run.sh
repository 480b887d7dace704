#!/usr/bin/env bash
# Apache Flink peer for Gale's Kafka -> files benchmark rows (contract: bench-peers, issue 17).
#
#   bench/flink/run.sh build
#   bench/flink/run.sh kafka-files brokers=HOST:PORT topic=T group=G out=URI parallelism=N \
#                                  [checkpoint_ms=1000] [fail_partition=P]
#
# kafka-files runs Flink 2.2.1 in a MiniCluster in one JVM: Kafka source (earliest offsets,
# unbounded, offsets committed to group G on checkpoints) -> map -> FileSink (row format, each
# record value one line, files directly under out, part files finalized at each checkpoint),
# checkpointing EXACTLY_ONCE every checkpoint_ms, fixed-delay restarts. out is file:///ABS/DIR
# or hdfs://HOST:PORT/DIR. It prints RUNNING on stdout once the job runs and keeps running
# until SIGTERM. fail_partition=P makes the map throw once (a task failure, the job restores
# from its last checkpoint) on the first record of partition P after 5 s of running.
# See README.md.
#
# The script execs java, so the PID a driver started is the JVM.
#
# "run.sh build" only builds (when needed) and exits 0, printing nothing on stdout, so a
# driver can build before it measures. kafka-files builds too when needed (on stderr).
#
# Builds once with Maven (Maven Central only) into $GALE_BENCH_CACHE/flink/target,
# with its own local Maven repository $GALE_BENCH_CACHE/m2 (GALE_BENCH_CACHE defaults
# to ~/.cache/gale-bench); nothing is written inside the repository. Rebuilds only
# when pom.xml or src/ change.
# Env: JAVA_OPTS (default -Xmx1g; no -Xms), MVN (default mvn), GALE_BENCH_CACHE.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${GALE_BENCH_CACHE:-$HOME/.cache/gale-bench}"
cache="$root/flink"
build="$cache/target"
m2="$root/m2"
mvn="${MVN:-mvn}"

usage() {
	sed -n '2,/^set /{/^#/{s/^# \{0,1\}//;p}}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

cmd=${1:-}
case $cmd in
build | kafka-files) shift ;;
*) usage ;;
esac

for tool in java "$mvn" sha256sum; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done

# Rebuild only when the sources change.
stamp="$(cd "$here" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
jar="$build/gale-flink-peer-0.1.0.jar"
if [[ ! -f $jar || ! -f $build/deps-classpath.txt || "$(cat "$build/.stamp" 2>/dev/null)" != "$stamp" ]]; then
	echo "run.sh: building into $build" >&2
	mkdir -p "$cache"
	(cd "$here" && "$mvn" -q -B -Dstyle.color=never package "-Dmaven.repo.local=$m2" "-Dgale.bench.build.dir=$build") >&2
	echo "$stamp" >"$build/.stamp"
fi
if [[ $cmd == build ]]; then
	exit 0
fi

# Flink's temporary files (java.io.tmpdir: the 21 MB RPC jar it unpacks at each start, blob
# store, spill dirs) go to a directory named after this PID (exec keeps it), as a JVM ended
# by SIGTERM leaves them behind; those of runs whose JVM is gone are removed here.
workdir="$cache/run"
mkdir -p "$workdir/tmp"
for d in "$workdir"/tmp/*; do
	[[ -d $d ]] || continue
	pid=${d##*/}
	if [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
		rm -rf "$d"
	fi
done
mkdir -p "$workdir/tmp/$$"
cd "$workdir"

# --add-opens: a subset of those Flink's own distribution passes on JDK 17 (env.java.opts.all in
# its config.yaml), for reflection into the JDK (Kryo, Hadoop's client).
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:--Xmx1g} \
	--add-opens=java.base/java.lang=ALL-UNNAMED \
	--add-opens=java.base/java.util=ALL-UNNAMED \
	--add-opens=java.base/java.net=ALL-UNNAMED \
	--add-opens=java.base/java.nio=ALL-UNNAMED \
	"-Djava.io.tmpdir=$workdir/tmp/$$" \
	"-Dlog4j2.configurationFile=$here/src/main/resources/log4j2-bench.xml" \
	-cp "$jar:$(cat "$build/deps-classpath.txt")" \
	io.galestream.bench.flink.KafkaFiles "$@"
