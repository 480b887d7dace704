package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

func nopBolt() bolt.Bolt {
	return bolt.Basic(bolt.Func(func(context.Context, *tuple.Tuple, bolt.BasicCollector) error { return nil }))
}

func boltType(name string) registry.Bolt[registry.NoConfig] {
	return registry.Bolt[registry.NoConfig]{Name: name, Outputs: registry.PassThrough(),
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return nopBolt(), nil }}
}

type upperConfig struct {
	Field  string `json:"field"`
	Suffix string `json:"suffix"`
}

func (c *upperConfig) Validate() error {
	if c.Field == "" {
		return errors.New("field must not be empty")
	}
	return nil
}

// upper is a typed bolt type; got receives the config each New is given.
func upper(got **upperConfig) registry.Bolt[upperConfig] {
	return registry.Bolt[upperConfig]{
		Name:   "upper",
		Doc:    "upper-cases a field",
		Config: func() *upperConfig { return &upperConfig{Field: "word", Suffix: "!"} },
		Outputs: registry.Declare(func(c *upperConfig, in []tuple.Fields) (topology.Streams, error) {
			for i, f := range in {
				if !f.Contains(c.Field) {
					return nil, fmt.Errorf("input %d has no field %q", i, c.Field)
				}
			}
			return topology.Streams{tuple.DefaultStream: {c.Field + "_upper"}}, nil
		}),
		New: func(c *upperConfig) (bolt.Bolt, error) {
			*got = c
			return nopBolt(), nil
		},
	}
}

func words() registry.Spout[registry.NoConfig] {
	return registry.Spout[registry.NoConfig]{Name: "words", Outputs: registry.Emits("word", "n"),
		New: func(*registry.NoConfig) (spout.Spout, error) { return nil, errors.New("not run") }}
}

