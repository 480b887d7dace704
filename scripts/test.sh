#!/usr/bin/env bash
# scripts/test.sh — the whole test suite (the README's `make test`):
#   1. installs what is missing and starts the real backends on 127.0.0.1
#      (Kafka, OpenSearch, HDFS, Ceph) with testenv/testenv;
#   2. installs Debian's chromium when missing (the monitor UI's browser
#      tests drive it headless with chromedp);
#   3. runs go vet, then every unit and integration test with -race,
#      including the cgo (Ceph) code built with the ceph tags;
#   4. runs the backend-outage test alone (it stops HDFS for 30 s, which
#      would disturb the other tests).
# With CI=true a test whose backend is missing fails; otherwise it skips
# loudly. Set GALE_TEST_BACKENDS="kafka es" to start only some backends.
set -euo pipefail
cd "$(dirname "$0")/.."
TAGS=${TAGS:-ceph,pacific}
start=$(date +%s)
step() { printf '\n==> %s (+%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "starting backends: ${GALE_TEST_BACKENDS:-all}"
# shellcheck disable=SC2086
testenv/testenv up ${GALE_TEST_BACKENDS:-}
eval "$(testenv/testenv env)"

step "headless Chromium for the UI's browser tests (testenv/chromium.sh)"
GALE_CHROMIUM=$(testenv/chromium.sh install)
export GALE_CHROMIUM

step "go vet"
go vet ./...
go vet -tags "$TAGS" ./...

step "go test -race (unit and integration)"
go test -race -count=1 -timeout 40m -tags "$TAGS" ./...

step "backend outage tests (HDFS stopped 30 s, Kafka hung 20 s, during a run)"
GALE_E2E_OUTAGE=1 go test -race -count=1 -timeout 15m -tags "$TAGS" -run 'TestBackendOutage|TestKafkaHang' -v ./internal/e2e

step "done in $(( $(date +%s) - start ))s"
