package topology_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/gale-stream/gale/topology"
)

func FuzzDecode(f *testing.F) {
	seeds := []string{
		wordCountJSON,
		doc(spoutS, boltSplt),
		doc(`{"id": "l", "type": "lines", "outputs": {"default": ["a", "b"], "x": []}}`,
			`{"id": "f", "type": "filter", "config": {"contains": "x"}, "inputs": [{"component": "l", "stream": "x"}]},
			 {"id": "r", "type": "router", "tick": 1.5, "inputs": [{"component": "l", "grouping": "partial_key", "fields": ["a"]}]},
			 {"id": "p", "type": "print", "inputs": [{"component": "r", "stream": "routed", "grouping": "direct"}, {"component": "f", "grouping": "all"}]}`),
		`{"name": "t", "config": {"topology.workers": 2, "topology.debug": true, "x": [1, {"y": null}]}, "spouts": [` + spoutS + `]}`,
		doc(spoutS, `{"id": "a", "type": "split", "inputs": [{"component": "b"}]}, {"id": "b", "type": "split", "inputs": [{"component": "a"}]}`),
		doc(`{"id": "s", "type": "generator", "parallelism": "2", "config": {"rate": 1.5, "every": "x"}}`,
			`{"id": "c", "type": "count", "paralelism": 2, "config": {"limit": -1}, "inputs": [{"component": "s", "grouping": "fields", "fields": ["wrd"]}]}`),
		doc(`{"id": "s", "type": "generator", "autoscale": {"min": 2, "max": 4, "scale_up_lag_seconds": 12.5, "cooldown": "30s"}}`,
			`{"id": "b", "type": "split", "parallelism": 3, "autoscale": {"max": 8, "target_capacity": 0.5, "cooldwn": 1}, "inputs": [{"component": "s"}]}`),
		`{"name": "__x", "spouts": [null, 1, {"id": 2}], "bolts": {}}`,
		`{"name": "t", "spouts": [}`,
		`[]`, `null`, ``, `{"name": "t", "name": "u"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	cat := newCatalog()
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := topology.Decode(data, cat)
		if err != nil {
			if topo != nil {
				t.Fatal("a topology returned with an error")
			}
			var errs *topology.Errors
			if !errors.As(err, &errs) || len(errs.List) == 0 {
				t.Fatalf("error is not a non-empty *Errors: %#v", err)
			}
			for _, fe := range errs.List {
				if fe.Msg == "" || fe.Err == nil {
					t.Fatalf("empty FieldError %#v", fe)
				}
			}
			if syntax := errors.Is(err, topology.ErrSyntax); syntax == json.Valid(data) {
				t.Fatalf("ErrSyntax = %v but json.Valid = %v: %v", syntax, json.Valid(data), err)
			}
			return
		}
		if topo == nil {
			t.Fatal("nil topology without an error")
		}
		if len(topo.Spouts) == 0 {
			t.Fatal("valid topology without spouts")
		}
		for _, c := range append(topo.Spouts, topo.Bolts...) {
			if c == nil || c.Kind == 0 || c.Parallelism < 1 || c.Streams == nil {
				t.Fatalf("component not completed: %+v", c)
			}
			for _, in := range c.Inputs {
				if in.Stream == "" || in.Grouping == "" {
					t.Fatalf("input defaults not set: %+v", in)
				}
			}
		}
		if err := topo.Validate(cat); err != nil {
			t.Fatalf("Validate of a decoded topology: %v", err)
		}
		enc, err := topology.Encode(topo)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		again, err := topology.Decode(enc, cat)
		if err != nil {
			t.Fatalf("Decode(Encode(t)): %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(topo, again) {
			t.Fatalf("round trip changed the topology:\n%s", enc)
		}
	})
}

// fuzzConfig has no time.Duration, whose JSON form differs from
// encoding/json's, so that both decoders can be compared.
type fuzzConfig struct {
	Base
	*Extra
	S   string             `json:"s"`
	B   bool               `json:"b"`
	I8  int8               `json:"i8"`
	I   int                `json:"i"`
	U16 uint16             `json:"u16"`
	F32 float32            `json:"f32"`
	F   float64            `json:"f"`
	L   []Inner            `json:"l"`
	A   [2]int             `json:"a"`
	M   map[string]*Inner  `json:"m"`
	P   *string            `json:"p"`
	Any any                `json:"any"`
	Raw json.RawMessage    `json:"raw"`
	N   json.Number        `json:"n"`
	D   topology.Duration  `json:"d"`
	Lv  Level              `json:"lv"`
	By  []byte             `json:"by"`
	MM  map[string][]int64 `json:"mm"`
}

func FuzzDecodeConfig(f *testing.F) {
	for _, s := range []string{
		`{"host": "h", "port": 1, "tags": ["x"], "s": "s", "b": true, "i8": -128, "i": 1e3, "u16": 65535,
		  "f32": 1.5, "f": -0, "l": [{"name": "n", "ratio": 1}], "a": [1, 2], "m": {"k": {"name": "x"}},
		  "p": "p", "any": [1, {"a": null}], "raw": {"x": 1}, "n": 1.50, "d": "1s", "lv": "low", "by": "aGk=",
		  "mm": {"a": [1, 2]}}`,
		`{"i8": 128}`, `{"s": 1, "s": 2}`, `{"l": [{"nme": 1}]}`, `{"d": 1e300}`, `null`, `[]`, `{"a": [1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := "x"
		ours := fuzzConfig{I: 7, P: &p, M: map[string]*Inner{"keep": {}}}
		err := topology.DecodeConfig(data, &ours, "c")
		if err != nil {
			var errs *topology.Errors
			if !errors.As(err, &errs) || len(errs.List) == 0 {
				t.Fatalf("error is not a non-empty *Errors: %#v", err)
			}
			return
		}
		q := "x"
		theirs := fuzzConfig{I: 7, P: &q, M: map[string]*Inner{"keep": {}}}
		if json.Unmarshal(data, &theirs) != nil {
			return // stricter or different (numbers such as 1e3 for ints)
		}
		// encoding/json keeps RawMessage bytes as written; so do we.
		if !reflect.DeepEqual(ours, theirs) {
			t.Fatalf("DecodeConfig and encoding/json disagree on %s:\n%+v\n%+v", data, ours, theirs)
		}
	})
}
