package topology_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

const wordCountJSON = `{
  "name": "wordcount",
  "config": {"topology.acker.executors": 2, "wordcount.min.length": 3},
  "spouts": [
    {"id": "sentences", "type": "generator", "config": {"sentences": ["a b"]}}
  ],
  "bolts": [
    {"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "sentences"}]},
    {"id": "count", "type": "count", "parallelism": 3, "tick": "1s",
     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}
  ]
}`

// doc builds a topology document from its spouts and bolts.
func doc(spouts, bolts string) string {
	return `{"name": "t", "spouts": [` + spouts + `], "bolts": [` + bolts + `]}`
}

const (
	spoutS   = `{"id": "s", "type": "generator"}`
	boltSplt = `{"id": "split", "type": "split", "inputs": [{"component": "s"}]}`
)

func TestDecode_Valid(t *testing.T) {
	topo, err := topology.Decode([]byte(wordCountJSON), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if topo.Name != "wordcount" {
		t.Errorf("Name = %q", topo.Name)
	}
	want := topology.DefaultSettings()
	want.Ackers = 2
	if topo.Settings != want {
		t.Errorf("Settings = %+v, want %+v", topo.Settings, want)
	}
	if got := topo.Config["wordcount.min.length"]; got != 3.0 {
		t.Errorf(`Config["wordcount.min.length"] = %#v, want 3.0`, got)
	}
	s := topo.Spouts[0]
	if s.Kind != topology.KindSpout || s.Parallelism != 1 {
		t.Errorf("spout = %+v", s)
	}
	if cfg, ok := s.Settings.(*GeneratorConfig); !ok || cfg.Rate != 10 || !reflect.DeepEqual(cfg.Sentences, []string{"a b"}) {
		t.Errorf("spout settings = %#v, want defaults kept and sentences set", s.Settings)
	}
	if !reflect.DeepEqual(s.Streams, topology.Streams{"default": {"sentence"}}) {
		t.Errorf("spout streams = %v", s.Streams)
	}
	split, count := topo.Bolts[0], topo.Bolts[1]
	if split.Kind != topology.KindBolt || split.Parallelism != 2 || split.Settings != nil {
		t.Errorf("split = %+v", split)
	}
	wantIn := topology.Input{Component: "sentences", Stream: tuple.DefaultStream, Grouping: topology.Shuffle}
	if !reflect.DeepEqual(split.Inputs, []topology.Input{wantIn}) {
		t.Errorf("split inputs = %+v, want defaults filled in", split.Inputs)
	}
	if count.Tick != topology.Duration(time.Second) || count.Parallelism != 3 {
		t.Errorf("count = %+v", count)
	}
	if cfg, ok := count.Settings.(*CountConfig); !ok || cfg.Field != "word" {
		t.Errorf("count settings = %#v, want the defaults of NewConfig", count.Settings)
	}
	if !reflect.DeepEqual(count.Streams, topology.Streams{"default": {"word", "count"}}) {
		t.Errorf("count streams = %v", count.Streams)
	}
}

func TestDecode_PassThroughAndOverrides(t *testing.T) {
	data := doc(`{"id": "l", "type": "lines", "outputs": {"default": ["ts", "msg"], "errors": ["msg"]}}`,
		`{"id": "f", "type": "filter", "config": {"contains": "x"}, "inputs": [{"component": "l", "stream": "errors"}]},
		 {"id": "r", "type": "router", "inputs": [{"component": "f", "grouping": "partial_key", "fields": ["msg"]}]},
		 {"id": "p", "type": "print", "inputs": [{"component": "r", "stream": "routed", "grouping": "direct"}, {"component": "r", "grouping": "all"}]}`)
	topo, err := topology.Decode([]byte(data), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if got := topo.Bolts[0].Streams; !reflect.DeepEqual(got, topology.Streams{"default": {"msg"}}) {
		t.Errorf("filter streams = %v, want the fields of its input", got)
	}
	if got := topo.Bolts[1].DirectStreams; !reflect.DeepEqual(got, []string{"routed"}) {
		t.Errorf("router direct streams = %v", got)
	}
	if got := topo.Bolts[2].Streams; len(got) != 0 || got == nil {
		t.Errorf("print streams = %#v, want empty", got)
	}
}

func TestDecode_Errors(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		path     string
		contains []string
		is       error
	}{
		{"malformed JSON", "{\"name\": \"t\",\n  \"spouts\": [}", "",
			[]string{"line 2, column 14", "invalid character '}'"}, topology.ErrSyntax},
		{"truncated JSON", `{"name": "t"`, "", []string{"line 1, column 13", "unexpected end"}, topology.ErrSyntax},
		{"empty input", ``, "", []string{"empty"}, topology.ErrSyntax},
		{"not an object", `[1]`, "", []string{"want a JSON object", "got array"}, topology.ErrType},
		{"wrong type", doc(`{"id": "s", "type": "generator", "parallelism": "2"}`, ""),
			"spouts[0].parallelism", []string{`want a positive integer, got string "2"`}, topology.ErrType},
		{"name not a string", `{"name": 3, "spouts": [` + spoutS + `]}`,
			"name", []string{"want a string, got number 3"}, topology.ErrType},
		{"spouts not an array", `{"name": "t", "spouts": {}}`,
			"spouts", []string{"want an array of spouts, got object"}, topology.ErrType},
		{"component not an object", doc(spoutS+`, "x"`, ""),
			"spouts[1]", []string{`want an object describing a spout, got string "x"`}, topology.ErrType},
		{"input not an object", doc(spoutS, `{"id": "b", "type": "split", "inputs": ["s"]}`),
			"bolts[0].inputs[0]", []string{`want an object describing an input, got string "s"`}, topology.ErrType},
		{"unknown field", doc(spoutS, boltSplt+`, {"id": "b", "type": "split", "paralelism": 2, "inputs": [{"component": "s"}]}`),
			"bolts[1].paralelism", []string{"unknown field; known fields: id, type, parallelism, config, inputs, outputs, tick, autoscale", `did you mean "parallelism"?`}, topology.ErrUnknownField},
		{"unknown top-level field", `{"name": "t", "spout": [], "spouts": [` + spoutS + `]}`,
			"spout", []string{"unknown field; known fields: name, config, spouts, bolts", `did you mean "spouts"?`}, topology.ErrUnknownField},
		{"unknown input field", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"component": "s", "fieldz": []}]}`),
			"bolts[0].inputs[0].fieldz", []string{"known fields: component, stream, grouping, fields", `did you mean "fields"?`}, topology.ErrUnknownField},
		{"duplicate key", doc(`{"id": "s", "id": "t", "type": "generator"}`, ""),
			"spouts[0].id", []string{"duplicate key"}, topology.ErrDuplicateKey},
		{"missing name", `{"spouts": [` + spoutS + `]}`, "name", []string{"missing required field"}, topology.ErrMissingField},
		{"missing id", doc(`{"type": "generator"}`, ""), "spouts[0].id", []string{"missing required field"}, topology.ErrMissingField},
		{"missing type", doc(spoutS, `{"id": "b", "inputs": [{"component": "s"}]}`), "bolts[0].type", []string{"missing required field"}, topology.ErrMissingField},
		{"missing input component", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"stream": "default"}]}`),
			"bolts[0].inputs[0].component", []string{"missing required field"}, topology.ErrMissingField},
		{"empty name", `{"name": "", "spouts": [` + spoutS + `]}`, "name", []string{"must not be empty"}, topology.ErrMissingField},
		{"bad name", `{"name": "word count", "spouts": [` + spoutS + `]}`, "name", []string{`name "word count" has the character ' '`}, topology.ErrInvalid},
		{"bad id", doc(`{"id": "s/1", "type": "generator"}`, ""), "spouts[0].id", []string{`id "s/1" has the character '/'`}, topology.ErrInvalid},
		{"reserved id", doc(spoutS, `{"id": "__b", "type": "split", "inputs": [{"component": "s"}]}`),
			"bolts[0].id", []string{`"__b" starts with "__", which is reserved`}, topology.ErrInvalid},
		{"dot-dot name", `{"name": "..", "spouts": [` + spoutS + `]}`, "name", []string{`name ".." starts with '.'`, "leave their directory"}, topology.ErrInvalid},
		{"dot id", doc(`{"id": ".", "type": "generator"}`, ""), "spouts[0].id", []string{`id "." starts with '.'`}, topology.ErrInvalid},
		{"hidden stream", doc(`{"id": "l", "type": "lines", "outputs": {".x": ["a"]}}`, ""), `spouts[0].outputs[".x"]`, []string{`stream id ".x" starts with '.'`}, topology.ErrInvalid},
		{"long name", `{"name": "` + strings.Repeat("n", topology.MaxNameLen+1) + `", "spouts": [` + spoutS + `]}`,
			"name", []string{"is 201 bytes long; at most 200"}, topology.ErrInvalid},
		{"huge parallelism", doc(`{"id": "s", "type": "generator", "parallelism": 2147483647}`, ""),
			"spouts[0].parallelism", []string{"2147483647 tasks: a topology has at most 10000"}, topology.ErrInvalid},
		{"tasks add up", doc(`{"id": "s", "type": "generator", "parallelism": 4000}`,
			`{"id": "b", "type": "split", "parallelism": 6000, "inputs": [{"component": "s"}]}`),
			"bolts[0].parallelism", []string{"tasks add up to 10001 (2 components, 1 ackers): at most 10000"}, topology.ErrInvalid},
		{"too many ackers", `{"name": "t", "config": {"topology.acker.executors": 20000}, "spouts": [` + spoutS + `]}`,
			"config.topology.acker.executors", []string{"20000 acker tasks"}, topology.ErrInvalid},
		{"nested too deep", doc(`{"id": "s", "type": "generator", "config": {"x": `+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}}`, ""),
			"", []string{"nested more than 64 levels deep", "line 1, column 1"}, topology.ErrSyntax},
		{"empty id", doc(`{"id": "", "type": "generator"}`, ""), "spouts[0].id", []string{"must not be empty"}, topology.ErrMissingField},
		{"duplicate id", doc(spoutS, `{"id": "s", "type": "split", "inputs": [{"component": "s"}]}`),
			"bolts[0].id", []string{`duplicate id "s" (also spouts[0].id)`}, topology.ErrDuplicateID},
		{"no spouts", `{"name": "t", "spouts": []}`, "spouts", []string{"at least one spout"}, topology.ErrInvalid},
		{"missing spouts", `{"name": "t"}`, "spouts", []string{"at least one spout"}, topology.ErrInvalid},
		{"spout with inputs", doc(`{"id": "s", "type": "generator", "inputs": [{"component": "s"}]}`, ""),
			"spouts[0].inputs", []string{"spouts take no inputs"}, topology.ErrInvalid},
		{"bolt without inputs", doc(spoutS, `{"id": "b", "type": "split"}`), "bolts[0].inputs", []string{"a bolt needs at least one input"}, topology.ErrInvalid},
		{"bolt with empty inputs", doc(spoutS, `{"id": "b", "type": "split", "inputs": []}`), "bolts[0].inputs", []string{"at least one input"}, topology.ErrInvalid},
		{"parallelism zero", doc(`{"id": "s", "type": "generator", "parallelism": 0}`, ""),
			"spouts[0].parallelism", []string{"want a positive integer, got number 0"}, topology.ErrType},
		{"parallelism negative", doc(`{"id": "s", "type": "generator", "parallelism": -3}`, ""),
			"spouts[0].parallelism", []string{"want a positive integer, got number -3"}, topology.ErrType},
		{"parallelism fraction", doc(`{"id": "s", "type": "generator", "parallelism": 1.5}`, ""),
			"spouts[0].parallelism", []string{"got number 1.5"}, topology.ErrType},
		{"unknown spout type", doc(`{"id": "s", "type": "generater"}`, ""),
			"spouts[0].type", []string{`unknown spout type "generater"; known spout types: generator, lines`, `did you mean "generator"?`}, topology.ErrUnknownType},
		{"unknown bolt type", doc(spoutS, boltSplt+`, {"id": "b", "type": "splitt", "inputs": [{"component": "s"}]}`),
			"bolts[1].type", []string{`unknown bolt type "splitt"; known bolt types: count, filter, print, router, split`, `did you mean "split"?`}, topology.ErrUnknownType},
		{"spout type used as bolt", doc(spoutS, `{"id": "b", "type": "generator", "inputs": [{"component": "s"}]}`),
			"bolts[0].type", []string{`unknown bolt type "generator"`}, topology.ErrUnknownType},
		{"unknown component", doc(spoutS, boltSplt+`, {"id": "c", "type": "count", "inputs": [{"component": "splt"}]}`),
			"bolts[1].inputs[0].component", []string{`unknown component "splt"; known components: c, s, split`, `did you mean "split"?`}, topology.ErrUnknownComponent},
		{"unknown stream", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"component": "s", "stream": "words"}]}`),
			"bolts[0].inputs[0].stream", []string{`component "s" has no stream "words"; its streams: default`}, topology.ErrUnknownStream},
		{"unknown grouping", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"component": "s", "grouping": "shufle"}]}`),
			"bolts[0].inputs[0].grouping", []string{`unknown grouping "shufle"; known groupings: shuffle, fields, all, global, direct, local_or_shuffle, none, partial_key`, `did you mean "shuffle"?`}, topology.ErrGrouping},
		{"fields grouping without fields", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"component": "s", "grouping": "fields"}]}`),
			"bolts[0].inputs[0].fields", []string{`grouping "fields" needs at least one field`}, topology.ErrGrouping},
		{"partial key without fields", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"component": "s", "grouping": "partial_key", "fields": []}]}`),
			"bolts[0].inputs[0].fields", []string{`grouping "partial_key" needs at least one field`}, topology.ErrGrouping},
		{"fields with shuffle", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"component": "s", "fields": ["sentence"]}]}`),
			"bolts[0].inputs[0].fields", []string{`grouping "shuffle" takes no fields`}, topology.ErrGrouping},
		{"grouping field not in stream", doc(spoutS, boltSplt+`, {"id": "c", "type": "count", "inputs": [{"component": "split", "grouping": "fields", "fields": ["word", "wrd"]}]}`),
			"bolts[1].inputs[0].fields[1]", []string{`field "wrd" is not in stream "default" of "split" (its fields: word)`, `did you mean "word"?`}, topology.ErrGrouping},
		{"duplicate grouping field", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"component": "s", "grouping": "fields", "fields": ["sentence", "sentence"]}]}`),
			"bolts[0].inputs[0].fields[1]", []string{`duplicate field "sentence"`}, topology.ErrInvalid},
		{"direct grouping on plain stream", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"component": "s", "grouping": "direct"}]}`),
			"bolts[0].inputs[0].grouping", []string{`grouping "direct" needs a direct stream; stream "default" of "s" is not declared direct`}, topology.ErrGrouping},
		{"shuffle on direct stream", doc(spoutS, boltSplt+`, {"id": "r", "type": "router", "inputs": [{"component": "split"}]}, {"id": "p", "type": "print", "inputs": [{"component": "r", "stream": "routed"}]}`),
			"bolts[2].inputs[0].grouping", []string{`stream "routed" of "r" is direct: only grouping "direct" can read it`}, topology.ErrGrouping},
		{"duplicate input", doc(spoutS, `{"id": "b", "type": "split", "inputs": [{"component": "s"}, {"component": "s", "stream": "default", "grouping": "all"}]}`),
			"bolts[0].inputs[1]", []string{`duplicate input: inputs[0] already reads stream "default" of "s"`}, topology.ErrInvalid},
		{"outputs not allowed", doc(spoutS, `{"id": "b", "type": "split", "outputs": {"default": ["w"]}, "inputs": [{"component": "s"}]}`),
			"bolts[0].outputs", []string{`bolt type "split" declares its own streams and does not allow outputs`}, topology.ErrInvalid},
		{"bad output stream id", doc(`{"id": "l", "type": "lines", "outputs": {"__x": ["a"]}}`, ""),
			`spouts[0].outputs["__x"]`, []string{`stream id "__x" starts with "__"`}, topology.ErrInvalid},
		{"bad output fields", doc(`{"id": "l", "type": "lines", "outputs": {"default": ["a", 3]}}`, ""),
			`spouts[0].outputs["default"][1]`, []string{"want a string, got number 3"}, topology.ErrType},
		{"tick on spout", doc(`{"id": "s", "type": "generator", "tick": 1}`, ""),
			"spouts[0].tick", []string{"spouts take no tick"}, topology.ErrInvalid},
		{"bad tick", doc(spoutS, `{"id": "b", "type": "split", "tick": "1 sec", "inputs": [{"component": "s"}]}`),
			"bolts[0].tick", []string{`want a duration such as "1.5s"`, `got string "1 sec"`}, topology.ErrType},
		{"negative tick", doc(spoutS, `{"id": "b", "type": "split", "tick": "-1s", "inputs": [{"component": "s"}]}`),
			"bolts[0].tick", []string{"want a non-negative duration, got -1s"}, topology.ErrInvalid},
		{"cycle", doc(spoutS, `{"id": "a", "type": "filter", "inputs": [{"component": "s"}, {"component": "b"}]},
			{"id": "b", "type": "filter", "inputs": [{"component": "a"}]}`),
			"bolts[0].inputs[1]", []string{"cycle: a -> b -> a"}, topology.ErrCycle},
		{"long cycle", doc(spoutS, `{"id": "a", "type": "split", "inputs": [{"component": "c"}]},
			{"id": "b", "type": "split", "inputs": [{"component": "a"}, {"component": "s"}]},
			{"id": "c", "type": "split", "inputs": [{"component": "b"}]}`),
			"bolts[0].inputs[0]", []string{"cycle: a -> b -> c -> a"}, topology.ErrCycle},
		{"self cycle", doc(spoutS, `{"id": "a", "type": "split", "inputs": [{"component": "s"}, {"component": "a"}]}`),
			"bolts[0].inputs[1]", []string{"cycle: a -> a"}, topology.ErrCycle},
		{"config not an object", `{"name": "t", "config": [], "spouts": [` + spoutS + `]}`,
			"config", []string{"want an object, got array"}, topology.ErrType},
		{"workers zero", `{"name": "t", "config": {"topology.workers": 0}, "spouts": [` + spoutS + `]}`,
			`config["topology.workers"]`, []string{"want a positive integer, got number 0"}, topology.ErrInvalid},
		{"ackers negative", `{"name": "t", "config": {"topology.acker.executors": -1}, "spouts": [` + spoutS + `]}`,
			`config["topology.acker.executors"]`, []string{"want a non-negative integer, got number -1"}, topology.ErrInvalid},
		{"timeout as string", `{"name": "t", "config": {"topology.message.timeout.secs": "30"}, "spouts": [` + spoutS + `]}`,
			`config["topology.message.timeout.secs"]`, []string{`want a positive number of seconds, got string "30"`}, topology.ErrInvalid},
		{"timeout zero", `{"name": "t", "config": {"topology.message.timeout.secs": 0}, "spouts": [` + spoutS + `]}`,
			`config["topology.message.timeout.secs"]`, []string{"want a positive number of seconds, got number 0"}, topology.ErrInvalid},
		{"max pending fraction", `{"name": "t", "config": {"topology.max.spout.pending": 1.5}, "spouts": [` + spoutS + `]}`,
			`config["topology.max.spout.pending"]`, []string{"want a non-negative integer, got number 1.5"}, topology.ErrInvalid},
		{"debug not bool", `{"name": "t", "config": {"topology.debug": "yes"}, "spouts": [` + spoutS + `]}`,
			`config["topology.debug"]`, []string{`want a boolean, got string "yes"`}, topology.ErrInvalid},
		{"queue size zero", `{"name": "t", "config": {"topology.executor.receive.buffer.size": 0}, "spouts": [` + spoutS + `]}`,
			`config["topology.executor.receive.buffer.size"]`, []string{"want a positive integer"}, topology.ErrInvalid},
		{"batch size zero", `{"name": "t", "config": {"topology.transfer.batch.size": 0}, "spouts": [` + spoutS + `]}`,
			`config["topology.transfer.batch.size"]`, []string{"want a positive integer"}, topology.ErrInvalid},
		{"flush interval too long", `{"name": "t", "config": {"topology.batch.flush.interval.millis": 3600001}, "spouts": [` + spoutS + `]}`,
			`config["topology.batch.flush.interval.millis"]`, []string{"out of range (at most 3600000)"}, topology.ErrInvalid},
		{"flush interval negative", `{"name": "t", "config": {"topology.batch.flush.interval.millis": -1}, "spouts": [` + spoutS + `]}`,
			`config["topology.batch.flush.interval.millis"]`, []string{"want a non-negative integer"}, topology.ErrInvalid},
		{"batch local not a boolean", `{"name": "t", "config": {"topology.batch.local": "no"}, "spouts": [` + spoutS + `]}`,
			`config["topology.batch.local"]`, []string{`want a boolean, got string "no"`}, topology.ErrInvalid},
		{"unknown setting", `{"name": "t", "config": {"topology.wokers": 2}, "spouts": [` + spoutS + `]}`,
			`config["topology.wokers"]`, []string{"unknown topology setting; known settings: topology.acker.executors, topology.batch.flush.interval.millis, topology.batch.local, topology.debug", `did you mean "topology.workers"?`}, topology.ErrInvalid},
		{"component config wrong type", doc(`{"id": "s", "type": "generator", "config": {"sentences": ["a", 3]}}`, ""),
			"spouts[0].config.sentences[1]", []string{"want a string, got number 3"}, topology.ErrType},
		{"component config unknown field", doc(spoutS, boltSplt+`, {"id": "c", "type": "count", "config": {"feild": "w"}, "inputs": [{"component": "split"}]}`),
			"bolts[1].config.feild", []string{"unknown field; known fields: field, limit", `did you mean "field"?`}, topology.ErrUnknownField},
		{"component config Validate", doc(spoutS, boltSplt+`, {"id": "c", "type": "count", "config": {"limit": -1}, "inputs": [{"component": "split"}]}`),
			"bolts[1].config", []string{"limit must not be negative"}, errNegativeLimit},
		{"config for a type without config", doc(spoutS, `{"id": "b", "type": "split", "config": {"x": 1}, "inputs": [{"component": "s"}]}`),
			"bolts[0].config", []string{`bolt type "split" takes no config`}, topology.ErrInvalid},
		{"null component", doc(spoutS+", null", ""), "spouts[1]", []string{"got null"}, topology.ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo, err := topology.Decode([]byte(tt.data), newCatalog())
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", topo)
			}
			if topo != nil {
				t.Errorf("Decode returned a topology with an error")
			}
			var errs *topology.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not *Errors: %v", err, err)
			}
			if len(errs.List) != 1 {
				t.Errorf("got %d errors, want 1:\n%v", len(errs.List), err)
			}
			fe := errs.List[0]
			if fe.Path != tt.path {
				t.Errorf("path = %q, want %q (error: %v)", fe.Path, tt.path, fe)
			}
			for _, c := range tt.contains {
				if !strings.Contains(fe.Msg, c) {
					t.Errorf("message %q does not contain %q", fe.Msg, c)
				}
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false; err: %v", tt.is, err)
			}
		})
	}
}

