package cli_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
)

// TestRun_FluxShellWordCount runs examples/flux/shell_wordcount.yaml,
// Storm's flux-examples multilang.yaml with Python multilang components
// (FluxShellSpout, FluxShellBolt) and Storm's LogInfoBolt and
// TestWordCounter, with gale run.
func TestRun_FluxShellWordCount(t *testing.T) {
	testenv.Command(t, "python3", "python3")
	code, out, errs := runCLI(t, "run", "--quiet", "--json", "--duration", "10s", "../examples/flux/shell_wordcount.yaml")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, errs)
	}
	var st local.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	sp := st.Component("sentence-spout")
	if sp.Type != "shell" || sp.Emitted != 1000 || sp.Acked != 1000 || sp.Failed != 0 {
		t.Errorf("spout %s emitted %d acked %d failed %d, want 1000 acked", sp.Type, sp.Emitted, sp.Acked, sp.Failed)
	}
	split, count, log := st.Component("splitsentence"), st.Component("count"), st.Component("log")
	if split.Executed != 1000 || split.Emitted == 0 || count.Type != "count" || count.Executed != split.Emitted || log.Type != "print" || log.Executed != count.Emitted {
		t.Errorf("split executed %d emitted %d; count (%s) executed %d emitted %d; log (%s) executed %d",
			split.Executed, split.Emitted, count.Type, count.Executed, count.Emitted, log.Type, log.Executed)
	}
	if strings.Contains(errs, "warning") {
		t.Errorf("warnings:\n%s", errs)
	}
}

// TestValidate_FluxErrors: a Java class Gale has no equivalent for, and a
// mistake Gale's validation finds, each at its line and Flux path.
func TestValidate_FluxErrors(t *testing.T) {
	p := write(t, "wc.yaml", `name: "yaml-topology"
spouts:
  - id: "spout-1"
    className: "org.apache.storm.testing.TestWordSpout"
bolts:
  - id: "bolt-1"
    className: "org.apache.storm.testing.TestWordCounter"
  - id: "bolt-2"
    className: "com.example.MyJavaBolt"
streams:
  - from: "spout-1"
    to: "bolt-1"
    grouping: {type: FIELDS, args: ["wrod"]}
  - from: "bolt-1"
    to: "bolt-2"
    grouping: {type: SHUFFLE}
`)
	// every mistake at once: the Java class, and what Gale's own
	// validation finds in the rest
	code, _, errs := runCLI(t, "validate", p)
	if code != 1 || !strings.Contains(errs, "wc.yaml: invalid Flux topology (2 errors):\n  "+p+`:9: bolts[1].className: Java class "com.example.MyJavaBolt" has no Gale equivalent: Gale runs no Java`) ||
		!strings.Contains(errs, "\n  "+p+`:13: streams[0].grouping.args[0]: field "wrod" is not in stream "default" of "spout-1"`) {
		t.Errorf("code %d\n%s", code, errs)
	}
	// once the Java bolt is gone, the field alone
	data, _ := os.ReadFile(p)
	fixed := strings.Replace(string(data), "com.example.MyJavaBolt", "org.apache.storm.flux.wrappers.bolts.LogInfoBolt", 1)
	if err := os.WriteFile(p, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "validate", p)
	if code != 1 || !strings.Contains(errs, "(1 error):\n  "+p+`:13: streams[0].grouping.args[0]: field "wrod" is not in stream "default" of "spout-1" (its fields: word) (did you mean "word"?)`) {
		t.Errorf("code %d\n%s", code, errs)
	}
	fixed = strings.Replace(fixed, "wrod", "word", 1)
	if err := os.WriteFile(p, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "validate", p); code != 0 || !strings.Contains(out, `ok: topology "yaml-topology", 1 spout(s), 2 bolt(s)`) {
		t.Errorf("code %d\n%s%s", code, out, errs)
	}
}

// TestFlux_SubstitutionFlags: --filter reads a properties file, and
// --env-filter the environment, on run, validate, submit and flux convert.
func TestFlux_SubstitutionFlags(t *testing.T) {
	dir := t.TempDir()
	yaml := filepath.Join(dir, "t.yml")
	props := filepath.Join(dir, "dev.properties")
	os.WriteFile(yaml, []byte("name: ${topology.name}\nconfig: {topology.workers: ${workers}, owner: \"${ENV-GALE_TEST_OWNER}\"}\nspouts: [{id: s, className: \"gale:generator\"}]\n"), 0o644)
	os.WriteFile(props, []byte("topology.name = from-props\nworkers: 3\n"), 0o644)
	code, out, errs := runEnv(t, context.Background(), map[string]string{"GALE_TEST_OWNER": "ops"}, "flux", "convert", "--filter", props, "--env-filter", yaml)
	if code != 0 {
		t.Fatalf("convert: %d %s", code, errs)
	}
	topo, err := topology.Decode([]byte(out), all.Registry())
	if err != nil {
		t.Fatalf("converted JSON: %v\n%s", err, out)
	}
	if topo.Name != "from-props" || topo.Settings.Workers != 3 || topo.Config["owner"] != "ops" {
		t.Errorf("name %q workers %d config %v", topo.Name, topo.Settings.Workers, topo.Config)
	}
	// without the flags the placeholders stay, with warnings saying which flag
	if code, _, errs := runCLI(t, "validate", yaml); code != 1 || !strings.Contains(errs, "warning: "+yaml+":1: no value for ${topology.name}: left as it is (properties are read from the file given with --filter)") {
		t.Errorf("validate: %d %s", code, errs)
	}

	srv := httptest.NewServer(api.NewServer(&memBackend{topos: map[string]*api.Topology{}}, api.Access{Token: "s3cret", Loopback: true}))
	defer srv.Close()
	if code, out, errs := runAt(t, srv.URL, "submit", "--token", "s3cret", "--filter", props, yaml); code != 0 || !strings.Contains(out, "submitted from-props") {
		t.Errorf("submit: %d %q %q", code, out, errs)
	}
	// a worker's errors name the Flux file's lines
	bad := write(t, "bad.yaml", "name: bad\nspouts:\n  - id: s\n    className: gale:nope\n")
	if code, _, errs := runAt(t, srv.URL, "submit", "--token", "s3cret", bad); code != 1 || !strings.Contains(errs, bad+`:4: spouts[0].className: unknown spout type "nope"`) {
		t.Errorf("submit bad: %d %q", code, errs)
	}
}