func TestRegistry_Register(t *testing.T) {
	r := registry.New()
	if err := r.Register(boltType("upper")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		typ  registry.Type
		want error
	}{
		{"duplicate", boltType("upper"), registry.ErrDuplicate},
		{"empty name", boltType(""), registry.ErrBadName},
		{"upper case", boltType("Upper"), registry.ErrBadName},
		{"space", boltType("up per"), registry.ErrBadName},
		{"no factory", registry.Bolt[registry.NoConfig]{Name: "nofactory"}, registry.ErrNoFactory},
		{"outputs for another config", registry.Bolt[upperConfig]{Name: "mismatch",
			Outputs: registry.Declare(func(*registry.NoConfig, []tuple.Fields) (topology.Streams, error) { return nil, nil }),
			New:     func(*upperConfig) (bolt.Bolt, error) { return nopBolt(), nil }}, registry.ErrConfigType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := r.Register(c.typ); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	// a spout may share a bolt's name: kinds are separate namespaces
	if err := r.Register(registry.Spout[registry.NoConfig]{Name: "upper",
		New: func(*registry.NoConfig) (spout.Spout, error) { return nil, nil }}); err != nil {
		t.Errorf("spout named like a bolt: %v", err)
	}
	if got := fmt.Sprint(r.TypeNames(topology.KindBolt), r.TypeNames(topology.KindSpout)); got != "[upper] [upper]" {
		t.Errorf("type names %s", got)
	}
	if ct, ok := r.ComponentType(topology.KindBolt, "upper"); !ok || ct.Kind != topology.KindBolt {
		t.Errorf("ComponentType = %+v, %v", ct, ok)
	}
	if _, ok := r.ComponentType(topology.KindSpout, "nosuch"); ok {
		t.Error("unknown type found")
	}
}

// TestBolt_TypedConfig: the component's JSON config reaches New as the
// type's own *C (defaults kept, Validate run, errors at their path), and
// Declare sees the same config.
func TestBolt_TypedConfig(t *testing.T) {
	var got *upperConfig
	r := registry.New()
	r.MustRegister(words(), upper(&got))
	topo, err := topology.Decode([]byte(`{"name": "t", "spouts": [{"id": "w", "type": "words"}],
	  "bolts": [{"id": "u", "type": "upper", "config": {"suffix": "?"}, "inputs": [{"component": "w"}]}]}`), r)
	if err != nil {
		t.Fatal(err)
	}
	if s := topo.Bolts[0].Streams; fmt.Sprint(s) != "map[default:[word_upper]]" {
		t.Errorf("declared streams %v", s)
	}
	if _, err := r.NewBolt(topo.Bolts[0]); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Field != "word" || got.Suffix != "?" {
		t.Errorf("New got %+v, want the defaults with suffix \"?\"", got)
	}
	if topo.Catalog() != r {
		t.Errorf("the topology remembers catalog %v, want the registry it was decoded with", topo.Catalog())
	}
	for _, bad := range []struct{ config, want string }{
		{`{"field": ""}`, "bolts[0].config: field must not be empty"},
		{`{"sufix": "?"}`, `bolts[0].config.sufix: unknown field`},
		{`{"field": "n2"}`, `input 0 has no field "n2"`},
	} {
		_, err := topology.Decode([]byte(`{"name": "t", "spouts": [{"id": "w", "type": "words"}],
		  "bolts": [{"id": "u", "type": "upper", "config": `+bad.config+`, "inputs": [{"component": "w"}]}]}`), r)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("config %s: %v, want an error with %q", bad.config, err, bad.want)
		}
	}
}

// TestNoConfig: a type without config refuses one, and accepts none or {}.
func TestNoConfig(t *testing.T) {
	r := registry.New()
	r.MustRegister(words(), boltType("pass"))
	for config, ok := range map[string]bool{``: true, `"config": {},`: true, `"config": {"x": 1},`: false} {
		_, err := topology.Decode([]byte(`{"name": "t", "spouts": [{"id": "w", "type": "words"}],
		  "bolts": [{"id": "p", "type": "pass", `+config+` "inputs": [{"component": "w"}]}]}`), r)
		if (err == nil) != ok {
			t.Errorf("config %q: %v", config, err)
		}
		if !ok && !strings.Contains(fmt.Sprint(err), `takes no config`) {
			t.Errorf("config %q: %v, want \"takes no config\"", config, err)
		}
	}
}

func TestRegistry_MustRegisterPanicsOnDuplicate(t *testing.T) {
	r := registry.New()
	r.MustRegister(boltType("x"))
	defer func() {
		if p := recover(); p == nil {
			t.Error("no panic on a duplicate")
		}
	}()
	r.MustRegister(boltType("x"))
}

func TestRegistry_CloneIsIndependent(t *testing.T) {
	r := registry.New()
	r.MustRegister(boltType("a"))
	c := r.Clone()
	c.MustRegister(boltType("b"))
	if _, ok := r.ComponentType(topology.KindBolt, "b"); ok {
		t.Error("a type registered in the clone leaked into the original")
	}
	if _, ok := c.ComponentType(topology.KindBolt, "a"); !ok {
		t.Error("the clone lost a type")
	}
}

func TestRegistry_NewBoltErrors(t *testing.T) {
	r := registry.New()
	boom := errors.New("boom")
	r.MustRegister(registry.Bolt[registry.NoConfig]{Name: "broken",
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return nil, boom }})
	var got *upperConfig
	r.MustRegister(upper(&got))
	if _, err := r.NewBolt(&topology.Component{ID: "c", Type: "nosuch"}); !errors.Is(err, registry.ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	_, err := r.NewBolt(&topology.Component{ID: "c", Type: "broken"})
	if !errors.Is(err, boom) || err.Error() != `component "c": new broken bolt: boom` {
		t.Errorf("factory error: %v", err)
	}
	// settings of another type (decoded by another catalog): refused
	if _, err := r.NewBolt(&topology.Component{ID: "c", Type: "upper", Settings: &struct{}{}}); !errors.Is(err, registry.ErrConfigType) {
		t.Errorf("foreign settings: %v", err)
	}
	// no settings (a component nobody decoded): the defaults
	if _, err := r.NewBolt(&topology.Component{ID: "c", Type: "upper"}); err != nil || got == nil || got.Field != "word" {
		t.Errorf("no settings: %v, config %+v", err, got)
	}
}

func TestOutputs(t *testing.T) {
	in := []tuple.Fields{{"a", "b"}}
	for _, c := range []struct {
		name string
		out  registry.Outputs
		want string
	}{
		{"Emits", registry.Emits("x", "y"), "map[default:[x y]]"},
		{"EmitsStreams", registry.EmitsStreams(topology.Streams{"s": {"x"}, "default": {"y"}}), "map[default:[y] s:[x]]"},
		{"PassThrough", registry.PassThrough(), "map[default:[a b]]"},
	} {
		ct, err := registry.Describe(registry.Bolt[registry.NoConfig]{Name: "b", Outputs: c.out,
			New: func(*registry.NoConfig) (bolt.Bolt, error) { return nopBolt(), nil }})
		if err != nil {
			t.Fatal(err)
		}
		out, err := ct.Outputs(nil, in)
		if err != nil || fmt.Sprint(out) != c.want {
			t.Errorf("%s: %v, %v; want %s", c.name, out, err, c.want)
		}
	}
	// the zero Outputs declares nothing
	ct, _ := registry.Describe(boltType("x"))
	if ct.NewConfig != nil {
		t.Error("a NoConfig type has a NewConfig")
	}
	ct, _ = registry.Describe(registry.Bolt[registry.NoConfig]{Name: "sink", New: func(*registry.NoConfig) (bolt.Bolt, error) { return nopBolt(), nil }})
	if ct.Outputs != nil {
		t.Error("the zero Outputs declares streams")
	}
}
