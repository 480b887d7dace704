#!/usr/bin/env bash
# scripts/test.sh — the whole test suite (the README's `make test`):
#   1. installs what is missing and starts the real backends on 127.0.0.1
#      (Kafka, OpenSearch, HDFS, Ceph, S3, a schema registry) with testenv/testenv;
#   2. installs Debian's chromium when missing (the monitor UI's browser
#      tests drive it headless with chromedp);
#   3. runs go vet, then every unit and integration test with -race,
#      including the cgo (Ceph) code built with the ceph tags, then the
#      tests of the deployment artefacts (deploy/, a module of its own);
#   4. runs every fuzz target for 5 s under a memory cap (scripts/fuzz.sh);
#   5. runs the backend-outage tests alone (they stop HDFS for 30 s, hang
#      Kafka and the schema registry, which would disturb the other tests);
#   6. deletes the Kafka topics the tests created (also before step 3, for
#      a run that was killed): the testenv broker stays small.
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

# sweep_topics: delete the topics tests leave on the testenv broker (each run adds
# ~250 partitions; a broker restarted on 1,400 of them took minutes to serve).
sweep_topics() {
    if [[ -n "${GALE_KAFKA_BROKERS:-}" ]]; then
        go run ./internal/testenv/sweeptopics
    fi
}
step "deleting test topics left by earlier runs"
sweep_topics
# and this run's, whether it passes or fails
trap 'step "deleting this run'"'"'s test topics"; sweep_topics || true' EXIT

step "headless Chromium for the UI's browser tests (testenv/chromium.sh)"
GALE_CHROMIUM=$(testenv/chromium.sh install)
export GALE_CHROMIUM

step "go vet"
go vet ./...
go vet -tags "$TAGS" ./...

step "go test -race (unit and integration)"
go test -race -count=1 -timeout 40m -tags "$TAGS" ./...

step "deploy/: Dockerfiles, Kubernetes manifests, systemd unit (a Go module of its own, so Kubernetes' API types stay out of the engine's)"
(cd deploy && go vet ./... && go test -count=1 -timeout 15m ./...)

step "fuzz targets, 5 s each, heap capped at 1 GiB (scripts/fuzz.sh; make fuzz runs them longer)"
FUZZTIME=5s scripts/fuzz.sh

step "backend outage tests (HDFS stopped 30 s, Kafka hung 20 s, the schema registry hung 30 s, during a run)"
GALE_E2E_OUTAGE=1 go test -race -count=1 -timeout 15m -tags "$TAGS" -run 'TestBackendOutage|TestKafkaHang' -v ./internal/e2e
GALE_E2E_OUTAGE=1 go test -race -count=1 -timeout 5m -run 'TestRegistry_Outage' -v ./spout/kafka

step "done in $(( $(date +%s) - start ))s"
