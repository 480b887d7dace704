package multilang

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// AckerComponent is the component name of the acker tasks in the
// handshake's "task->component", as Storm names them.
const AckerComponent = "__acker"

// Conf builds the "conf" of the handshake: the topology's config as
// written, the effective values of the Storm keys Gale knows, and extra
// (a component's own additions) on top.
func Conf(tc *topology.TaskContext, subprocessTimeoutSecs int, extra map[string]any) map[string]any {
	conf := map[string]any{}
	if tc != nil && tc.Topology != nil {
		t := tc.Topology
		maps.Copy(conf, t.Config)
		conf["topology.name"] = t.Name
		s := t.Settings
		if s.MessageTimeout > 0 {
			conf["topology.message.timeout.secs"] = int(s.MessageTimeout.Seconds())
		}
		if s.MaxSpoutPending > 0 {
			conf["topology.max.spout.pending"] = s.MaxSpoutPending
		}
		if s.Workers > 0 {
			conf["topology.workers"] = s.Workers
		}
		conf["topology.debug"] = s.Debug
	}
	conf["topology.subprocess.timeout.secs"] = subprocessTimeoutSecs
	maps.Copy(conf, extra)
	return conf
}

// Context builds the "context" of the handshake with the keys of Storm's
// TopologyContext.toJSONString: "task->component", "taskid",
// "componentid", "streams", "stream->outputfields",
// "stream->target->grouping", "source->stream->grouping" and
// "source->stream->fields". "task->component" holds, as Storm's does, the
// system task -1 ("__system") and the acker tasks ("__acker", numbered
// after every component's tasks as Gale numbers them). Groupings are
// written as Storm's groupingToJSONableMap writes them: the name of the
// Thrift field, {"type": "SHUFFLE"}, {"type": "FIELDS", "fields": [...]};
// Gale's global grouping as Storm's (FIELDS on no fields), and the
// groupings Storm builds as custom ones (partial_key, Storm's
// PartialKeyGrouping, and Gale's batch) as CUSTOM_SERIALIZED.
func Context(tc *topology.TaskContext) map[string]any {
	ctx := map[string]any{
		"task->component":          map[string]string{},
		"taskid":                   0,
		"componentid":              "",
		"streams":                  []string{},
		"stream->outputfields":     map[string][]string{},
		"stream->target->grouping": map[string]map[string]any{},
		"source->stream->grouping": map[string]map[string]any{},
		"source->stream->fields":   map[string]map[string][]string{},
	}
	if tc == nil {
		return ctx
	}
	ctx["taskid"] = tc.TaskID
	t2c := map[string]string{strconv.Itoa(SystemTask): tuple.SystemComponent}
	last := 0
	for comp, tasks := range tc.ComponentTasks {
		for _, task := range tasks {
			t2c[strconv.Itoa(task)] = comp
			last = max(last, task)
		}
	}
	if tc.Topology != nil {
		for i := range tc.Topology.Settings.Ackers {
			t2c[strconv.Itoa(last+1+i)] = AckerComponent
		}
	}
	ctx["task->component"] = t2c
	c := tc.Component
	if c == nil {
		return ctx
	}
	ctx["componentid"] = c.ID
	streams := slices.Sorted(maps.Keys(c.Streams))
	ctx["streams"] = append([]string{}, streams...)
	outFields := map[string][]string{}
	for s, f := range c.Streams {
		outFields[s] = append([]string{}, f...)
	}
	ctx["stream->outputfields"] = outFields

	if tc.Topology == nil {
		return ctx
	}
	byID := map[string]*topology.Component{}
	for _, x := range tc.Topology.Spouts {
		byID[x.ID] = x
	}
	for _, x := range tc.Topology.Bolts {
		byID[x.ID] = x
	}
	targets := map[string]map[string]any{}
	for _, b := range tc.Topology.Bolts {
		for _, in := range b.Inputs {
			if in.Component != c.ID {
				continue
			}
			s := streamOf(in)
			if targets[s] == nil {
				targets[s] = map[string]any{}
			}
			targets[s][b.ID] = groupingJSON(in)
		}
	}
	ctx["stream->target->grouping"] = targets
	sources := map[string]map[string]any{}
	sourceFields := map[string]map[string][]string{}
	for _, in := range c.Inputs {
		s := streamOf(in)
		if sources[in.Component] == nil {
			sources[in.Component] = map[string]any{}
			sourceFields[in.Component] = map[string][]string{}
		}
		sources[in.Component][s] = groupingJSON(in)
		fields := []string{}
		if src := byID[in.Component]; src != nil {
			fields = append(fields, src.Streams[s]...)
		}
		sourceFields[in.Component][s] = fields
	}
	ctx["source->stream->grouping"] = sources
	ctx["source->stream->fields"] = sourceFields
	return ctx
}

func streamOf(in topology.Input) string {
	if in.Stream == "" {
		return tuple.DefaultStream
	}
	return in.Stream
}

func groupingJSON(in topology.Input) map[string]any {
	g := in.Grouping
	if g == "" {
		g = topology.Shuffle
	}
	switch g {
	case topology.Global:
		return map[string]any{"type": "FIELDS", "fields": []string{}}
	case topology.FieldsGrouping:
		return map[string]any{"type": "FIELDS", "fields": append([]string{}, in.Fields...)}
	case topology.PartialKey, topology.BatchGrouping:
		return map[string]any{"type": "CUSTOM_SERIALIZED"}
	}
	return map[string]any{"type": strings.ToUpper(string(g))}
}