func TestDecode_AllErrorsAtOnce(t *testing.T) {
	data := `{
  "name": "bad name",
  "config": {"topology.workers": 0},
  "spouts": [
    {"id": "s", "type": "generator", "parallelism": "2"},
    {"id": "s", "type": "nope"}
  ],
  "bolts": [
    {"id": "split", "type": "split", "paralelism": 2, "inputs": [{"component": "s", "grouping": "fields"}]},
    {"id": "count", "type": "count", "inputs": [{"component": "split", "grouping": "fields", "fields": ["wrd"]}], "config": {"limit": "x"}},
    {"id": "loop", "type": "split", "inputs": [{"component": "loop"}]}
  ]
}`
	_, err := topology.Decode([]byte(data), newCatalog())
	var errs *topology.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`name: name "bad name" has the character ' '`,
		`config["topology.workers"]: want a positive integer, got number 0`,
		`spouts[0].parallelism: want a positive integer, got string "2"`,
		`spouts[1].id: duplicate id "s" (also spouts[0].id)`,
		`spouts[1].type: unknown spout type "nope"`,
		`bolts[0].paralelism: unknown field`,
		`bolts[0].inputs[0].fields: grouping "fields" needs at least one field`,
		`bolts[1].config.limit: want an integer, got string "x"`,
		`bolts[1].inputs[0].fields[0]: field "wrd" is not in stream "default" of "split"`,
		`bolts[2].inputs[0]: cycle: loop -> loop`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if i < len(lines) && !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	if len(errs.List) != len(lines) {
		t.Errorf("List has %d entries, Error() %d lines", len(errs.List), len(lines))
	}
}

