// Package testenv gives integration tests the addresses of the real
// backends that testenv/testenv started (Kafka, Ceph, HDFS, OpenSearch, S3
// from Ceph's RADOS Gateway, and a Confluent-compatible schema registry),
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
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/kafkasec"
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
	// SchemaRegistryVar is the base URL of the Confluent-compatible API of
	// the testenv schema registry (Apicurio Registry's /apis/ccompat/v7).
	SchemaRegistryVar = "GALE_SCHEMA_REGISTRY_URL"
	// ChromiumVar names a Chromium to use instead of the one on PATH.
	ChromiumVar = "GALE_CHROMIUM"
	// ArtifactsVar is where tests leave artefacts (default <repo>/artifacts).
	ArtifactsVar = "GALE_ARTIFACTS_DIR"
)

// The SASL_SSL listener of the testenv Kafka: its address, the CA of its
// certificate, the SASL user (PLAIN and SCRAM-SHA-512) and a file holding
// the user's password.
const (
	KafkaSASLBrokersVar      = "GALE_KAFKA_SASL_BROKERS"
	KafkaCAFileVar           = "GALE_KAFKA_CA_FILE"
	KafkaSASLUserVar         = "GALE_KAFKA_SASL_USER"
	KafkaSASLPasswordFileVar = "GALE_KAFKA_SASL_PASSWORD_FILE"
)

// KafkaBrokers returns the bootstrap brokers ("127.0.0.1:9092").
func KafkaBrokers(tb testing.TB) string { return need(tb, KafkaBrokersVar, "kafka") }

// KafkaSASLEnv is the SASL_SSL listener of the testenv Kafka. It holds the
// path of the password file, never the password.
type KafkaSASLEnv struct {
	Brokers      string // "127.0.0.1:9094"
	CAFile       string // PEM: the CA that signed the broker's certificate
	User         string // logs in with PLAIN or SCRAM-SHA-512
	PasswordFile string // the user's password (0600)
}

// KafkaSASL returns the SASL_SSL listener of the testenv Kafka
// (testenv/backends/kafka.sh).
func KafkaSASL(tb testing.TB) KafkaSASLEnv {
	tb.Helper()
	return KafkaSASLEnv{
		Brokers:      need(tb, KafkaSASLBrokersVar, "kafka"),
		CAFile:       need(tb, KafkaCAFileVar, "kafka"),
		User:         need(tb, KafkaSASLUserVar, "kafka"),
		PasswordFile: need(tb, KafkaSASLPasswordFileVar, "kafka"),
	}
}

// Security is the TLS (trusting CAFile) and the SASL login of User with
// mechanism (kafkasec.PLAIN or kafkasec.SCRAMSHA512), the password read
// from PasswordFile.
func (e KafkaSASLEnv) Security(mechanism string) kafkasec.Security {
	return kafkasec.Security{
		TLS:  kafkasec.TLS{Enabled: true, CAFile: e.CAFile},
		SASL: kafkasec.SASL{Mechanism: mechanism, Username: e.User, PasswordFile: e.PasswordFile},
	}
}

// Password reads the user's password, for a test that hands it over
// another way (an environment variable).
func (e KafkaSASLEnv) Password(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(e.PasswordFile)
	if err != nil {
		tb.Fatalf("the testenv Kafka's SASL password: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// CephConf returns the path of the ceph.conf of the test cluster.
func CephConf(tb testing.TB) string { return need(tb, CephConfVar, "ceph") }

// HDFSNameNode returns the NameNode RPC address ("127.0.0.1:9000").
func HDFSNameNode(tb testing.TB) string { return need(tb, HDFSNameNodeVar, "hdfs") }

// HDFSWeb returns the NameNode HTTP address for WebHDFS ("127.0.0.1:9870").
func HDFSWeb(tb testing.TB) string { return need(tb, HDFSWebVar, "hdfs") }

// ESURL returns the Elasticsearch-API base URL ("http://127.0.0.1:9200").
func ESURL(tb testing.TB) string { return need(tb, ESURLVar, "es") }

// SchemaRegistry returns the base URL of the testenv schema registry's
// Confluent-compatible API
// ("http://127.0.0.1:8081/apis/ccompat/v7"; testenv/backends/registry.sh).
func SchemaRegistry(tb testing.TB) string { return need(tb, SchemaRegistryVar, "registry") }

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
