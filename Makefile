# Gale — the two commands of the README:
#   make run    runs examples/wordcount.json locally (no servers needed)
#   make test   installs and starts the real backends, then runs every test
GO       ?= go
# cgo backends (Ceph via go-ceph/librados) are built only with these tags;
# go-ceph needs "pacific" against Debian 12's Ceph 16.
TAGS     ?= ceph,pacific

.PHONY: run test unit vet build bench bench-storm bench-peers fuzz backends-up backends-down

run:
	$(GO) run ./cmd/gale run examples/wordcount.json

test:
	scripts/test.sh

# unit tests only: no backend, no cgo
unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...
	$(GO) vet -tags $(TAGS) ./...

build:
	CGO_ENABLED=0 $(GO) build -o bin/gale ./cmd/gale
	$(GO) build -tags $(TAGS) -o bin/gale-full ./cmd/gale

bench:
	scripts/bench.sh

# every fuzz target for FUZZTIME (default 10s) each, heap capped (scripts/fuzz.sh)
fuzz:
	scripts/fuzz.sh

# Gale vs Apache Storm, the same topologies in the same run (bench/README.md)
bench-storm:
	$(GO) run ./bench/cmd/benchstorm

# Gale vs Apache Flink vs Apache Storm, Kafka -> files/HDFS, each engine a
# process of its own (bench/cmd/benchpeers); starts Kafka and HDFS.
# Flags in PEERS_ARGS, e.g. make bench-peers PEERS_ARGS="-engines gale -records 200000"
bench-peers:
	testenv/testenv up kafka hdfs >/dev/null && eval "$$(testenv/testenv env)" && \
		$(GO) run ./bench/cmd/benchpeers $(PEERS_ARGS)

backends-up:
	testenv/testenv up

backends-down:
	testenv/testenv down
