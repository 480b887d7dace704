package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/registry/all"
)

func testRegistry(t *testing.T) *registry.Registry {
	r := all.Registry()
	if err := r.Register(ShoutType); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestShout_RunsInGale(t *testing.T) {
	var out, errs bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &errs, Registry: testRegistry(t)}
	code := cli.Run(context.Background(), env, []string{"run", "--quiet", "--json", "topology.json"})
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errs.String())
	}
	for _, want := range []string{`"component": "shout"`, `"acked": 2000`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %s:\n%s", want, out.String())
		}
	}
}

func TestShout_ConfigErrorsNamePath(t *testing.T) {
	var out, errs bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &errs, Registry: testRegistry(t)}
	bad := t.TempDir() + "/bad.json"
	writeFile(t, bad, `{"name": "x", "spouts": [{"id": "s", "type": "generator"}],
	  "bolts": [{"id": "b", "type": "shout", "config": {"min_length": -1, "sufix": "?"}, "inputs": [{"component": "s"}]}]}`)
	if code := cli.Run(context.Background(), env, []string{"validate", bad}); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"bolts[0].config.sufix: unknown field", `did you mean "suffix"`} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("errors lack %q:\n%s", want, errs.String())
		}
	}
}
