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
//   - the Kafka spout against a bare Kafka consumer, and a Python multilang
//     bolt against the same bolt in Go (go test -bench here).
//
// `make bench` runs them all. Gale's word count alone:
//
//	go test -run '^$' -bench WordCount -benchtime 2000000x ./bench/
package bench
