#!/usr/bin/env bash
# bench/storm/run.sh [key=value ...] — the Apache Storm 2.8 baseline of Gale's
# word-count benchmark (bench/wordcount_test.go): builds once with Maven
# (jars cached in ~/.cache/gale-bench, only Maven Central needed), then runs
# the same topology shape in LocalCluster and prints RESULT lines.
# Arguments go to WordCountBench: warmup=S measure=S modes=unacked,acked pending=1000,5000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${GALE_BENCH_CACHE:-$HOME/.cache/gale-bench}
m2=$cache/m2
mkdir -p "$cache"
stamp=$here/target/.built
if [[ ! -f $stamp || $here/pom.xml -nt $stamp || -n $(find "$here/src" -newer "$stamp" -print -quit) ]]; then
    command -v mvn >/dev/null || { echo "run.sh: Maven (mvn) is needed" >&2; exit 1; }
    echo "building the Storm baseline (first run fetches Storm 2.8 from Maven Central)..." >&2
    mvn -B -q -f "$here/pom.xml" -Dmaven.repo.local="$m2" -DskipTests package >&2
    mvn -B -q -f "$here/pom.xml" -Dmaven.repo.local="$m2" dependency:build-classpath \
        -Dmdep.outputFile="$here/target/classpath.txt" >&2
    touch "$stamp"
fi
exec java -Xmx1g -cp "$here/target/classes:$(cat "$here/target/classpath.txt")" \
    io.galestream.bench.storm.WordCountBench "$@"
