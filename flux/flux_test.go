package flux_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	boltbuiltin "github.com/gale-stream/gale/bolt/builtin"
	"github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/flux"
	"github.com/gale-stream/gale/registry"
	spoutbuiltin "github.com/gale-stream/gale/spout/builtin"
	spoutshell "github.com/gale-stream/gale/spout/shell"
	"github.com/gale-stream/gale/topology"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func noEnv(string) (string, bool) { return "", false }

// convert converts src and decodes its JSON into a generic map.
func convert(t *testing.T, src string, opts flux.Options) map[string]any {
	t.Helper()
	if opts.LookupEnv == nil {
		opts.LookupEnv = noEnv
	}
	res, err := flux.Convert([]byte(src), "t.yaml", opts)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(res.JSON, &m); err != nil {
		t.Fatalf("JSON: %v\n%s", err, res.JSON)
	}
	return m
}

// errs converts src and returns its errors, one string each.
func errs(t *testing.T, src string, opts flux.Options) []string {
	t.Helper()
	if opts.LookupEnv == nil {
		opts.LookupEnv = noEnv
	}
	_, _, err := flux.Decode([]byte(src), "t.yaml", opts, testRegistry(t))
	if err == nil {
		t.Fatalf("no error for\n%s", src)
	}
	var fe *flux.Errors
	if !errors.As(err, &fe) {
		t.Fatalf("error %T is no *flux.Errors: %v", err, err)
	}
	var out []string
	for _, e := range fe.List {
		out = append(out, e.Error())
	}
	return out
}

// TestDecode_StormExamples decodes Flux files from Storm's own examples
// and tests (flux-examples multilang.yaml, flux-core shell_test.yaml and
// substitution-test.yaml, copied in testdata as they are).
func TestDecode_StormExamples(t *testing.T) {
	props, err := flux.ParseProperties(read(t, "test.properties"))
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) {
		if k == "PATH" {
			return "/bin:/usr/bin", true
		}
		return "", false
	}
	for _, tc := range []struct {
		file string
		opts flux.Options
		name string
	}{
		{"multilang.yaml", flux.Options{}, "shell-topology"},
		{"shell_test.yaml", flux.Options{}, "shell-topology"},
		{"substitution-test.yaml", flux.Options{Properties: props, EnvFilter: true, LookupEnv: env}, "substitution-topology"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if tc.opts.LookupEnv == nil {
				tc.opts.LookupEnv = noEnv
			}
			topo, res, err := flux.Decode(read(t, tc.file), tc.file, tc.opts, testRegistry(t))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if topo.Name != tc.name {
				t.Errorf("name %q, want %q", topo.Name, tc.name)
			}
			types := map[string]string{}
			for _, c := range append(append([]*topology.Component(nil), topo.Spouts...), topo.Bolts...) {
				types[c.ID] = c.Type
			}
			want := map[string]string{"sentence-spout": "shell", "splitsentence": "shell", "log": "print", "count": "count"}
			for id, ty := range want {
				if types[id] != ty {
					t.Errorf("%s: type %q, want %q (all: %v)", id, types[id], ty, types)
				}
			}
			count := topo.Bolts[2]
			if count.ID != "count" || len(count.Inputs) != 1 || count.Inputs[0].Grouping != "fields" || count.Inputs[0].Fields[0] != "word" {
				t.Errorf("count's input: %+v", count.Inputs)
			}
			if len(res.Warnings) != 0 {
				t.Errorf("warnings: %v", res.Warnings)
			}
		})
	}
}

func TestConvert_SubstitutionAsFlux(t *testing.T) {
	props, err := flux.ParseProperties(read(t, "test.properties"))
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) { return map[string]string{"PATH": "/bin"}[k], k == "PATH" }
	m := convert(t, string(read(t, "substitution-test.yaml")), flux.Options{Properties: props, EnvFilter: true, LookupEnv: env})
	cfg := m["config"].(map[string]any)
	if m["name"] != "substitution-topology" || cfg["test.env.value"] != "/bin" ||
		cfg["list.element.property.target"] != "A string list" {
		t.Errorf("substituted: name %v config %v", m["name"], cfg)
	}
	if l, ok := cfg["list.property.target"].([]any); !ok || len(l) != 1 || l[0] != "A string list" {
		t.Errorf("list property: %#v", cfg["list.property.target"])
	}
	// without --env-filter, ${ENV-PATH} stays, with a warning naming the flag
	res, err := flux.Convert(read(t, "substitution-test.yaml"), "s.yaml", flux.Options{Properties: props, LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Error(), "s.yaml:45: no value for ${ENV-PATH}") ||
		!strings.Contains(res.Warnings[0].Error(), "--env-filter") {
		t.Errorf("warnings: %v", res.Warnings)
	}
}

