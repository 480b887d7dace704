package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// in returns an input tuple from component "src" on the default stream.
func in(fields tuple.Fields, values ...any) *tuple.Tuple {
	return &tuple.Tuple{Values: values, Fields: fields, Stream: tuple.DefaultStream, Component: "src", Task: 1}
}

// tick returns a tick tuple as the engine sends it.
func tick() *tuple.Tuple {
	return &tuple.Tuple{Stream: tuple.TickStream, Component: tuple.SystemComponent}
}

// prepare prepares b on a fresh fake collector.
func prepare(t *testing.T, b bolt.Bolt) *galetest.BoltCollector {
	t.Helper()
	out := &galetest.BoltCollector{}
	if err := b.Prepare(context.Background(), nil, out); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Cleanup(); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	})
	return out
}

// execute runs tuples through b and fails on an Execute error.
func execute(t *testing.T, b bolt.Bolt, tuples ...*tuple.Tuple) {
	t.Helper()
	for _, tu := range tuples {
		if err := b.Execute(context.Background(), tu); err != nil {
			t.Fatalf("Execute(%v): %v", tu.Values, err)
		}
	}
}

// newBolt decodes config JSON for the named type of a fresh registry and
// builds the bolt, as the engine does.
func newBolt(t *testing.T, typ, config string) bolt.Bolt {
	t.Helper()
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	bt, ok := r.ComponentType(topology.KindBolt, typ)
	if !ok {
		t.Fatalf("no bolt type %q", typ)
	}
	settings, err := bt.DecodeSettings([]byte(config), "bolts[0].config")
	if err != nil {
		t.Fatalf("decode %s config %s: %v", typ, config, err)
	}
	b, err := r.NewBolt(&topology.Component{ID: typ, Type: typ, Settings: settings})
	if err != nil {
		t.Fatalf("NewBolt: %v", err)
	}
	return b
}

