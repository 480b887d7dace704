package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidate_Formats: examples/kafka-json-to-parquet.json validates; a
// schema the formats cannot write and lz4 around a Parquet file are
// refused at their config keys, before anything runs.
func TestValidate_Formats(t *testing.T) {
	code, out, errs := runCLI(t, "validate", "../examples/kafka-json-to-parquet.json")
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("the example: exit %d\n%s%s", code, out, errs)
	}
	example, err := os.ReadFile("../examples/kafka-json-to-parquet.json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(example), `"compression"`) {
		// compression defaults to none with avro and parquet
		t.Errorf("the example sets compression: it should not need to")
	}
	bad := strings.Replace(string(example), `"items": "string"`, `"items": "strnig"`, 1)
	bad = strings.Replace(bad, `"avro_codec": "deflate",`, `"avro_codec": "deflate", "compression": "lz4",`, 1)
	code, _, errs = runCLI(t, "validate", write(t, "bad.json", bad))
	for _, want := range []string{
		`bolts[0].config.schema: avro schema: at fields[4].type.items: unknown type "strnig"`,
		`bolts[1].config.compression: compression "lz4" with format "avro"`,
	} {
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("exit %d, want 1 and %q in:\n%s", code, want, errs)
		}
	}
}

// TestValidate_Examples: every topology in examples/ validates (those
// with Ceph only in a build with the ceph tags, as CI's).
func TestValidate_Examples(t *testing.T) {
	examples, err := filepath.Glob("../examples/*.json")
	if err != nil || len(examples) < 5 {
		t.Fatalf("examples: %v %v", examples, err)
	}
	for _, e := range examples {
		code, out, errs := runCLI(t, "validate", e)
		if code != 0 && strings.Contains(errs, "this gale binary was built without") {
			t.Logf("%s: not checked, it needs a type this build lacks (-tags ceph,pacific has it):\n%s", e, errs)
			continue
		}
		if code != 0 || !strings.Contains(out, "ok") {
			t.Errorf("%s: exit %d\n%s%s", e, code, out, errs)
		}
	}
}
