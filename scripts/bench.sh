#!/usr/bin/env bash
# scripts/bench.sh — `make bench`: Gale's benchmarks beside their baselines,
# measured in the same run on this machine:
#   word count (spout -> split x2 -> count x2), acking off and on:
#       Gale (go test -bench WordCount ./bench/) vs Apache Storm 2.8 (bench/storm)
#   multilang: a Python split bolt through Gale's shell type vs the same in Go
#   Kafka: Gale's kafka spout (ledger, acking) vs a bare sarama consumer on
#       the same topic (starts Kafka with testenv/testenv up kafka)
# Env: MEASURE (Storm seconds per mode, default 20), SENTENCES (Gale, default 4000000).
set -euo pipefail
cd "$(dirname "$0")/.."
MEASURE=${MEASURE:-20}
SENTENCES=${SENTENCES:-4000000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "==> Gale word count ($SENTENCES sentences per mode)"
go test -run '^$' -bench 'WordCount' -benchtime "${SENTENCES}x" ./bench/ | tee "$out/gale.txt" | grep Benchmark

echo "==> Apache Storm word count (LocalCluster, ${MEASURE}s per mode)"
bench/storm/run.sh warmup=10 "measure=$MEASURE" modes=unacked,acked pending=1000,5000 2>/dev/null | tee "$out/storm.txt" | grep -E '^RESULT|^ +(mode|unacked|acked)'

echo "==> multilang: Python split bolt vs Go split bolt"
go test -run '^$' -bench 'Multilang' -benchtime 20000x ./bench/ | grep Benchmark || true

echo "==> Kafka: kafka spout vs bare sarama consumer (500k records of 100 bytes)"
testenv/testenv up kafka >/dev/null
eval "$(testenv/testenv env)"
go test -run '^$' -bench 'Kafka' -benchtime 3x ./bench/ | grep Benchmark

echo
echo "==> side by side (sentences emitted by the spout per second; latency of acked trees)"
python3 - "$out/gale.txt" "$out/storm.txt" <<'PY'
import re, sys
gale, storm = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r'BenchmarkWordCount/(\S+?)-\d+\s', line)
    if not m:
        continue
    vals = dict((k, float(v)) for v, k in re.findall(r'([\d.]+) (\S+/s|p50-ms|p99-ms)', line))
    mode = m.group(1).replace('acked/pending=', 'acked ')
    gale[mode] = vals
for line in open(sys.argv[2]):
    if not line.startswith('RESULT'):
        continue
    kv = dict(x.split('=', 1) for x in line.split()[2:])
    mode = 'unacked' if kv['mode'] == 'unacked' else 'acked ' + kv['pending']
    storm[mode] = kv
print(f"{'mode':<14}{'Gale sent/s':>13}{'Storm sent/s':>14}{'ratio':>8}{'Gale p50/p99 ms':>18}{'Storm p50/p99 ms':>19}")
for mode in ['unacked', 'acked 1000', 'acked 5000']:
    g, s = gale.get(mode, {}), storm.get(mode, {})
    gs, ss = g.get('sentences/s', 0), float(s.get('sentences_per_s', 0) or 0)
    ratio = f"{gs/ss:.1f}x" if ss else '-'
    gl = f"{g['p50-ms']:.1f}/{g['p99-ms']:.1f}" if 'p50-ms' in g else '-'
    sl = f"{float(s['p50_ms']):.1f}/{float(s['p99_ms']):.1f}" if s.get('p50_ms') not in (None, 'NaN', '-') else '-'
    print(f"{mode:<14}{gs:>13,.0f}{ss:>14,.0f}{ratio:>8}{gl:>18}{sl:>19}")
PY