// values returns the values emitted on stream.
func values(out *galetest.BoltCollector, stream string) []tuple.Values {
	em, _, _, _ := out.Snapshot()
	var vs []tuple.Values
	for _, e := range em {
		if e.Stream == stream {
			vs = append(vs, e.Values)
		}
	}
	return vs
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		typ, json string
		wantErr   string // substring of the error; "" means valid
	}{
		{"split", ``, ""},
		{"split", `{"field":"line","lowercase":false,"strip":false,"as":"token"}`, ""},
		{"split", `{"as":""}`, "as"},
		{"split", `{"lower":true}`, "lower"},
		{"count", ``, ""},
		{"count", `{"field":"k","emit":"tick"}`, ""},
		{"count", `{"emit":"always"}`, "emit"},
		{"count", `{"field":""}`, "field"},
		{"count", `{"field":"count"}`, "field"},
		{"noop", ``, ""},
		{"noop", `{"delay":"2ms"}`, ""},
		{"noop", `{"delay":"-1s"}`, "delay"},
		{"count", `{"field":"k","state":{}}`, ""},
		{"count", `{"field":"k","state":{"kind":"kafka","brokers":["b:9092"],"topic":"t"}}`, ""},
		{"count", `{"field":"k","state":{"kind":"file","dir":"/shared/state","shared":true}}`, ""},
		{"count", `{"field":"k","emit":"tick","state":{}}`, "emit"},
		{"count", `{"state":{"kind":"kafak"}}`, `state.kind: "kafak" is not one of [file kafka] (did you mean "kafka"?)`},
		{"count", `{"state":{"kind":"kafka"}}`, "state.brokers"},
		{"count", `{"state":{"kind":"kafka","brokers":["b:9092"],"shared":true}}`, "state.shared"},
		{"count", `{"state":{"shared":true,"dir":"rel"}}`, "state.dir"},
		{"filter", `{"equals":"x"}`, ""},
		{"filter", `{"equals":""}`, ""},
		{"filter", `{"contains":"x","invert":true}`, ""},
		{"filter", `{"regex":"^a.*z$","field":"line"}`, ""},
		{"filter", ``, "exactly one"},
		{"filter", `{"equals":"x","regex":"y"}`, "exactly one"},
		{"filter", `{"equals":"x","contains":"y","regex":"z"}`, "exactly one"},
		{"filter", `{"regex":"a(b"}`, "regex"},
		{"json", `{"paths":["user.name","level","tags[0]"]}`, ""},
		{"json", `{"paths":["a","b"],"as":["x","y"],"on_error":"drop"}`, ""},
		{"json", `{"paths":["m[1][2]","a.b[0].c"],"on_error":"fail"}`, ""},
		{"json", ``, "paths"},
		{"json", `{"paths":[]}`, "paths"},
		{"json", `{"paths":["a..b"]}`, "paths[0]"},
		{"json", `{"paths":["a."]}`, "paths[0]"},
		{"json", `{"paths":["a[x]"]}`, "paths[0]"},
		{"json", `{"paths":["a[0"]}`, "paths[0]"},
		{"json", `{"paths":["[0]"]}`, "as[0]"},
		{"json", `{"paths":["a.name","b.name"]}`, "both make field"},
		{"json", `{"paths":["a","b"],"as":["x"]}`, "as"},
		{"json", `{"paths":["a"],"on_error":"ignore"}`, "on_error"},
		{"print", ``, ""},
		{"print", `{"path":"/tmp/out.txt","format":"json"}`, ""},
		{"print", `{"format":"yaml"}`, "format"},
		{"noop", ``, ""},
		{"noop", `{}`, ""},
		{"noop", `{"x":1}`, "known fields: delay"},
		{"fail", ``, ""},
		{"fail", `{"ratio":0}`, ""},
		{"fail", `{"ratio":1,"seed":9}`, ""},
		{"fail", `{"ratio":1.5}`, "ratio"},
		{"fail", `{"ratio":-0.1}`, "ratio"},
	}
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.json, func(t *testing.T) {
			bt, ok := r.ComponentType(topology.KindBolt, tt.typ)
			if !ok {
				t.Fatalf("no bolt type %q", tt.typ)
			}
			settings, err := bt.DecodeSettings([]byte(tt.json), "bolts[3].config")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("DecodeSettings: %v", err)
				}
				if _, err := r.NewBolt(&topology.Component{ID: "b", Type: tt.typ, Settings: settings}); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one about %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "bolts[3].config") {
				t.Errorf("error %q does not name %q at bolts[3].config", err, tt.wantErr)
			}
		})
	}
}

func TestConfig_ValidateSentinel(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []interface{ Validate() error }{
		&FilterConfig{Regex: s("(")},
		&FilterConfig{Equals: s("a"), Regex: s("b")},
		&FailConfig{Ratio: 2},
		&JSONConfig{OnError: OnErrorStream},
		&CountConfig{Emit: EmitUpdate},
		&SplitConfig{},
		&PrintConfig{},
	} {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%T.Validate() = %v, want ErrInvalidConfig", c, err)
		}
	}
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	for _, name := range r.TypeNames(topology.KindBolt) {
		if ct, _ := r.ComponentType(topology.KindBolt, name); ct.NewConfig == nil {
			continue
		}
		if _, err := r.NewBolt(&topology.Component{ID: "b", Type: name, Settings: "not a config"}); !errors.Is(err, registry.ErrConfigType) {
			t.Errorf("%s: New with bad settings = %v, want registry.ErrConfigType", name, err)
		}
	}
}

