// Package bench holds Gale's side-by-side benchmarks. Each Go benchmark
// here has a baseline measured in the same run by scripts/bench.sh: the
// word-count shape against Apache Storm 2.8 (bench/storm), and the Kafka
// spout against a bare Kafka consumer.
//
// Run them with `make bench`, or only Gale's side with
//
//	go test -run '^$' -bench . -benchtime 2000000x ./bench/
package bench
