package cli_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/registry/all"
)

// TestTypes_MatchTheREADME: `gale types` lists every component type the
// README documents — in its topology examples ("type": "..."), its list
// of built-in types and its table of sinks — and the README documents
// every type `gale types` lists. A type the binary was built without
// (Ceph, without the ceph tag) must be one the binary says is missing.
// avroTypes are the type names of Avro schemas, which the README's
// examples of the schema registry and the Avro and Parquet formats hold.
var avroTypes = map[string]bool{"null": true, "boolean": true, "int": true, "long": true, "float": true,
	"double": true, "bytes": true, "string": true, "record": true, "enum": true, "array": true, "map": true, "fixed": true}

func TestTypes_MatchTheREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`"type": "([a-z][a-z0-9_.-]*)"`).FindAllSubmatch(readme, -1) {
		documented[string(m[1])] = true
	}
	// the sinks' table: | `file_sink` | ...
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z][a-z0-9_]*)` \\|").FindAllSubmatch(readme, -1) {
		documented[string(m[1])] = true
	}
	// the list of built-in types: a paragraph starting "Built-in types"
	i := bytes.Index(readme, []byte("Built-in types"))
	if i < 0 {
		t.Fatal(`the README has no "Built-in types" paragraph`)
	}
	para := readme[i:]
	if j := bytes.Index(para, []byte("\n\n")); j >= 0 {
		para = para[:j]
	}
	for _, m := range regexp.MustCompile("`([a-z][a-z0-9_]*)`").FindAllSubmatch(para, -1) {
		documented[string(m[1])] = true
	}

	var out, errs bytes.Buffer
	if code := cli.Run(context.Background(), &cli.Env{Stdout: &out, Stderr: &errs}, []string{"types"}); code != 0 {
		t.Fatalf("gale types: exit %d: %s", code, errs.String())
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "  ") {
			listed[strings.Fields(line)[0]] = true
		}
	}
	if len(listed) < 10 {
		t.Fatalf("gale types listed %d types:\n%s", len(listed), out.String())
	}
	missing := all.Missing()
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range documented {
			if !yield(n) {
				return
			}
		}
	}) {
		if listed[name] {
			continue
		}
		if why, ok := missing[name]; ok {
			t.Logf("%s: documented, not in this binary (%s)", name, why)
			continue
		}
		if name == "shout" || name == "upper" || name == "suffix" { // the README's own example types
			continue
		}
		if avroTypes[name] { // a "type" of an Avro schema in an example
			continue
		}
		t.Errorf("the README documents type %q, which gale types does not list", name)
	}
	for name := range listed {
		if !documented[name] {
			t.Errorf("gale types lists %q, which the README does not document (a \"type\" in an example, the built-in list or the sinks' table)", name)
		}
	}
}

// TestREADME_LayoutMatchesTheTree: the folders the README's layout table
// names exist, and every top-level folder and every package under
// internal/ is in it.
func TestREADME_LayoutMatchesTheTree(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(readme, []byte("\n## Layout\n"))
	if i < 0 {
		t.Fatal("the README has no Layout section")
	}
	section := readme[i+1:]
	if j := bytes.Index(section[3:], []byte("\n## ")); j >= 0 {
		section = section[:j+3]
	}
	named := map[string]bool{}
	for _, row := range strings.Split(string(section), "\n") {
		cells := strings.Split(row, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range regexp.MustCompile("`([a-z][a-z0-9_/]*)`").FindAllStringSubmatch(cells[1], -1) {
			p := strings.TrimSuffix(m[1], "/")
			named[p] = true
			if _, err := os.Stat(filepath.Join("..", p)); err != nil {
				t.Errorf("the layout names %s: %v", m[1], err)
			}
		}
	}
	if len(named) < 10 {
		t.Fatalf("the layout table names %d folders", len(named))
	}
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || e.Name() == "internal" || e.Name() == "bin" || e.Name() == "artifacts" || e.Name() == "docs" || e.Name() == "scripts" {
			continue
		}
		if !named[e.Name()] && !named[e.Name()+"/gale"] {
			t.Errorf("the top-level folder %s/ is not in the README's layout", e.Name())
		}
	}
	internal, _ := os.ReadDir(filepath.Join("..", "internal"))
	for _, e := range internal {
		if e.IsDir() && !named["internal/"+e.Name()] {
			t.Errorf("internal/%s is not in the README's layout", e.Name())
		}
	}
}

// TestLayout_InternalNotImportable: a module of a user cannot import the
// engine's machinery (Go's internal rule), while it can import the public
// packages.
func TestLayout_InternalNotImportable(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pkg string
		ok  bool
	}{
		{"github.com/gale-stream/gale/cluster/internal/transport", false},
		{"github.com/gale-stream/gale/internal/tuplestate", false},
		{"github.com/gale-stream/gale/local", true},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/user\n\ngo 1.26\n\nrequire github.com/gale-stream/gale v0.0.0\n\nreplace github.com/gale-stream/gale => "+root+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport _ \""+c.pkg+"\"\n\nfunc main() {}\n"), 0o644)
		cmd := exec.Command("go", "list", "-mod=mod", "-deps", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: a user's module cannot import it: %v\n%s", c.pkg, err, out)
		case !c.ok && !strings.Contains(string(out), "use of internal package "+c.pkg+" not allowed"):
			t.Errorf("%s: a user's module can import it (err %v):\n%s", c.pkg, err, out)
		}
	}
}