func TestType_Outputs(t *testing.T) {
	line := []tuple.Fields{{"line"}}
	tests := []struct {
		typ, json string
		inputs    []tuple.Fields
		want      topology.Streams
		wantErr   error
	}{
		{"split", ``, line, topology.Streams{"default": {"word"}}, nil},
		{"split", `{"field":"line","as":"w"}`, line, topology.Streams{"default": {"w"}}, nil},
		{"split", `{"field":"text"}`, line, nil, ErrNoField},
		{"split", ``, []tuple.Fields{{}}, nil, ErrNoField},
		{"count", ``, []tuple.Fields{{"word"}}, topology.Streams{"default": {"word", "count"}}, nil},
		{"count", `{"field":"user"}`, []tuple.Fields{{"user", "n"}}, topology.Streams{"default": {"user", "count"}}, nil},
		{"count", ``, line, nil, ErrNoField},
		{"filter", `{"equals":"a"}`, []tuple.Fields{{"a", "b"}}, topology.Streams{"default": {"a", "b"}}, nil},
		{"filter", `{"equals":"a","field":"c"}`, []tuple.Fields{{"a", "b"}}, nil, ErrNoField},
		{"filter", `{"equals":"a"}`, []tuple.Fields{{"a"}, {"b"}}, nil, ErrInvalidConfig},
		{"json", `{"paths":["user.name","level","tags[0]"]}`, line,
			topology.Streams{"default": {"name", "level", "tags"}, "errors": {"raw", "error"}}, nil},
		{"json", `{"paths":["a"],"as":["x"],"on_error":"drop","field":"line"}`, line,
			topology.Streams{"default": {"x"}}, nil},
		{"json", `{"paths":["a"],"field":"body"}`, line, nil, ErrNoField},
		{"fail", ``, []tuple.Fields{{"x", "y"}}, topology.Streams{"default": {"x", "y"}}, nil},
		{"fail", ``, []tuple.Fields{{"x"}, {"x"}}, topology.Streams{"default": {"x"}}, nil},
		{"fail", ``, []tuple.Fields{{"x"}, {"y"}}, nil, ErrInvalidConfig},
		{"noop", ``, line, topology.Streams{}, nil},
		{"noop", `{"forward":true}`, line, topology.Streams{"default": {"line"}}, nil},
		{"noop", `{"forward":true}`, []tuple.Fields{{"x"}, {"y"}}, nil, ErrInvalidConfig},
	}
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.json, func(t *testing.T) {
			bt, _ := r.ComponentType(topology.KindBolt, tt.typ)
			settings, err := bt.DecodeSettings([]byte(tt.json), "config")
			if err != nil {
				t.Fatal(err)
			}
			got, err := bt.Outputs(settings, tt.inputs)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Outputs = %v, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Outputs = %v, want %v", got, tt.want)
			}
			for id, f := range tt.want {
				if !slices.Equal(got[id], f) {
					t.Errorf("stream %q: %v, want %v", id, got[id], f)
				}
			}
		})
	}
	for _, name := range []string{"print"} {
		if bt, _ := r.ComponentType(topology.KindBolt, name); bt.Outputs != nil {
			t.Errorf("%s declares outputs", name)
		}
	}
}

func TestRegister(t *testing.T) {
	r := registry.New()
	if err := Register(r); err != nil {
		t.Fatalf("Register: %v", err)
	}
	want := []string{"count", "fail", "filter", "json", "noop", "print", "split", "window"}
	if got := r.TypeNames(topology.KindBolt); !slices.Equal(got, want) {
		t.Errorf("bolt types %v, want %v", got, want)
	}
	if err := Register(r); !errors.Is(err, registry.ErrDuplicate) {
		t.Errorf("second Register = %v, want ErrDuplicate", err)
	}
	for _, name := range want {
		bt, _ := r.ComponentType(topology.KindBolt, name)
		if bt.Doc == "" {
			t.Errorf("%s has no Doc", name)
		}
	}
}

