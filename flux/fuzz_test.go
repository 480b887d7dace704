package flux_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gale-stream/gale/flux"
	"github.com/gale-stream/gale/topology"
)

// FuzzConvert: any input converts or gives an *Errors, never panics, and
// what converts is JSON that topology.Decode reads (or rejects) without
// panicking. scripts/fuzz.sh runs it under a memory cap: an input that
// makes the decoder allocate without bound fails it.
func FuzzConvert(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"name: x\nspouts: [{id: s, className: gale:generator}]\n",
		"a: &a [x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n",
		"a: &a [*a]\n",
		"name: x\nconfig: {<<: {a: 1}, b: 2}\n",
		"name: ${x}\nconfig: {a: ${ENV-HOME}, b: ${l[3]}}\n",
		strings.Repeat("[", 200) + strings.Repeat("]", 200),
		"name: x\nincludes: [{file: a.yaml}, {file: /etc/passwd, override: true}]\n",
		"name: !!binary aGVsbG8=\nconfig: {t: 2001-12-14t21:59:43.10-05:00, n: .nan, i: 0x1f, o: 0o17, big: 123456789012345678901234567890}\n",
	} {
		f.Add([]byte(s))
	}
	noFiles := func(string) ([]byte, error) { return nil, os.ErrNotExist }
	env := func(k string) (string, bool) { return "v", k == "HOME" }
	props := map[string]string{"x": "name", "l": `["a", "b"]`}
	reg := testRegistry(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := flux.Convert(data, "f.yaml", flux.Options{Properties: props, EnvFilter: true, LookupEnv: env, ReadFile: noFiles})
		if err != nil {
			var fe *flux.Errors
			if !errors.As(err, &fe) || len(fe.List) == 0 {
				t.Fatalf("error %T %v is no *flux.Errors", err, err)
			}
			return
		}
		if !json.Valid(res.JSON) {
			t.Fatalf("invalid JSON:\n%s", res.JSON)
		}
		if _, err := topology.Decode(res.JSON, reg); err != nil {
			var fe *flux.Errors
			if !errors.As(res.MapError(err), &fe) {
				t.Fatalf("decode error %T %v is no *flux.Errors", err, err)
			}
		}
	})
}