func TestDecode_SkipsDependentChecks(t *testing.T) {
	// The split bolt's type is unknown, so its streams are unknown: the
	// bolts reading it are not checked against them.
	data := doc(spoutS, `{"id": "split", "type": "splitt", "inputs": [{"component": "s"}]},
		{"id": "c", "type": "count", "inputs": [{"component": "split", "stream": "nope", "grouping": "fields", "fields": ["x"]}]},
		{"id": "f", "type": "filter", "inputs": [{"component": "c"}]},
		{"id": "g", "type": "count", "inputs": [{"component": "f", "grouping": "fields", "fields": ["zzz"]}]}`)
	_, err := topology.Decode([]byte(data), newCatalog())
	var errs *topology.Errors
	if !errors.As(err, &errs) || len(errs.List) != 1 || errs.List[0].Path != "bolts[0].type" {
		t.Errorf("want only bolts[0].type, got:\n%v", err)
	}
	// A component with no usable id makes "unknown component" unreliable.
	data = doc(`{"type": "generator"}`, `{"id": "b", "type": "split", "inputs": [{"component": "x"}]}`)
	_, err = topology.Decode([]byte(data), newCatalog())
	if !errors.As(err, &errs) || len(errs.List) != 1 || errs.List[0].Path != "spouts[0].id" {
		t.Errorf("want only spouts[0].id, got:\n%v", err)
	}
}