func TestSplit_Execute(t *testing.T) {
	tests := []struct {
		name, config string
		tuple        *tuple.Tuple
		want         []string
	}{
		{"defaults", ``, in(tuple.Fields{"sentence"}, "The cow, jumped   over the Moon!"),
			[]string{"the", "cow", "jumped", "over", "the", "moon"}},
		{"keeps inner punctuation", ``, in(tuple.Fields{"s"}, `"Don't" -- stop...`), []string{"don't", "stop"}},
		{"no lowercase", `{"lowercase":false}`, in(tuple.Fields{"s"}, "A b."), []string{"A", "b"}},
		{"no strip", `{"strip":false}`, in(tuple.Fields{"s"}, "A b."), []string{"a", "b."}},
		{"named field", `{"field":"text"}`, in(tuple.Fields{"id", "text"}, 7, "x y"), []string{"x", "y"}},
		{"bytes", ``, in(tuple.Fields{"s"}, []byte("p\tq\nr")), []string{"p", "q", "r"}},
		{"empty", ``, in(tuple.Fields{"s"}, "  "), nil},
		{"unicode", ``, in(tuple.Fields{"s"}, "Ça va, ÉTÉ?"), []string{"ça", "va", "été"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBolt(t, "split", tt.config)
			out := prepare(t, b)
			execute(t, b, tt.tuple)
			em, acked, failed, _ := out.Snapshot()
			var got []string
			for _, e := range em {
				got = append(got, e.Values[0].(string))
				if len(e.Anchors) != 1 || e.Anchors[0] != tt.tuple {
					t.Errorf("emit %v not anchored to its input", e.Values)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("words %q, want %q", got, tt.want)
			}
			if len(acked) != 1 || acked[0] != tt.tuple || len(failed) != 0 {
				t.Errorf("acked %d failed %d, want the input acked", len(acked), len(failed))
			}
		})
	}
}

func TestSplit_MissingField(t *testing.T) {
	b := newBolt(t, "split", `{"field":"text"}`)
	out := prepare(t, b)
	execute(t, b, in(tuple.Fields{"line"}, "a b"), tick())
	em, acked, failed, errs := out.Snapshot()
	if len(em) != 0 || len(acked) != 2 || len(failed) != 0 {
		t.Errorf("emitted %d acked %d failed %d, want 0 2 0", len(em), len(acked), len(failed))
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrNoField) {
		t.Errorf("reported %v, want one ErrNoField", errs)
	}
}

func TestCount_Update(t *testing.T) {
	b := newBolt(t, "count", ``)
	out := prepare(t, b)
	inputs := []*tuple.Tuple{}
	for _, w := range []string{"a", "b", "a", "a"} {
		inputs = append(inputs, in(tuple.Fields{"word"}, w))
	}
	execute(t, b, inputs...)
	execute(t, b, tick()) // ignored in update mode
	em, acked, _, _ := out.Snapshot()
	want := []tuple.Values{{"a", int64(1)}, {"b", int64(1)}, {"a", int64(2)}, {"a", int64(3)}}
	if len(em) != len(want) {
		t.Fatalf("emitted %v, want %v", em, want)
	}
	for i, e := range em {
		if !slices.Equal(e.Values, want[i]) {
			t.Errorf("emit %d: %v, want %v", i, e.Values, want[i])
		}
		if len(e.Anchors) != 1 || e.Anchors[0] != inputs[i] {
			t.Errorf("emit %d not anchored to its input", i)
		}
	}
	if len(acked) != 5 {
		t.Errorf("acked %d, want 5", len(acked))
	}
	c := b.(*Count)
	if got := c.Counts(); len(got) != 2 || got["a"] != 3 || got["b"] != 1 {
		t.Errorf("Counts() = %v", got)
	}
}

func TestCount_Tick(t *testing.T) {
	b := newBolt(t, "count", `{"field":"user","emit":"tick"}`)
	out := prepare(t, b)
	f := tuple.Fields{"user", "action"}
	execute(t, b, in(f, "zoe", "x"), in(f, "al", "y"), in(f, "zoe", "z"))
	if em := values(out, tuple.DefaultStream); len(em) != 0 {
		t.Fatalf("emitted %v before a tick", em)
	}
	_, acked, _, _ := out.Snapshot()
	if len(acked) != 3 {
		t.Fatalf("acked %d inputs before the tick, want 3", len(acked))
	}
	execute(t, b, tick())
	execute(t, b, tick()) // nothing changed since
	execute(t, b, in(f, "al", "w"), tick())
	got := values(out, tuple.DefaultStream)
	want := []tuple.Values{{"al", int64(1)}, {"zoe", int64(2)}, {"al", int64(2)}}
	if len(got) != len(want) {
		t.Fatalf("emitted %v, want %v", got, want)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("emit %d: %v, want %v", i, got[i], want[i])
		}
	}
	em, _, _, _ := out.Snapshot()
	for _, e := range em {
		if len(e.Anchors) != 0 {
			t.Errorf("tick emit %v is anchored", e.Values)
		}
	}
}