// TestConvert_YAML11Booleans: Flux reads YAML 1.1, where a plain yes or
// off is a boolean (a quoted one stays a string).
func TestConvert_YAML11Booleans(t *testing.T) {
	m := convert(t, "name: x\nconfig: {topology.debug: yes, a: off, b: \"yes\", c: yes please}\nspouts: [{id: s, className: gale:generator}]\n", flux.Options{})
	cfg := m["config"].(map[string]any)
	if cfg["topology.debug"] != true || cfg["a"] != false || cfg["b"] != "yes" || cfg["c"] != "yes please" {
		t.Errorf("config %v", cfg)
	}
}

func TestConvert_Groupings(t *testing.T) {
	for fl, gale := range map[string]string{"SHUFFLE": "shuffle", "ALL": "all", "GLOBAL": "global", "NONE": "none",
		"LOCAL_OR_SHUFFLE": "local_or_shuffle", "DIRECT": "direct"} {
		m := convert(t, `
name: g
spouts: [{id: s, className: gale:generator}]
bolts: [{id: b, className: "gale:noop"}]
streams:
  - from: s
    to: b
    grouping: {type: `+fl+`, streamId: other}
`, flux.Options{})
		in := m["bolts"].([]any)[0].(map[string]any)["inputs"].([]any)[0].(map[string]any)
		if in["grouping"] != gale || in["stream"] != "other" || in["component"] != "s" {
			t.Errorf("%s: input %v", fl, in)
		}
	}
}

