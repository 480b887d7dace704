package topology_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/topology"
)

func wordCountBuilder() *topology.Builder {
	b := topology.NewBuilder("wordcount")
	b.SetConfig(topology.ConfigAckers, 2).SetConfig("wordcount.min.length", 3)
	b.Spout("sentences", "generator", 1).Config(GeneratorConfig{Sentences: []string{"a b"}, Rate: 10})
	b.Bolt("split", "split", 2).ShuffleGrouping("sentences")
	b.Bolt("count", "count", 3).FieldsGrouping("split", "word").Tick(time.Second)
	return b
}

func TestBuilder_Build(t *testing.T) {
	built, err := wordCountBuilder().Build(newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := topology.Decode([]byte(wordCountJSON), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	// The same model, except for what Go and JSON spell differently.
	if built.Settings != decoded.Settings {
		t.Errorf("Settings: built %+v, decoded %+v", built.Settings, decoded.Settings)
	}
	for i, c := range append(built.Spouts, built.Bolts...) {
		d := append(decoded.Spouts, decoded.Bolts...)[i]
		if c.ID != d.ID || c.Type != d.Type || c.Kind != d.Kind || c.Parallelism != d.Parallelism || c.Tick != d.Tick ||
			!reflect.DeepEqual(c.Inputs, d.Inputs) || !reflect.DeepEqual(c.Streams, d.Streams) ||
			!reflect.DeepEqual(c.Settings, d.Settings) {
			t.Errorf("component %d:\nbuilt   %+v\ndecoded %+v", i, c, d)
		}
	}
}

func TestBuilder_Groupings(t *testing.T) {
	b := topology.NewBuilder("g")
	b.Spout("l", "lines", 0).Outputs(topology.Streams{"default": {"k", "v"}, "other": {"k"}})
	b.Bolt("r", "router", 0).
		ShuffleGrouping("l").
		FieldsGroupingStream("l", "other", "k")
	b.Bolt("all", "print", 1).
		AllGrouping("l").
		GlobalGroupingStream("l", "other").
		DirectGroupingStream("r", "routed").
		LocalOrShuffleGrouping("r")
	b.Bolt("more", "print", 1).
		NoneGroupingStream("l", "other").
		PartialKeyGrouping("l", "k", "v").
		AllGroupingStream("r", "default")
	b.Bolt("rest", "print", 1).
		GlobalGrouping("l").
		LocalOrShuffleGroupingStream("l", "other").
		NoneGrouping("r").
		Input(topology.Input{Component: "r", Stream: "routed", Grouping: topology.Direct})
	b.Bolt("last", "print", 1).
		FieldsGrouping("l", "k").
		PartialKeyGroupingStream("l", "other", "k").
		DirectGrouping("r2")
	b.Bolt("r2", "router", 1).ShuffleGrouping("l").Config(nil)
	// The last bolt reads r2's default stream with a direct grouping: wrong.
	_, err := b.Build(newCatalog())
	var errs *topology.Errors
	if !errors.As(err, &errs) || len(errs.List) != 1 || errs.List[0].Path != "bolts[4].inputs[2].grouping" {
		t.Fatalf("want one error at bolts[4].inputs[2].grouping, got:\n%v", err)
	}
	if len(errs.List) == 1 && !strings.Contains(errs.List[0].Msg, `stream "default" of "r2" is not declared direct`) {
		t.Errorf("message = %q", errs.List[0].Msg)
	}

	// Check the inputs one by one on a valid variant.
	b = topology.NewBuilder("g2")
	b.Spout("l", "lines", 0).Outputs(topology.Streams{"default": {"k"}, "other": {"k"}})
	b.Bolt("p", "print", 0).
		ShuffleGrouping("l").FieldsGroupingStream("l", "other", "k")
	topo, err := b.Build(newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	want := []topology.Input{
		{Component: "l", Stream: "default", Grouping: topology.Shuffle},
		{Component: "l", Stream: "other", Grouping: topology.FieldsGrouping, Fields: []string{"k"}},
	}
	if got := topo.Bolts[0].Inputs; !reflect.DeepEqual(got, want) {
		t.Errorf("inputs = %+v", got)
	}
	if topo.Bolts[0].Parallelism != 1 || topo.Spouts[0].Parallelism != 1 {
		t.Error("parallelism 0 did not default to 1")
	}
}

func TestBuilder_Errors(t *testing.T) {
	b := topology.NewBuilder("")
	b.SetConfig(topology.ConfigWorkers, 0)
	b.SetConfig(topology.ConfigMessageTimeout, 30*time.Second)
	b.Spout("s", "generator", -1).Config(map[string]any{"rate": math.Inf(1)})
	b.Spout("s2", "generator", 1).Config(json.RawMessage(`{"rate": 1.5}`))
	b.Bolt("s", "split", 1)
	b.Bolt("c", "count", 1).FieldsGrouping("s").Tick(-time.Second)
	b.Bolt("d", "count", 1).Input(topology.Input{Component: "c", Grouping: "hash"}).Config(json.RawMessage(`{bad`))
	_, err := b.Build(newCatalog())
	want := []string{
		"name: must not be empty",
		`config["topology.message.timeout.secs"]: want a positive number of seconds, got time.Duration 30s`,
		`config["topology.workers"]: want a positive integer, got number 0`,
		"spouts[0].config: cannot encode config as JSON: json: unsupported value: +Inf",
		"spouts[0].parallelism: want a positive integer, got -1",
		"spouts[1].config.rate: want an integer, got number 1.5",
		`bolts[0].id: duplicate id "s" (also spouts[0].id)`,
		"bolts[0].inputs: a bolt needs at least one input",
		"bolts[1].tick: want a non-negative duration, got -1s",
		`bolts[1].inputs[0].fields: grouping "fields" needs at least one field`,
		"bolts[2].config: malformed JSON at line 1, column 2",
		`bolts[2].inputs[0].grouping: unknown grouping "hash"`,
	}
	if err == nil {
		t.Fatal("no error")
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
}

func TestBuilder_BuildTwice(t *testing.T) {
	b := wordCountBuilder()
	first, err := b.Build(newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	b.Bolt("print", "print", 1).ShuffleGrouping("count")
	second, err := b.Build(newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Bolts) != 2 || len(second.Bolts) != 3 {
		t.Errorf("bolts: first %d, second %d", len(first.Bolts), len(second.Bolts))
	}
	if first.Bolts[1] == second.Bolts[1] {
		t.Error("builds share components")
	}
}

func TestTopology_WithParallelism(t *testing.T) {
	topo, err := topology.Decode([]byte(wordCountJSON), newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	before := topo.Bolts[0].Parallelism
	re, err := topo.WithParallelism(map[string]int{topo.Bolts[0].ID: before + 3})
	if err != nil {
		t.Fatal(err)
	}
	if re.Bolts[0].Parallelism != before+3 || topo.Bolts[0].Parallelism != before {
		t.Errorf("parallelism %d (original %d), want %d and the original unchanged", re.Bolts[0].Parallelism, topo.Bolts[0].Parallelism, before+3)
	}
	if reflect.ValueOf(re.Catalog()).Pointer() != reflect.ValueOf(topo.Catalog()).Pointer() || re.Bolts[0].Settings != topo.Bolts[0].Settings || re.Spouts[0].Parallelism != topo.Spouts[0].Parallelism {
		t.Error("the copy lost its catalog, settings or other components")
	}
	if _, err := topo.WithParallelism(map[string]int{topo.Bolts[0].ID: topology.MaxTasks}); !errors.Is(err, topology.ErrInvalid) ||
		!strings.Contains(err.Error(), "at most 10000") {
		t.Errorf("a rebalance past MaxTasks: %v, want ErrInvalid naming the limit", err)
	}
	for _, bad := range []map[string]int{{"nosuch": 2}, {topo.Bolts[0].ID: 0}} {
		if _, err := topo.WithParallelism(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := topo.WithParallelism(map[string]int{"nosuch": 2}); !errors.Is(err, topology.ErrUnknownComponent) {
		t.Errorf("unknown component: %v", err)
	}
}
