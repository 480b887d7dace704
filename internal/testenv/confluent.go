package testenv

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// ConfluentRequirements is the confluent-kafka package with the extras its
// serializers need (avro, protobuf, json, schemaregistry), every one pinned
// (what pip installed for confluent-kafka[avro,protobuf,json,schemaregistry]==2.16.1).
var ConfluentRequirements = []string{
	"confluent-kafka==2.16.1", "anyio==4.16.0", "attrs==26.1.0", "Authlib==1.9.10", "avro==1.12.2",
	"cachetools==8.0.2", "certifi==2026.10.19.post1", "cffi==2.1.1", "charset-normalizer==3.5.3",
	"cryptography==50.0.2", "fastavro==1.13.1", "googleapis-common-protos==1.76.0", "h11==0.16.0",
	"httpcore2==2.16.2", "httpx2==2.16.2", "idna==3.20", "joserfc==1.8.0", "jsonschema==4.26.0",
	"jsonschema-specifications==2025.9.1", "protobuf==7.36.2", "pycparser==3.12", "referencing==0.37.0",
	"requests==2.34.2", "rpds-py==2026.9.1", "truststore==0.10.5", "typing_extensions==4.16.0", "urllib3==2.8.0",
}

// ProduceConfluent writes count records of mode into topic (which exists)
// of the testenv Kafka with Confluent's own serializers and librdkafka's
// producer (testdata/confluent_produce.py in a venv with
// ConfluentRequirements), registering their schemas in the testenv schema
// registry; it returns the script's report. See the script for the modes
// and their records.
func ProduceConfluent(tb testing.TB, mode, topic string, count int, args ...string) map[string]any {
	tb.Helper()
	brokers := KafkaBrokers(tb)
	url := SchemaRegistry(tb)
	py := PythonVenv(tb, "confluent", ConfluentRequirements...)
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "confluent_produce.py")
	cmd := exec.Command(py, append([]string{script, mode, brokers, url, topic, fmt.Sprint(count)}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("confluent_produce.py %s: %v\n%s", mode, err, stderr.String())
	}
	var report map[string]any
	if err := json.Unmarshal(out, &report); err != nil {
		tb.Fatalf("confluent_produce.py %s printed %q: %v", mode, out, err)
	}
	return report
}