func TestConvert_GaleTypesAndComponentConfig(t *testing.T) {
	m := convert(t, `
name: g
config: {topology.workers: 2, my.key: [1, 2.5, true, null]}
spouts:
  - id: s
    className: gale:generator
    constructorArgs: [{seed: 7, sentences: [a b, c]}]
    properties: [{name: count, value: 10}]
    numTasks: 3
bolts:
  - id: split
    className: split
  - id: sh
    className: org.apache.storm.flux.wrappers.bolts.FluxShellBolt
    constructorArgs: [[python3, x.py]]
    configMethods:
      - {name: setNamedStream, args: [alerts, [a, b]]}
      - {name: addComponentConfig, args: [rabbit, [x]]}
      - {name: setEnv, args: [{A: "1"}]}
    config:
      topology.tick.tuple.freq.secs: 2
      topology.subprocess.timeout.secs: 60
      topology.shellbolt.max.pending: 5
      user.key: v
streams:
  - {from: s, to: split, grouping: {type: SHUFFLE}}
  - {from: split, to: sh, grouping: {type: FIELDS, args: [word]}}
`, flux.Options{ShellDir: "/res"})
	b, _ := json.Marshal(m)
	got := string(b)
	for _, want := range []string{
		`"config":{"my.key":[1,2.5,true,null],"topology.workers":2}`,
		`"config":{"count":10,"seed":7,"sentences":["a b","c"]}`, `"parallelism":3`,
		`"config":{"command":["python3","x.py"],"conf":{"rabbit":["x"],"user.key":"v"},"dir":"/res","env":{"A":"1"},"heartbeat_timeout":60,"max_pending":5}`,
		`"outputs":{"alerts":["a","b"]}`, `"tick":2`, `"type":"split"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("converted JSON lacks %s:\n%s", want, got)
		}
	}
}

// TestDecode_Errors: each mistake is reported at its file, line and Flux
// path, Gale's own validation errors included.
func TestDecode_Errors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown Java class", `
name: x
spouts:
  - id: s
    className: gale:generator
bolts:
  - id: b
    className: gale:noop
  - id: c
    className: "org.apache.storm.testing.TestPlannerBolt"
streams:
  - {from: s, to: b, grouping: {type: SHUFFLE}}
`, []string{`t.yaml:10: bolts[1].className: Java class "org.apache.storm.testing.TestPlannerBolt" has no Gale equivalent: Gale runs no Java`}},
		{"kafka spout", `
name: x
spouts:
  - id: k
    className: org.apache.storm.kafka.spout.KafkaSpout
`, []string{`t.yaml:5: spouts[0].className: Java class "org.apache.storm.kafka.spout.KafkaSpout" has no Gale equivalent: use className "gale:kafka"`}},
		{"custom grouping", `
name: x
spouts: [{id: s, className: gale:generator}]
bolts: [{id: b, className: gale:noop}]
streams:
  - from: s
    to: b
    grouping:
      type: CUSTOM
      customClass: {className: org.apache.storm.testing.NGrouping}
`, []string{`t.yaml:9: streams[0].grouping.type: a CUSTOM grouping runs a Java class (org.apache.storm.testing.NGrouping)`}},
		{"grouping typo", `
name: x
spouts: [{id: s, className: gale:generator}]
bolts: [{id: b, className: gale:noop}]
streams: [{from: s, to: b, grouping: {type: shuffle}}]
`, []string{`t.yaml:5: streams[0].grouping.type: unknown grouping "shuffle"; known groupings: ALL, CUSTOM, DIRECT, SHUFFLE, LOCAL_OR_SHUFFLE, FIELDS, GLOBAL, NONE (did you mean "SHUFFLE"?)`}},
		{"unknown field", `
name: x
spouts: [{id: s, className: gale:generator, paralelism: 2}]
`, []string{`t.yaml:3: spouts[0].paralelism: unknown field of a spout; known fields: id, className, constructorArgs, properties, configMethods, factory, factoryArgs, parallelism, numTasks, onHeapMemoryLoad, offHeapMemoryLoad, cpuLoad, config (did you mean "parallelism"?)`}},
		{"gale validation: a field the stream lacks", `
name: x
spouts: [{id: s, className: gale:generator}]
bolts: [{id: b, className: gale:noop}]
streams:
  - from: s
    to: b
    grouping:
      type: FIELDS
      args:
        - sentence
        - wrd
`, []string{`t.yaml:12: streams[0].grouping.args[1]: field "wrd" is not in stream "default" of "s"`}},
		{"gale validation: unknown component and type", `
name: x
spouts: [{id: s, className: gale:generatr}]
bolts: [{id: b, className: gale:noop}]
streams: [{from: z, to: b, grouping: {type: SHUFFLE}}]
`, []string{`t.yaml:3: spouts[0].className: unknown spout type "generatr"`, `t.yaml:5: streams[0].from: unknown component "z"`}},
		{"a bolt no stream reaches", `
name: x
spouts: [{id: s, className: gale:generator}]
bolts:
  - id: b
    className: gale:noop
`, []string{`t.yaml:5: bolts[0]: no stream reaches this bolt`}},
		{"stream to a spout, to nothing", `
name: x
spouts: [{id: s, className: gale:generator}]
bolts: [{id: b, className: gale:noop}]
streams:
  - {from: s, to: b, grouping: {type: SHUFFLE}}
  - {from: s, to: s, grouping: {type: SHUFFLE}}
  - {from: s, to: bb, grouping: {type: SHUFFLE}}
`, []string{`t.yaml:7: streams[1].to: "s" is a spout`, `t.yaml:8: streams[2].to: no bolt "bb" (did you mean "b"?)`}},
		{"shell without command, wrong kind", `
name: x
spouts:
  - {id: s, className: org.apache.storm.flux.wrappers.bolts.FluxShellBolt, constructorArgs: [[a]]}
  - id: t
    className: org.apache.storm.flux.wrappers.spouts.FluxShellSpout
`, []string{`t.yaml:4: spouts[0].className: org.apache.storm.flux.wrappers.bolts.FluxShellBolt is a bolt class, declared here as a spout`,
			`t.yaml:5: spouts[1]: org.apache.storm.flux.wrappers.spouts.FluxShellSpout takes constructorArgs`}},
		{"components, refs, topologySource", `
name: x
components:
  - id: c
    className: java.lang.String
spouts:
  - id: s
    className: gale:generator
    properties: [{name: seed, ref: c}]
  - id: sh
    className: org.apache.storm.flux.wrappers.spouts.FluxShellSpout
    constructorArgs: [[a]]
    configMethods: [{name: addComponentConfig, args: [k, {reflist: [c]}]}]
topologySource: {className: a.B}
`, []string{`t.yaml:9: spouts[0].properties[0]: a ref names a Flux component`,
			`t.yaml:13: spouts[1].configMethods[0].args[1]: a reflist names Flux components`, `t.yaml:14: topologySource: a topologySource is a Java class`}},
		{"per-component settings", `
name: x
spouts:
  - id: s
    className: gale:generator
    config: {topology.max.spout.pending: 5, foo: 1}
`, []string{`t.yaml:6: spouts[0].config["topology.max.spout.pending"]: Gale has no per-component setting`,
			`t.yaml:6: spouts[0].config.foo: a component's own config reaches only shell components`}},
		{"gale config errors at the property", `
name: x
spouts:
  - id: s
    className: gale:generator
    properties:
      - name: rate
        value: -1
`, []string{`t.yaml:8: spouts[0].properties[0].value: `}},
		{"topology settings", `
name: x
config:
  topology.workers: 0
spouts: [{id: s, className: gale:generator}]
`, []string{`t.yaml:4: config["topology.workers"]: want a positive integer`}},
		{"unknown setting with a long name", "name: x\nconfig:\n  topology." + strings.Repeat("é", 40) + ": 1\nspouts: [{id: s, className: gale:generator}]\n",
			[]string{`t.yaml:3: config["topology.` + strings.Repeat("é", 27) + `"...]: unknown topology setting`}},
		{"syntax", "name: x\nspouts:\n  - id: [\n", []string{`t.yaml:3: did not find expected node content`}},
		{"duplicate key", "name: x\nname: y\nspouts: []\n", []string{`t.yaml:2: name: duplicate key`}},
		{"not a mapping", "- a\n- b\n", []string{`t.yaml:1: want a mapping describing a Flux topology, got a sequence`}},
		{"two documents", "name: x\n---\nname: y\n", []string{`t.yaml:2: more than one YAML document`}},
		{"resource include", "name: x\nincludes: [{resource: true, file: /configs/a.yaml}]\n", []string{`t.yaml:2: includes[0]: a classpath resource`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := errs(t, tc.src, flux.Options{})
			if len(got) != len(tc.want) {
				t.Fatalf("%d errors, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("error %d:\n got %s\nwant %s...", i, got[i], w)
				}
			}
		})
	}
}