func TestFilter_Execute(t *testing.T) {
	f := tuple.Fields{"level", "msg"}
	tests := []struct {
		config string
		keep   []string // levels kept of: info, warn, error, ""
	}{
		{`{"equals":"warn"}`, []string{"warn"}},
		{`{"equals":""}`, []string{""}},
		{`{"equals":"warn","invert":true}`, []string{"info", "error", ""}},
		{`{"contains":"r"}`, []string{"warn", "error"}},
		{`{"regex":"^(warn|error)$"}`, []string{"warn", "error"}},
		{`{"regex":"o","invert":true}`, []string{"warn", ""}},
		{`{"field":"msg","contains":"disk"}`, []string{"error"}},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			b := newBolt(t, "filter", tt.config)
			out := prepare(t, b)
			inputs := []*tuple.Tuple{
				in(f, "info", "started"), in(f, "warn", "slow"), in(f, "error", "disk full"), in(f, "", "?"),
			}
			execute(t, b, inputs...)
			execute(t, b, tick())
			em, acked, _, _ := out.Snapshot()
			var got []string
			for _, e := range em {
				got = append(got, e.Values[0].(string))
				if len(e.Values) != 2 || e.Stream != tuple.DefaultStream || len(e.Anchors) != 1 || &e.Anchors[0].Values[0] != &e.Values[0] {
					t.Errorf("emit %+v does not pass its anchored input through", e)
				}
			}
			if !slices.Equal(got, tt.keep) {
				t.Errorf("kept %q, want %q", got, tt.keep)
			}
			if len(acked) != len(inputs)+1 {
				t.Errorf("acked %d, want %d", len(acked), len(inputs)+1)
			}
		})
	}
}

func TestJSON_Execute(t *testing.T) {
	b := newBolt(t, "json", `{"paths":["user.name","level","tags[0]","user.age","missing.x","tags[5]","m[1][0]"],
		"as":["name","level","tag","age","x","tag5","m10"]}`)
	out := prepare(t, b)
	doc := `{"user":{"name":"ann","age":41},"level":"warn","tags":["a","b"],"m":[[1],[2.5,3]]}`
	inputs := []*tuple.Tuple{
		in(tuple.Fields{"line"}, doc),
		in(tuple.Fields{"line"}, []byte(`{"level":"info"}`)),
		in(tuple.Fields{"line"}, `[1,2]`),
	}
	execute(t, b, inputs...)
	em, acked, failed, _ := out.Snapshot()
	if len(em) != 3 || len(acked) != 3 || len(failed) != 0 {
		t.Fatalf("emitted %d acked %d failed %d, want 3 3 0", len(em), len(acked), len(failed))
	}
	want := []tuple.Values{
		{"ann", "warn", "a", "41", nil, nil, "2.5"},
		{nil, "info", nil, nil, nil, nil, nil},
		{nil, nil, nil, nil, nil, nil, nil},
	}
	for i, e := range em {
		if len(e.Anchors) != 1 || e.Anchors[0] != inputs[i] || e.Stream != tuple.DefaultStream {
			t.Errorf("emit %d: stream %q, not anchored to its input", i, e.Stream)
		}
		for j, v := range e.Values {
			if (v == nil) != (want[i][j] == nil) || v != nil && tuple.AsString(v) != want[i][j] {
				t.Errorf("emit %d value %d = %#v, want %#v", i, j, v, want[i][j])
			}
		}
	}
	if _, ok := em[0].Values[3].(json.Number); !ok {
		t.Errorf("a number is %T, want json.Number", em[0].Values[3])
	}
}

