// Package testenv gives integration tests the addresses of the real
// backends that testenv/testenv started (Kafka, Ceph, HDFS, OpenSearch, and
// S3 from Ceph's RADOS Gateway),
// the headless browser of the UI tests (testenv/chromium.sh), and the
// directory where tests leave artefacts (screenshots).
//
// Each accessor reads an environment variable that `testenv/testenv env`
// prints. When it is missing the test fails if CI=true, and otherwise is
// skipped with a loud message saying how to start the backend.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// The environment variables `testenv/testenv env` exports.
const (
	KafkaBrokersVar = "GALE_KAFKA_BROKERS"
	CephConfVar     = "GALE_CEPH_CONF"
	HDFSNameNodeVar = "GALE_HDFS_NAMENODE"
	HDFSWebVar      = "GALE_HDFS_WEB"
	ESURLVar        = "GALE_ES_URL"
	S3EndpointVar   = "GALE_S3_ENDPOINT"
	S3AccessKeyVar  = "GALE_S3_ACCESS_KEY"
	S3SecretKeyVar  = "GALE_S3_SECRET_KEY"
	S3RegionVar     = "GALE_S3_REGION"
	// ChromiumVar names a Chromium to use instead of the one on PATH.
	ChromiumVar = "GALE_CHROMIUM"
	// ArtifactsVar is where tests leave artefacts (default <repo>/artifacts).
	ArtifactsVar = "GALE_ARTIFACTS_DIR"
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

// S3Env is where the S3 test backend (Ceph's RADOS Gateway) serves, and the
// keys of its test user. Its String method leaves the secret key out, so
// that printing it (t.Log) never shows the secret.
type S3Env struct {
	Endpoint  string // "http://127.0.0.1:7480"
	AccessKey string
	SecretKey string
	Region    string // "us-east-1" unless $GALE_S3_REGION says otherwise
}

// String describes the environment without the secret key.
func (e S3Env) String() string {
	return fmt.Sprintf("S3 at %s (region %s, access key %s)", e.Endpoint, e.Region, e.AccessKey)
}

// GoString is String: %#v does not show the secret either.
func (e S3Env) GoString() string { return e.String() }

// S3 returns the S3 endpoint and the test user's keys that
// testenv/backends/rgw.sh exports.
func S3(tb testing.TB) S3Env {
	tb.Helper()
	e := S3Env{
		Endpoint:  need(tb, S3EndpointVar, "rgw"),
		AccessKey: need(tb, S3AccessKeyVar, "rgw"),
		SecretKey: need(tb, S3SecretKeyVar, "rgw"),
		Region:    os.Getenv(S3RegionVar),
	}
	if e.Region == "" {
		e.Region = "us-east-1"
	}
	return e
}

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

// Chromium returns the path of the headless browser for the UI tests:
// $GALE_CHROMIUM, else chromium or chromium-browser on PATH. When there is
// none the test fails if CI=true, and is otherwise skipped loudly.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(ChromiumVar); p != "" {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
		tb.Fatalf("%s=%s is not an executable file", ChromiumVar, p)
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium or chromium-browser on PATH and " + ChromiumVar + " is not set: the browser tests need one.\n" +
		"    Install it with:  testenv/chromium.sh install   (Debian's chromium package)"
	if InCI() {
		tb.Fatalf("CI=true and %s", msg)
	}
	tb.Skipf("\n*** SKIPPED (no browser) ***\n    %s", msg)
	return ""
}

// Command returns the path of the command name on PATH, a tool a test uses
// (often as an independent witness: lz4, rados). When it is missing the
// test fails if CI=true, and is otherwise skipped loudly, naming the
// Debian package pkg that has it.
func Command(tb testing.TB, name, pkg string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(tb, "no "+name, "the %s command is missing (Debian package %s)", name, pkg)
	}
	return p
}

// ArtifactsDir returns the directory sub of the tests' artefacts,
// created: $GALE_ARTIFACTS_DIR/sub, by default <repo>/artifacts/sub.
func ArtifactsDir(tb testing.TB, sub string) string {
	tb.Helper()
	root := os.Getenv(ArtifactsVar)
	if root == "" {
		_, file, _, _ := runtime.Caller(0)
		root = filepath.Join(filepath.Dir(file), "..", "..", "artifacts")
	}
	dir := filepath.Join(filepath.Clean(root), sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("artefacts directory: %v", err)
	}
	return dir
}