func TestDecode_Settings(t *testing.T) {
	data := `{"name": "t", "config": {
		"topology.workers": 3, "topology.acker.executors": 0, "topology.message.timeout.secs": 1.5,
		"topology.max.spout.pending": 0, "topology.debug": true,
		"topology.executor.receive.buffer.size": 1024, "topology.transfer.batch.size": 8,
		"topology.batch.flush.interval.millis": 5, "topology.batch.local": false,
		"topology.rescale.in.place": false, "my.key": {"a": [1, "b"]}}, "spouts": [` + spoutS + `]}`
	topo, err := topology.Decode([]byte(data), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	want := topology.Settings{Workers: 3, Ackers: 0, MessageTimeout: 1500 * time.Millisecond,
		MaxSpoutPending: 0, Debug: true, QueueSize: 1024, BatchSize: 8, FlushInterval: 5 * time.Millisecond}
	if topo.Settings != want {
		t.Errorf("Settings = %+v, want %+v", topo.Settings, want)
	}
	if got := topo.Config["my.key"]; !reflect.DeepEqual(got, map[string]any{"a": []any{1.0, "b"}}) {
		t.Errorf("user key = %#v", got)
	}
}

func TestDecode_NilCatalog(t *testing.T) {
	_, err := topology.Decode([]byte(doc(spoutS, "")), nil)
	if !errors.Is(err, topology.ErrUnknownType) {
		t.Errorf("err = %v, want unknown type", err)
	}
}

func TestErrors_Error(t *testing.T) {
	errs := &topology.Errors{List: []*topology.FieldError{
		{Path: "a.b", Msg: "bad", Err: topology.ErrInvalid},
		{Msg: "whole document"},
	}}
	if got, want := errs.Error(), "a.b: bad\nwhole document"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(errs, topology.ErrInvalid) {
		t.Error("errors.Is through Unwrap failed")
	}
	var fe *topology.FieldError
	if !errors.As(fmt.Errorf("wrapped: %w", errs), &fe) || fe.Path != "a.b" {
		t.Errorf("errors.As = %v", fe)
	}
}
