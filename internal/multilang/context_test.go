package multilang

import (
	"encoding/json"
	"testing"

	"github.com/gale-stream/gale/topology"
)

// TestContext_StormGroupings: groupings are written as Storm's
// groupingToJSONableMap writes them (the Thrift field's name), partial_key
// (a custom grouping in Storm) as CUSTOM_SERIALIZED; task->component has
// the system task and the acker tasks after every component's tasks.
func TestContext_StormGroupings(t *testing.T) {
	src := &topology.Component{ID: "src", Kind: topology.KindSpout, Streams: topology.Streams{"default": {"k"}}}
	me := &topology.Component{ID: "me", Kind: topology.KindBolt, Streams: topology.Streams{"default": {"k"}},
		Inputs: []topology.Input{{Component: "src", Stream: "default", Grouping: topology.PartialKey, Fields: []string{"k"}}}}
	var outs []*topology.Component
	for _, g := range []topology.Grouping{topology.FieldsGrouping, topology.Global, topology.LocalOrShuffle, topology.All, topology.None} {
		outs = append(outs, &topology.Component{ID: "to-" + string(g), Kind: topology.KindBolt,
			Inputs: []topology.Input{{Component: "me", Stream: "default", Grouping: g, Fields: []string{"k"}}}})
	}
	topo := &topology.Topology{Name: "t", Spouts: []*topology.Component{src}, Bolts: append([]*topology.Component{me}, outs...),
		Settings: topology.Settings{Ackers: 2}}
	ctx := Context(&topology.TaskContext{Topology: topo, Component: me, TaskID: 2,
		ComponentTasks: map[string][]int{"src": {1}, "me": {2, 3}}})
	b, _ := json.Marshal(ctx)
	var got struct {
		T2C     map[string]string                    `json:"task->component"`
		Sources map[string]map[string]map[string]any `json:"source->stream->grouping"`
		Targets map[string]map[string]map[string]any `json:"stream->target->grouping"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"-1": "__system", "1": "src", "2": "me", "3": "me", "4": "__acker", "5": "__acker"}
	if len(got.T2C) != len(want) {
		t.Errorf("task->component %v, want %v", got.T2C, want)
	}
	for k, v := range want {
		if got.T2C[k] != v {
			t.Errorf("task->component %v, want %v", got.T2C, want)
			break
		}
	}
	if g := got.Sources["src"]["default"]; g["type"] != "CUSTOM_SERIALIZED" || g["fields"] != nil {
		t.Errorf("partial_key written %v, want Storm's CUSTOM_SERIALIZED", g)
	}
	for to, typ := range map[string]string{"to-fields": "FIELDS", "to-global": "FIELDS", "to-local_or_shuffle": "LOCAL_OR_SHUFFLE",
		"to-all": "ALL", "to-none": "NONE"} {
		if g := got.Targets["default"][to]; g["type"] != typ {
			t.Errorf("%s written %v, want %s", to, g, typ)
		}
	}
}