func TestDecode_GaleErrorsUnwrap(t *testing.T) {
	_, _, err := flux.Decode([]byte("name: x\nspouts: [{id: s, className: gale:generator}]\nbolts: [{id: b, className: gale:noop}]\nstreams: [{from: s, to: b, grouping: {type: FIELDS, args: [nope]}}]\n"),
		"t.yaml", flux.Options{}, testRegistry(t))
	var fe *topology.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, topology.ErrGrouping) && !errors.Is(err, topology.ErrUnknownField) && fe == nil {
		t.Fatalf("error %v does not unwrap to a topology.FieldError", err)
	}
	_, _, err = flux.Decode([]byte("name: x\nspouts: [{id: s, className: a.B}]\n"), "t.yaml", flux.Options{}, testRegistry(t))
	if !errors.Is(err, flux.ErrNoEquivalent) {
		t.Errorf("unknown class: %v is not ErrNoEquivalent", err)
	}
}

func TestConvert_Includes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("base.yaml", `
name: base
config: {topology.workers: 3, topology.debug: true}
spouts: [{id: s, className: gale:generator, parallelism: 2}]
bolts: [{id: b, className: gale:noop}]
streams: [{from: s, to: b, grouping: {type: SHUFFLE}}]
includes: [{file: other.yaml}]
`)
	for _, tc := range []struct {
		override           bool
		name, workers, par string
	}{{false, "main", "1", "1"}, {true, "base", "3", "2"}} {
		main := write("main.yaml", `
name: main
config: {topology.workers: 1}
spouts: [{id: s, className: gale:generator}]
includes:
  - file: base.yaml
    override: `+map[bool]string{true: "true", false: "false"}[tc.override]+`
`)
		data, _ := os.ReadFile(main)
		res, err := flux.Convert(data, main, flux.Options{LookupEnv: noEnv})
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Name   string
			Config map[string]any
			Spouts []struct{ Parallelism int }
			Bolts  []struct{ ID string }
		}
		if err := json.Unmarshal(res.JSON, &m); err != nil {
			t.Fatal(err)
		}
		par := max(m.Spouts[0].Parallelism, 1)
		if m.Name != tc.name || m.Config["topology.workers"] != json.Number(tc.workers) && m.Config["topology.workers"] != float64(tc.workers[0]-'0') ||
			m.Config["topology.debug"] != true || par != int(tc.par[0]-'0') || len(m.Bolts) != 1 {
			t.Errorf("override %v: %s", tc.override, res.JSON)
		}
		// the include's own includes are ignored, as in Flux, with a warning
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Error(), "base.yaml:7: includes of an included file are ignored") &&
			!strings.Contains(res.Warnings[0].Error(), "the includes of an included file are ignored") {
			t.Errorf("warnings: %v", res.Warnings)
		}
	}
	main := write("bad.yaml", "name: x\nincludes: [{file: missing.yaml}]\nspouts: [{id: s, className: gale:generator}]\n")
	data, _ := os.ReadFile(main)
	_, err := flux.Convert(data, main, flux.Options{})
	if !errors.Is(err, flux.ErrInclude) || !strings.Contains(err.Error(), "bad.yaml:2: includes[0]: include ") {
		t.Errorf("missing include: %v", err)
	}
}