func TestJSON_OnError(t *testing.T) {
	bad := []string{`not json`, `{"a":1`, `{"a":1} trailing`, ``}
	for _, mode := range []string{OnErrorStream, OnErrorFail, OnErrorDrop} {
		t.Run(mode, func(t *testing.T) {
			b := newBolt(t, "json", `{"paths":["a"],"on_error":"`+mode+`"}`)
			out := prepare(t, b)
			for _, s := range bad {
				execute(t, b, in(tuple.Fields{"line"}, s))
			}
			execute(t, b, in(tuple.Fields{"line"}, `{"a":1}`))
			em, acked, failed, errs := out.Snapshot()
			good := values(out, tuple.DefaultStream)
			if len(good) != 1 || tuple.AsString(good[0][0]) != "1" {
				t.Errorf("default stream %v, want [[1]]", good)
			}
			errEmits := values(out, ErrorStream)
			switch mode {
			case OnErrorStream:
				if len(errEmits) != len(bad) || len(acked) != len(bad)+1 || len(failed) != 0 {
					t.Fatalf("errors stream %d, acked %d, failed %d", len(errEmits), len(acked), len(failed))
				}
				for i, v := range errEmits {
					if v[0] != bad[i] || !strings.Contains(v[1].(string), ErrNotJSON.Error()) {
						t.Errorf("error tuple %v, want raw %q and a message", v, bad[i])
					}
				}
				for _, e := range em {
					if len(e.Anchors) != 1 {
						t.Errorf("emit on %s not anchored", e.Stream)
					}
				}
			case OnErrorFail:
				if len(failed) != len(bad) || len(acked) != 1 || len(errEmits) != 0 {
					t.Fatalf("failed %d acked %d errors %d", len(failed), len(acked), len(errEmits))
				}
				if len(errs) != len(bad) || !errors.Is(errs[0], ErrNotJSON) {
					t.Errorf("reported %v, want ErrNotJSON each", errs)
				}
			case OnErrorDrop:
				if len(acked) != len(bad)+1 || len(failed) != 0 || len(errEmits) != 0 {
					t.Fatalf("acked %d failed %d errors %d", len(acked), len(failed), len(errEmits))
				}
				if d := b.(*JSON).Dropped(); d != int64(len(bad)) {
					t.Errorf("Dropped() = %d, want %d", d, len(bad))
				}
			}
		})
	}
}

func TestNoop_Execute(t *testing.T) {
	b := newBolt(t, "noop", ``)
	out := prepare(t, b)
	execute(t, b, in(tuple.Fields{"x"}, 1), in(tuple.Fields{"x"}, 2))
	em, acked, failed, _ := out.Snapshot()
	if len(em) != 0 || len(acked) != 2 || len(failed) != 0 {
		t.Errorf("emitted %d acked %d failed %d, want 0 2 0", len(em), len(acked), len(failed))
	}
}

// TestCount_StateInCluster: a cluster refuses a count whose state lives
// on one worker's disk, at the state's path, and takes a Kafka or a shared
// store.
func TestCount_StateInCluster(t *testing.T) {
	reg := registry.New()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(registry.Spout[registry.NoConfig]{Name: "src", Outputs: registry.Emits("key"),
		New: func(*registry.NoConfig) (spout.Spout, error) { return nil, nil }})
	for state, want := range map[string]string{
		`{}`: `bolts[0].config.state.kind: a file state store lives on one worker's disk`,
		`{"kind": "file", "dir": "/mnt/shared/state", "shared": true}`: "",
		`{"kind": "kafka", "brokers": ["k1:9092"]}`:                    "",
	} {
		topo, err := topology.Decode([]byte(`{"name": "t", "spouts": [{"id": "s", "type": "src"}],
		  "bolts": [{"id": "c", "type": "count", "config": {"field": "key", "state": `+state+`},
		    "inputs": [{"component": "s"}]}]}`), reg)
		if err != nil {
			t.Fatal(err)
		}
		err = topo.CheckCluster()
		switch {
		case want == "" && err != nil:
			t.Errorf("state %s: %v", state, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, topology.ErrLocalOnly)):
			t.Errorf("state %s: %v, want %q (ErrLocalOnly)", state, err, want)
		}
	}
}
