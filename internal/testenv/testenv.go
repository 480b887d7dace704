// Package testenv gives integration tests the addresses of the real
// backends that testenv/testenv started (Kafka, Ceph, HDFS, OpenSearch).
//
// Each accessor reads an environment variable that `testenv/testenv env`
// prints. When it is missing the test fails if CI=true, and otherwise is
// skipped with a loud message saying how to start the backend.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// The environment variables `testenv/testenv env` exports.
const (
	KafkaBrokersVar = "GALE_KAFKA_BROKERS"
	CephConfVar     = "GALE_CEPH_CONF"
	HDFSNameNodeVar = "GALE_HDFS_NAMENODE"
	HDFSWebVar      = "GALE_HDFS_WEB"
	ESURLVar        = "GALE_ES_URL"
)

// KafkaBrokers returns the bootstrap brokers ("127.0.0.1:9092").
func KafkaBrokers(tb testing.TB) string { return need(tb, KafkaBrokersVar, "kafka") }

// CephConf returns the path of the ceph.conf of the test cluster.
func CephConf(tb testing.TB) string { return need(tb, CephConfVar, "ceph") }

// HDFSNameNode returns the NameNode RPC address ("127.0.0.1:9000").
func HDFSNameNode(tb testing.TB) string { return need(tb, HDFSNameNodeVar, "hdfs") }

// HDFSWeb returns the NameNode HTTP address for WebHDFS ("127.0.0.1:9870").
func HDFSWeb(tb testing.TB) string { return need(tb, HDFSWebVar, "hdfs") }

// ESURL returns the Elasticsearch-API base URL ("http://127.0.0.1:9200").
func ESURL(tb testing.TB) string { return need(tb, ESURLVar, "es") }

// InCI reports whether the tests run in CI (CI=true), where a missing
// backend is a failure, not a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

func need(tb testing.TB, name, backend string) string {
	tb.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	msg := fmt.Sprintf("%s is not set: the %s backend is not running.\n"+
		"    Start it with:  testenv/testenv up %s && eval \"$(testenv/testenv env)\"", name, backend, backend)
	if InCI() {
		tb.Fatalf("CI=true and %s", msg)
	}
	tb.Skipf("\n*** SKIPPED (no backend) ***\n    %s", msg)
	return ""
}
