package topology_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

func goTopology() *topology.Topology {
	return &topology.Topology{
		Name:   "wordcount",
		Config: map[string]any{topology.ConfigAckers: 2, topology.ConfigMessageTimeout: 2.5},
		Spouts: []*topology.Component{{ID: "sentences", Type: "generator"}},
		Bolts: []*topology.Component{
			{ID: "split", Type: "split", Parallelism: 2, Inputs: []topology.Input{{Component: "sentences"}}},
			{ID: "count", Type: "count", Config: []byte(`{"limit": 3}`), Tick: topology.Duration(time.Second),
				Inputs: []topology.Input{{Component: "split", Grouping: topology.FieldsGrouping, Fields: []string{"word"}}}},
		},
	}
}

func TestTopology_Validate(t *testing.T) {
	topo := goTopology()
	if err := topo.Validate(newCatalog()); err != nil {
		t.Fatal(err)
	}
	if topo.Settings.Ackers != 2 || topo.Settings.MessageTimeout != 2500*time.Millisecond || topo.Settings.Workers != 1 {
		t.Errorf("Settings = %+v", topo.Settings)
	}
	s, split, count := topo.Spouts[0], topo.Bolts[0], topo.Bolts[1]
	if s.Kind != topology.KindSpout || split.Kind != topology.KindBolt || s.Parallelism != 1 || split.Parallelism != 2 {
		t.Errorf("kinds/parallelism: %+v %+v", s, split)
	}
	if in := split.Inputs[0]; in.Stream != tuple.DefaultStream || in.Grouping != topology.Shuffle {
		t.Errorf("input defaults not set: %+v", in)
	}
	if cfg := count.Settings.(*CountConfig); *cfg != (CountConfig{Field: "word", Limit: 3}) {
		t.Errorf("count settings = %+v", cfg)
	}
	if !reflect.DeepEqual(count.Streams, topology.Streams{"default": {"word", "count"}}) {
		t.Errorf("count streams = %v", count.Streams)
	}

	// Idempotent.
	before := *count
	beforeTopo := topo.Settings
	if err := topo.Validate(newCatalog()); err != nil {
		t.Fatalf("second Validate: %v", err)
	}
	if !reflect.DeepEqual(before, *count) || beforeTopo != topo.Settings {
		t.Errorf("second Validate changed the topology:\n%+v\n%+v", before, *count)
	}
}

func TestTopology_Validate_StreamsAreCopies(t *testing.T) {
	cat := newCatalog()
	topo := goTopology()
	if err := topo.Validate(cat); err != nil {
		t.Fatal(err)
	}
	topo.Bolts[0].Streams["default"][0] = "changed"
	other := goTopology()
	if err := other.Validate(cat); err != nil {
		t.Fatal(err)
	}
	if got := other.Bolts[0].Streams["default"][0]; got != "word" {
		t.Errorf("streams shared between topologies: %q", got)
	}
}

func TestTopology_Validate_Errors(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*topology.Topology)
		path     string
		contains string
		is       error
	}{
		{"nil component", func(t *topology.Topology) { t.Bolts = append(t.Bolts, nil) },
			"bolts[2]", "missing bolt (nil component)", topology.ErrInvalid},
		{"empty id", func(t *topology.Topology) { t.Spouts[0].ID = "" },
			"spouts[0].id", "must not be empty", topology.ErrMissingField},
		{"empty type", func(t *topology.Topology) { t.Bolts[0].Type = "" },
			"bolts[0].type", "must not be empty", topology.ErrMissingField},
		{"negative parallelism", func(t *topology.Topology) { t.Bolts[0].Parallelism = -2 },
			"bolts[0].parallelism", "want a positive integer, got -2", topology.ErrInvalid},
		{"tick on spout", func(t *topology.Topology) { t.Spouts[0].Tick = topology.Duration(time.Second) },
			"spouts[0].tick", "spouts take no tick", topology.ErrInvalid},
		{"empty input component", func(t *topology.Topology) { t.Bolts[0].Inputs[0].Component = "" },
			"bolts[0].inputs[0].component", "must not be empty", topology.ErrMissingField},
		{"empty grouping field", func(t *topology.Topology) { t.Bolts[1].Inputs[0].Fields = []string{""} },
			"bolts[1].inputs[0].fields[0]", "a field name must not be empty", topology.ErrInvalid},
		{"bad config", func(t *topology.Topology) { t.Bolts[1].Config = []byte(`{"limit": "3"}`) },
			"bolts[1].config.limit", `want an integer, got string "3"`, topology.ErrType},
		{"settings from Go values", func(t *topology.Topology) { t.Config[topology.ConfigDebug] = 1 },
			`config["topology.debug"]`, "want a boolean, got number 1", topology.ErrInvalid},
		{"huge setting", func(t *topology.Topology) { t.Config[topology.ConfigWorkers] = int64(1) << 40 },
			`config["topology.workers"]`, "out of range", topology.ErrInvalid},
		{"empty output stream", func(t *topology.Topology) {
			t.Spouts[0].Type = "lines"
			t.Spouts[0].Outputs = topology.Streams{"": {"sentence"}}
		}, `spouts[0].outputs[""]`, "a stream id must not be empty", topology.ErrInvalid},
		{"duplicate output field", func(t *topology.Topology) {
			t.Spouts[0].Type = "lines"
			t.Spouts[0].Outputs = topology.Streams{"default": {"sentence", "sentence"}}
		}, `spouts[0].outputs["default"][1]`, `duplicate field "sentence" (also at [0])`, topology.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := goTopology()
			tt.change(topo)
			err := topo.Validate(newCatalog())
			var errs *topology.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v", err)
			}
			if len(errs.List) != 1 {
				t.Errorf("got %d errors, want 1:\n%v", len(errs.List), err)
			}
			if fe := errs.List[0]; fe.Path != tt.path || !strings.Contains(fe.Msg, tt.contains) {
				t.Errorf("got %q, want path %q and a message containing %q", fe, tt.path, tt.contains)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
		})
	}
}

var errOutputs = errors.New("no pattern")

func TestTopology_Validate_OutputsError(t *testing.T) {
	cat := newCatalog()
	cat[topology.KindBolt]["split"].Outputs = func(any, []tuple.Fields) (topology.Streams, error) { return nil, errOutputs }
	err := goTopology().Validate(cat)
	if !errors.Is(err, errOutputs) || !strings.HasPrefix(err.Error(), `bolts[0]: bolt type "split" cannot declare its streams: no pattern`) {
		t.Errorf("err = %v", err)
	}
}