// TestConvert_HostileInput: what would cost unbounded memory or time is
// refused with a clear error.
func TestConvert_HostileInput(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := 'b'; i <= 'j'; i++ {
		laughs += string(i) + ": &" + string(i) + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = string(i)
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"billion laughs", "name: x\nconfig:\n  " + strings.ReplaceAll(strings.TrimSpace(laughs), "\n", "\n  ") + "\n", "values (each alias counted as what it expands to)"},
		{"deep nesting", "name: x\nconfig: {a: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "}\n", "nested more than 64 levels deep"},
		{"huge", "name: x\nconfig: {a: \"" + strings.Repeat("x", flux.MaxFileSize) + "\"}\n", "larger than"},
		{"self alias", "a: &a [*a]\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flux.Convert([]byte(tc.src), "t.yaml", flux.Options{LookupEnv: noEnv})
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseProperties(t *testing.T) {
	p, err := flux.ParseProperties([]byte("# comment\n! also\n a = 1\nb: two words  \nc three\nlong = x, \\\n    y\nesc\\ key = tab\\tu\\u00e9\n\nempty\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "b": "two words  ", "c": "three", "long": "x, y", "esc key": "tab\tué", "empty": ""}
	if len(p) != len(want) {
		t.Errorf("got %q", p)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%q = %q, want %q", k, p[k], v)
		}
	}
}

func TestIsFlux(t *testing.T) {
	for _, tc := range []struct {
		path, data string
		want       bool
	}{{"a.yaml", "{}", true}, {"a.YML", "", true}, {"a.json", "name: x", false}, {"a", `{"name": "x"}`, false}, {"a", "---\nname: x", true}, {"a", "\n  # c\nname: x", true}} {
		if got := flux.IsFlux(tc.path, []byte(tc.data)); got != tc.want {
			t.Errorf("IsFlux(%q, %q) = %v", tc.path, tc.data, got)
		}
	}
}

// testRegistry has the built-in spouts and bolts and the shell types: the
// types of the className table, without the sinks (whose clients would
// make the fuzzer's coverage map huge and slow).
func testRegistry(tb testing.TB) *registry.Registry {
	r := registry.New()
	if err := errors.Join(spoutbuiltin.Register(r), boltbuiltin.Register(r), r.Register(shell.Type(), spoutshell.Type())); err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestConvert_ShellDir: shell components run in Options.ShellDir (Storm:
// the resources directory), unless changeChildCWD(false) says otherwise.
func TestConvert_ShellDir(t *testing.T) {
	m := convert(t, `
name: x
spouts:
  - id: s
    className: org.apache.storm.flux.wrappers.spouts.FluxShellSpout
    constructorArgs: [[node, s.js], [word]]
  - id: t
    className: org.apache.storm.flux.wrappers.spouts.FluxShellSpout
    constructorArgs: [[node, t.js]]
    configMethods: [{name: changeChildCWD, args: [false]}, {name: setDefaultStream, args: [[a, b]]}]
`, flux.Options{ShellDir: "/res"})
	b, _ := json.Marshal(m["spouts"])
	want := `[{"config":{"command":["node","s.js"],"dir":"/res"},"id":"s","outputs":{"default":["word"]},"type":"shell"},` +
		`{"config":{"command":["node","t.js"]},"id":"t","outputs":{"default":["a","b"]},"type":"shell"}]`
	if string(b) != want {
		t.Errorf("spouts\n got %s\nwant %s", b, want)
	}
}
