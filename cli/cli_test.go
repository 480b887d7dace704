package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = cli.Run(context.Background(), &cli.Env{Stdout: &out, Stderr: &errs}, args)
	return code, out.String(), errs.String()
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun_Help(t *testing.T) {
	code, out, _ := runCLI(t, "--help")
	if code != 0 || !strings.Contains(out, "gale run examples/wordcount.json") || !strings.Contains(out, "validate") {
		t.Fatalf("help: code %d\n%s", code, out)
	}
	code, _, errs := runCLI(t, "frobnicate")
	if code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: code %d\n%s", code, errs)
	}
	code, _, errs = runCLI(t, "run")
	if code != 2 || !strings.Contains(errs, "want 1 argument") {
		t.Fatalf("missing argument: code %d\n%s", code, errs)
	}
}

// TestValidate_NotesStormNames: Storm's names of Gale settings validate,
// each with a note naming the Gale setting it is read as.
func TestValidate_NotesStormNames(t *testing.T) {
	p := write(t, "storm.json", `{"name": "storm", "config": {"topology.tick.tuple.freq.secs": 5,
	  "topology.subprocess.timeout.secs": 20, "topology.shellbolt.max.pending": 7},
	  "spouts": [{"id": "s", "type": "generator"}],
	  "bolts": [{"id": "b", "type": "shell", "config": {"command": ["cat"]}, "inputs": [{"component": "s"}]}]}`)
	code, out, errs := runCLI(t, "validate", p)
	if code != 0 {
		t.Fatalf("code %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		`note: config["topology.tick.tuple.freq.secs"]: Storm's name, read as Gale's "tick" of every bolt`,
		`note: config["topology.subprocess.timeout.secs"]: Storm's name, read as Gale's "heartbeat_timeout"`,
		`note: config["topology.shellbolt.max.pending"]: Storm's name, read as Gale's "max_pending"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestValidate_PrintsEveryErrorWithPath(t *testing.T) {
	p := write(t, "bad.json", `{"name": "bad",
	  "spouts": [{"id": "s", "type": "generatr", "paralelism": 2}],
	  "bolts": [{"id": "b", "type": "split", "parallelism": 0,
	             "inputs": [{"component": "x", "grouping": "fields"}]}]}`)
	code, _, errs := runCLI(t, "validate", p)
	if code != 1 {
		t.Fatalf("code %d, want 1", code)
	}
	for _, want := range []string{
		"invalid topology (5 errors)",
		`spouts[0].paralelism: unknown field`,
		`spouts[0].type: unknown spout type "generatr"; known spout types: ` +
			strings.Join(all.Registry().TypeNames(topology.KindSpout), ", ") + ` (did you mean "generator"?)`,
		"bolts[0].parallelism: want a positive integer",
		"bolts[0].inputs[0].fields",
		`bolts[0].inputs[0].component: unknown component "x"`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("output lacks %q:\n%s", want, errs)
		}
	}
	code, _, errs = runCLI(t, "validate", write(t, "broken.json", `{"name": "x", "spouts": [`))
	if code != 1 || !strings.Contains(errs, "malformed JSON") {
		t.Errorf("malformed JSON: code %d\n%s", code, errs)
	}
	code, _, errs = runCLI(t, "validate", "/no/such/file.json")
	if code != 1 || !strings.Contains(errs, "/no/such/file.json") {
		t.Errorf("missing file: code %d\n%s", code, errs)
	}
}

func TestRun_WordCountExample(t *testing.T) {
	code, out, errs := runCLI(t, "run", "--quiet", "--json", "../examples/wordcount.json")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, errs)
	}
	var st local.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	sp := st.Component("sentences")
	if sp.Emitted != 300000 || sp.Acked != 300000 || sp.Failed != 0 {
		t.Errorf("spout emitted %d acked %d failed %d, want 300000 acked", sp.Emitted, sp.Acked, sp.Failed)
	}
	if split, count := st.Component("split"), st.Component("count"); split.Emitted == 0 || count.Executed != split.Emitted {
		t.Errorf("split emitted %d words, count executed %d", split.Emitted, count.Executed)
	}
}

// TestRun_SIGINTDrains runs the real binary on an endless topology, sends
// SIGINT, and checks it drains: every emitted tree is acked, none pending.
func TestRun_SIGINTDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gale binary")
	}
	bin := filepath.Join(t.TempDir(), "gale")
	build := exec.Command("go", "build", "-o", bin, "../cmd/gale")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	topo := write(t, "endless.json", `{"name": "endless",
	  "config": {"topology.max.spout.pending": 500},
	  "spouts": [{"id": "gen", "type": "generator", "config": {"rate": 20000}}],
	  "bolts": [{"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "gen"}]},
	            {"id": "count", "type": "count", "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}]}`)
	cmd := exec.Command(bin, "run", "--json", "--progress", "200ms", topo)
	var out bytes.Buffer
	errs := &galetest.Buffer{}
	cmd.Stdout, cmd.Stderr = &out, errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inFlight := regexp.MustCompile(`spouts: emitted .* pending [1-9]`)
	galetest.Eventually(t, "a progress line with trees in flight", 20*time.Second, func() bool {
		return inFlight.MatchString(errs.String())
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\nstderr: %s", err, errs.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("did not exit after SIGINT\nstderr: %s", errs.String())
	}
	if !strings.Contains(errs.String(), "stopping (draining in-flight tuples") {
		t.Errorf("no drain message:\n%s", errs.String())
	}
	if !strings.Contains(errs.String(), "spouts: emitted") {
		t.Errorf("no progress line:\n%s", errs.String())
	}
	var st local.Stats
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("summary: %v\n%s", err, out.String())
	}
	gen := st.Component("gen")
	if gen.Emitted == 0 || gen.Acked != gen.Emitted || gen.Pending != 0 || gen.Failed != 0 {
		t.Errorf("after SIGINT: emitted %d acked %d failed %d pending %d; want all acked",
			gen.Emitted, gen.Acked, gen.Failed, gen.Pending)
	}
}
