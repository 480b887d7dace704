package topology

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gale-stream/gale/tuple"
)

// Validate checks t against cat and completes it: it sets each
// component's Kind, Settings (its Config decoded by its type), Streams and
// DirectStreams, the defaults (Parallelism 1, Input.Stream "default",
// Input.Grouping Shuffle) and t.Settings (from t.Config).
//
// It reports every problem at once as *Errors, with JSON paths such as
// "bolts[1].inputs[0].grouping", whether t was decoded or built in Go.
// Validate is idempotent: a valid topology stays valid and unchanged. On
// failure t may be partly completed.
//
// Validate modifies t, so it must not run concurrently with other uses of
// t.
func (t *Topology) Validate(cat Catalog) error {
	var errs errList
	t.validate(cat, nil, &errs)
	return errs.err()
}

// emptyCatalog knows no types; it stands in for a nil Catalog.
type emptyCatalog struct{}

func (emptyCatalog) ComponentType(Kind, string) (*ComponentType, bool) { return nil, false }
func (emptyCatalog) TypeNames(Kind) []string                           { return nil }

// compInfo is what validation learns about one component.
type compInfo struct {
	c     *Component
	path  string
	kind  Kind
	cm    *compMarks
	ct    *ComponentType // nil when unknown
	ready bool           // type, config and outputs are fine
	// configOK: the config decoded and passed its Validate hook.
	configOK bool
	ins      []inputInfo
	// known: Streams are computed, so consumers can be checked.
	known bool
}

type inputInfo struct {
	ok         bool // parsed fine and names a component
	groupingOK bool
	producer   int // index in comps, or -1
}

func (t *Topology) validate(cat Catalog, m *marks, errs *errList) {
	before := errs.len()
	defer func() {
		// a valid topology remembers what it was checked against: the
		// runner builds its components from the same catalog
		if errs.len() == before {
			t.catalog = cat
		}
	}()
	if cat == nil {
		cat = emptyCatalog{}
	}
	if m == nil {
		m = &marks{}
	}
	if !m.name {
		if t.Name == "" {
			errs.add("name", ErrMissingField, "must not be empty")
		} else if msg := checkName(t.Name, "name"); msg != "" {
			errs.add("name", ErrInvalid, "%s", msg)
		}
	}
	if !m.config {
		t.Settings = decodeTopologySettings(errs, t.Config)
	}
	if len(t.Spouts) == 0 && !m.spouts {
		errs.add("spouts", ErrInvalid, "a topology needs at least one spout")
	}

	var comps []*compInfo
	byID := map[string]int{}
	idsUsable := true
	for _, list := range []struct {
		kind  Kind
		name  string
		comps []*Component
	}{{KindSpout, "spouts", t.Spouts}, {KindBolt, "bolts", t.Bolts}} {
		for i, c := range list.comps {
			ci := &compInfo{c: c, path: indexPath(list.name, i), kind: list.kind, cm: m.of(c)}
			comps = append(comps, ci)
			if c == nil {
				errs.add(ci.path, ErrInvalid, "missing %s (nil component)", list.kind)
				ci.cm = &compMarks{broken: true}
				continue
			}
			if ci.cm.broken {
				continue
			}
			if !ci.cm.id && c.ID != "" {
				if prev, dup := byID[c.ID]; dup {
					errs.add(ci.path+".id", ErrDuplicateID, "duplicate id %q (also %s.id)", c.ID, comps[prev].path)
				} else {
					byID[c.ID] = len(comps) - 1
				}
			} else {
				idsUsable = false
			}
			checkComponent(errs, cat, ci)
		}
	}

	checkTaskTotal(errs, t, comps)
	if !m.config {
		t.Notes = stormNotes(t.Config, t.Settings)
		applyTopologySettings(errs, t.Settings, comps)
	}

	// Resolve inputs.
	var known []string
	if idsUsable {
		known = slices.Sorted(maps.Keys(byID))
	}
	consumers := make([][]int, len(comps)) // producer -> consumers
	for ci, info := range comps {
		for j := range info.ins {
			in := &info.c.Inputs[j]
			ii := &info.ins[j]
			if !ii.ok {
				continue
			}
			p, found := byID[in.Component]
			if !found {
				ii.ok = false
				if idsUsable {
					errs.add(indexPath(info.path+".inputs", j)+".component", ErrUnknownComponent,
						"unknown component %q; known components: %s%s", in.Component, listOrNone(known), didYouMean(in.Component, known))
				}
				continue
			}
			ii.producer = p
			consumers[p] = append(consumers[p], ci)
		}
	}

	inCycle := reportCycles(errs, comps, consumers)

	// Visit the components in topological order, computing streams.
	indeg := make([]int, len(comps))
	for _, cs := range consumers {
		for _, c := range cs {
			indeg[c]++
		}
	}
	var queue []int
	for i := range comps {
		if indeg[i] == 0 && !inCycle[i] {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		checkStreams(errs, comps, comps[i])
		for _, c := range consumers[i] {
			indeg[c]--
			if indeg[c] == 0 && !inCycle[c] {
				queue = append(queue, c)
			}
		}
	}
}

// checkComponent runs the checks of one component that need no other
// component, and decodes its config.
func checkComponent(errs *errList, cat Catalog, ci *compInfo) {
	c, cm, path := ci.c, ci.cm, ci.path
	c.Kind = ci.kind
	c.Settings, c.Streams, c.DirectStreams = nil, nil, nil

	if !cm.id {
		if c.ID == "" {
			errs.add(path+".id", ErrMissingField, "must not be empty")
		} else if msg := checkName(c.ID, "id"); msg != "" {
			errs.add(path+".id", ErrInvalid, "%s", msg)
		}
	}
	autoscaleOK := checkAutoscale(errs, ci)
	if !cm.parallelism {
		switch {
		case c.Parallelism == 0 && autoscaleOK:
			c.Parallelism = c.Autoscale.Min
		case c.Parallelism == 0:
			c.Parallelism = 1
		case c.Parallelism < 0:
			errs.add(path+".parallelism", ErrInvalid, "want a positive integer, got %d", c.Parallelism)
		case c.Parallelism > MaxTasks:
			errs.add(path+".parallelism", ErrInvalid, "%d tasks: a topology has at most %d", c.Parallelism, MaxTasks)
		case autoscaleOK && (c.Parallelism < c.Autoscale.Min || c.Parallelism > c.Autoscale.Max):
			errs.add(path+".parallelism", ErrInvalid, "%d is outside autoscale [%d, %d]", c.Parallelism, c.Autoscale.Min, c.Autoscale.Max)
		}
	}
	if !cm.tick {
		switch {
		case c.Tick != 0 && ci.kind == KindSpout:
			errs.add(path+".tick", ErrInvalid, "spouts take no tick: only bolts receive tick tuples")
		case c.Tick < 0:
			errs.add(path+".tick", ErrInvalid, "want a non-negative duration, got %s", time.Duration(c.Tick))
		}
	}

	// Type and config.
	configOK := false
	if !cm.typ {
		if c.Type == "" {
			errs.add(path+".type", ErrMissingField, "must not be empty")
		} else if ct, ok := cat.ComponentType(ci.kind, c.Type); ok && ct != nil {
			ci.ct = ct
		} else {
			names := cat.TypeNames(ci.kind)
			errs.addErr(&FieldError{Path: path + ".type", Err: &UnknownTypeError{Kind: ci.kind, Name: c.Type},
				Msg: fmt.Sprintf("unknown %s type %q; known %s types: %s%s",
					ci.kind, c.Type, ci.kind, listOrNone(names), didYouMean(c.Type, names))})
		}
	}
	if ci.ct != nil && !cm.config {
		before := errs.len()
		c.Settings = componentSettings(errs, ci.ct, c.Config, path+".config")
		configOK = errs.len() == before
		ci.configOK = configOK
	}

	// Declared outputs.
	outputsOK := !cm.outputs
	if len(c.Outputs) > 0 && outputsOK {
		op := path + ".outputs"
		if ci.ct != nil && !ci.ct.OverridableOutputs {
			errs.add(op, ErrInvalid, "%s type %q declares its own streams and does not allow outputs", ci.kind, c.Type)
			outputsOK = false
		} else {
			for _, s := range slices.Sorted(maps.Keys(c.Outputs)) {
				sp := keyPath(op, s)
				if s == "" {
					errs.add(sp, ErrInvalid, "a stream id must not be empty")
					outputsOK = false
				} else if msg := checkName(s, "stream id"); msg != "" {
					errs.add(sp, ErrInvalid, "%s", msg)
					outputsOK = false
				}
				if !checkFieldNames(errs, sp, c.Outputs[s]) {
					outputsOK = false
				}
			}
		}
	}
	for _, d := range c.DirectOutputs {
		if _, ok := c.Outputs[d]; !ok && outputsOK {
			errs.add(path+".outputs", ErrInvalid, "stream %q is declared direct but is not in the outputs", d)
			outputsOK = false
		}
	}
	ci.ready = ci.ct != nil && configOK && outputsOK

	// Inputs.
	ip := path + ".inputs"
	if ci.kind == KindSpout {
		if len(c.Inputs) > 0 && !cm.inputs {
			errs.add(ip, ErrInvalid, "spouts take no inputs")
		}
		return
	}
	if cm.inputs {
		ci.ready = false
		return
	}
	if len(c.Inputs) == 0 {
		errs.add(ip, ErrInvalid, "a bolt needs at least one input")
		ci.ready = false
		return
	}
	ci.ins = make([]inputInfo, len(c.Inputs))
	reads := map[[2]string]int{} // (component, stream) -> input index
	for j := range c.Inputs {
		ii := &ci.ins[j]
		ii.producer = -1
		if cm.input[j] {
			ci.ready = false
			continue
		}
		in := &c.Inputs[j]
		jp := indexPath(ip, j)
		ii.ok, ii.groupingOK = true, true
		if in.Component == "" {
			errs.add(jp+".component", ErrMissingField, "must not be empty")
			ii.ok = false
		}
		if in.Stream == "" {
			in.Stream = tuple.DefaultStream
		}
		if in.Grouping == "" {
			in.Grouping = Shuffle
		}
		if !slices.Contains(Groupings, in.Grouping) {
			names := make([]string, len(Groupings))
			for k, g := range Groupings {
				names[k] = string(g)
			}
			errs.add(jp+".grouping", ErrGrouping, "unknown grouping %q; known groupings: %s%s",
				in.Grouping, strings.Join(names, ", "), didYouMean(string(in.Grouping), names))
			ii.groupingOK = false
		} else if in.Grouping.NeedsFields() && len(in.Fields) == 0 {
			errs.add(jp+".fields", ErrGrouping, "grouping %q needs at least one field", in.Grouping)
			ii.groupingOK = false
		} else if !in.Grouping.NeedsFields() && len(in.Fields) > 0 {
			errs.add(jp+".fields", ErrGrouping, "grouping %q takes no fields (only %q and %q do)", in.Grouping, FieldsGrouping, PartialKey)
			ii.groupingOK = false
		} else if !checkFieldNames(errs, jp+".fields", in.Fields) {
			ii.groupingOK = false
		}
		if ii.ok {
			key := [2]string{in.Component, in.Stream}
			if k, dup := reads[key]; dup {
				errs.add(jp, ErrInvalid, "duplicate input: inputs[%d] already reads stream %q of %q", k, in.Stream, in.Component)
				ii.ok = false
			} else {
				reads[key] = j
			}
		}
		if !ii.ok {
			ci.ready = false
		}
	}
	if c.Autoscale != nil && !cm.autoscale {
		checkScalable(errs, ci)
	}
}

// checkAutoscale checks a component's autoscaling policy and fills its
// defaults; it reports whether Min and Max can be used (the policy is
// valid). A policy that did not decode is not checked again.
func checkAutoscale(errs *errList, ci *compInfo) bool {
	c, cm := ci.c, ci.cm
	if c.Autoscale == nil || cm.autoscale {
		return false
	}
	ap := ci.path + ".autoscale"
	given := func(key string) bool { return cm.autoscaleGiven[key] }
	a := c.Autoscale
	ok := true
	// an explicit 0 is a mistake, not a request for the default
	if a.Min < 0 || a.Min == 0 && given("min") {
		errs.add(ap+".min", ErrInvalid, "want at least 1, got %d", a.Min)
		ok = false
	}
	if a.TargetCapacity == 0 && given("target_capacity") {
		errs.add(ap+".target_capacity", ErrInvalid, "want a number in (0, 1], got 0")
		ok = false
	}
	if a.Cooldown == 0 && given("cooldown") {
		errs.add(ap+".cooldown", ErrInvalid, "want at least %s, got 0s", time.Duration(MinCooldown))
		ok = false
	}
	switch {
	case ci.kind == KindBolt && (a.ScaleUpLagSeconds != 0 || given("scale_up_lag_seconds")):
		errs.add(ap+".scale_up_lag_seconds", ErrInvalid, "bolts have no lag: only spouts scale on it")
		ok = false
	case a.ScaleUpLagSeconds == 0 && given("scale_up_lag_seconds"):
		errs.add(ap+".scale_up_lag_seconds", ErrInvalid, "want a number of seconds > 0, got 0")
		ok = false
	}
	*a = a.WithDefaults(ci.kind)
	if !(a.TargetCapacity > 0 && a.TargetCapacity <= 1) {
		errs.add(ap+".target_capacity", ErrInvalid, "want a number in (0, 1], got %g", a.TargetCapacity)
		ok = false
	}
	if ci.kind == KindSpout && !(a.ScaleUpLagSeconds > 0 && !math.IsInf(a.ScaleUpLagSeconds, 1)) {
		errs.add(ap+".scale_up_lag_seconds", ErrInvalid, "want a number of seconds > 0, got %g", a.ScaleUpLagSeconds)
		ok = false
	}
	if a.Cooldown < MinCooldown {
		errs.add(ap+".cooldown", ErrInvalid, "want at least %s, got %s", time.Duration(MinCooldown), time.Duration(a.Cooldown))
		ok = false
	}
	switch {
	case a.Max == 0 && !given("max"):
		errs.add(ap+".max", ErrMissingField, "missing required field (the most tasks, at most %d)", MaxAutoscale)
		ok = false
	case a.Max < max(a.Min, 1):
		errs.add(ap+".max", ErrInvalid, "want at least min (%d), got %d", max(a.Min, 1), a.Max)
		ok = false
	case a.Max > MaxAutoscale:
		errs.add(ap+".max", ErrInvalid, "want at most %d, got %d", MaxAutoscale, a.Max)
		ok = false
	}
	return ok
}

// checkScalable reports a policy on a bolt that more tasks do not help:
// one that reads a stream with the global grouping (every tuple goes to
// its first task) or the all grouping (every task gets every tuple).
func checkScalable(errs *errList, ci *compInfo) {
	for j, in := range ci.c.Inputs {
		if j < len(ci.ins) && !ci.ins[j].groupingOK {
			continue
		}
		switch in.Grouping {
		case Global:
			errs.add(ci.path+".autoscale", ErrInvalid, "a bolt read with the global grouping runs on one task: it cannot scale (inputs[%d] reads %q with it)", j, in.Component)
			return
		case All:
			errs.add(ci.path+".autoscale", ErrInvalid, "a bolt read with the all grouping gets every tuple on every task: more tasks do not share its load (inputs[%d] reads %q with it)", j, in.Component)
			return
		}
	}
}

// checkStreams checks a component's inputs against the streams of their
// producers (all visited before it) and computes its own streams.
func checkStreams(errs *errList, comps []*compInfo, ci *compInfo) {
	if ci.c == nil || ci.cm.broken {
		return
	}
	c := ci.c
	ready := ci.ready
	inFields := make([]tuple.Fields, len(ci.ins))
	for j, ii := range ci.ins {
		if !ii.ok || ii.producer < 0 {
			ready = false
			continue
		}
		p := comps[ii.producer]
		if !p.known {
			ready = false
			continue
		}
		in := &c.Inputs[j]
		jp := indexPath(ci.path+".inputs", j)
		fields, ok := p.c.Streams[in.Stream]
		if !ok {
			streams := slices.Sorted(maps.Keys(p.c.Streams))
			errs.add(jp+".stream", ErrUnknownStream, "component %q has no stream %q; its streams: %s%s",
				in.Component, in.Stream, listOrNone(streams), didYouMean(in.Stream, streams))
			ready = false
			continue
		}
		inFields[j] = fields
		if !ii.groupingOK {
			continue
		}
		direct := slices.Contains(p.c.DirectStreams, in.Stream)
		switch {
		case in.Grouping == Direct && !direct:
			errs.add(jp+".grouping", ErrGrouping, "grouping %q needs a direct stream; stream %q of %q is not declared direct",
				in.Grouping, in.Stream, in.Component)
		case in.Grouping != Direct && direct:
			errs.add(jp+".grouping", ErrGrouping, "stream %q of %q is direct: only grouping %q can read it",
				in.Stream, in.Component, Direct)
		}
		have := make(map[string]bool, len(fields))
		for _, f := range fields {
			have[f] = true
		}
		for k, f := range in.Fields {
			if !have[f] {
				errs.add(indexPath(jp+".fields", k), ErrGrouping, "field %q is not in stream %q of %q (its fields: %s)%s",
					f, in.Stream, in.Component, listOrNone(fields), didYouMean(f, fields))
			}
		}
	}
	if !ready {
		return
	}
	switch {
	case len(c.Outputs) > 0:
		c.Streams = cloneStreams(c.Outputs)
		c.DirectStreams = slices.Clone(c.DirectOutputs)
		ci.known = true
		return
	case ci.ct.Outputs != nil:
		s, err := ci.ct.Outputs(c.Settings, inFields)
		if err != nil {
			errs.addErr(&FieldError{Path: ci.path, Err: err,
				Msg: fmt.Sprintf("%s type %q cannot declare its streams: %v", ci.kind, c.Type, err)})
			return
		}
		c.Streams = cloneStreams(s)
	default:
		c.Streams = Streams{}
	}
	c.DirectStreams = slices.Clone(ci.ct.DirectStreams)
	ci.known = true
}

func cloneStreams(s Streams) Streams {
	out := make(Streams, len(s))
	for k, v := range s {
		out[k] = slices.Clone(v)
	}
	return out
}

// reportCycles reports each cycle among components once and returns the
// components that are part of one.
func reportCycles(errs *errList, comps []*compInfo, consumers [][]int) []bool {
	n := len(comps)
	inCycle := make([]bool, n)
	// Tarjan's strongly connected components.
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	next := 0
	var sccs [][]int
	var strong func(v int)
	strong = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range consumers[v] {
			if index[w] < 0 {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var scc []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				scc = append(scc, w)
				if w == v {
					break
				}
			}
			sccs = append(sccs, scc)
		}
	}
	for v := range n {
		if index[v] < 0 {
			strong(v)
		}
	}
	for _, scc := range sccs {
		if len(scc) == 1 && !slices.Contains(consumers[scc[0]], scc[0]) {
			continue
		}
		member := map[int]bool{}
		for _, v := range scc {
			member[v] = true
			inCycle[v] = true
		}
		start := slices.Min(scc)
		// Shortest way from start back to start inside the component.
		prev := map[int]int{}
		queue := []int{start}
		last := -1
	search:
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for _, w := range consumers[v] {
				if w == start {
					last = v
					break search
				}
				if _, seen := prev[w]; !seen && member[w] {
					prev[w] = v
					queue = append(queue, w)
				}
			}
		}
		if last < 0 {
			continue // cannot happen
		}
		path := []int{start}
		for v := last; v != start; v = prev[v] {
			path = append(path, v)
		}
		slices.Reverse(path[1:])
		names := make([]string, 0, len(path)+1)
		for _, v := range path {
			names = append(names, comps[v].c.ID)
		}
		names = append(names, comps[start].c.ID)
		// Report at the input of start that closes the cycle.
		sc := comps[start]
		at := sc.path + ".inputs"
		for j, ii := range sc.ins {
			if ii.ok && ii.producer == last {
				at = indexPath(at, j)
				break
			}
		}
		errs.add(at, ErrCycle, "cycle: %s", strings.Join(names, " -> "))
	}
	return inCycle
}

// MaxNameLen is the longest topology name, component id or stream id, in
// bytes: the cluster store's limit on a topology's name.
const MaxNameLen = 200

// checkName checks a non-empty topology name, component id or stream id:
// at most MaxNameLen bytes of letters, digits, '_', '.' and '-', not
// starting with '.' (names become path elements) nor with "__" (reserved).
func checkName(s, what string) string {
	if len(s) > MaxNameLen {
		return fmt.Sprintf("%s %s is %d bytes long; at most %d", what, quoteShort(s), len(s), MaxNameLen)
	}
	if s[0] == '.' {
		// names become path elements (sink objects, ledger files): "."
		// and ".." would leave their directory
		return fmt.Sprintf("%s %s starts with '.'; names become file and object names, where \".\" and \"..\" leave their directory", what, quoteShort(s))
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return fmt.Sprintf("%s %s has the character %q; use letters, digits, '_', '.' and '-'", what, quoteShort(s), r)
		}
	}
	if strings.HasPrefix(s, "__") {
		return fmt.Sprintf("%s %s starts with \"__\", which is reserved for Gale", what, quoteShort(s))
	}
	return ""
}

// checkFieldNames checks the field names of a stream or grouping: not
// empty, no duplicates.
func checkFieldNames(errs *errList, path string, fields []string) bool {
	ok := true
	seen := make(map[string]int, len(fields))
	for k, f := range fields {
		if f == "" {
			errs.add(indexPath(path, k), ErrInvalid, "a field name must not be empty")
			ok = false
		} else if i, dup := seen[f]; dup {
			errs.add(indexPath(path, k), ErrInvalid, "duplicate field %q (also at [%d])", f, i)
			ok = false
		} else {
			seen[f] = k
		}
	}
	return ok
}

// MaxTasks bounds a topology's tasks: its components' parallelism and its
// acker executors together. The leader computes one assignment for every
// topology of the cluster, and one topology of 3M tasks stopped it from
// assigning any (the scheduler's own bound is 2^20 tasks, all topologies
// together); Storm topologies rarely run more than a few thousand.
const MaxTasks = 10_000

// checkTaskTotal reports a topology whose tasks add up to more than
// MaxTasks, at the parallelism of its largest component.
func checkTaskTotal(errs *errList, t *Topology, comps []*compInfo) {
	total, largest := 0, -1
	for i, ci := range comps {
		if ci.c == nil || ci.c.Parallelism < 1 || ci.c.Parallelism > MaxTasks {
			continue // reported by checkComponent
		}
		total += ci.c.Parallelism
		if largest < 0 || ci.c.Parallelism > comps[largest].c.Parallelism {
			largest = i
		}
	}
	ackers := t.Settings.Ackers
	if ackers > MaxTasks {
		errs.add("config."+ConfigAckers, ErrInvalid, "%d acker tasks: a topology has at most %d tasks", ackers, MaxTasks)
		return
	}
	if total+ackers > MaxTasks && largest >= 0 {
		errs.add(comps[largest].path+".parallelism", ErrInvalid, "the topology's tasks add up to %d (%d components, %d ackers): at most %d",
			total+ackers, len(comps), ackers, MaxTasks)
	}
}

// stormNotes says, for each Storm setting name in config that Gale reads
// as one of its own, which one.
func stormNotes(config map[string]any, s Settings) []string {
	var notes []string
	for _, k := range slices.Sorted(maps.Keys(config)) {
		gale, ok := StormAliases[k]
		if !ok {
			continue
		}
		var v string
		switch k {
		case ConfigTickFreq:
			v = s.TickFreq.String()
		case ConfigSubprocessTimeout:
			v = s.SubprocessTimeout.String()
		case ConfigShellBoltMaxPending:
			v = fmt.Sprint(s.ShellBoltMaxPending)
		}
		notes = append(notes, fmt.Sprintf("%s: Storm's name, read as Gale's %s that sets none (%s); a component's own value must be the same",
			keyPath("config", k), gale, v))
	}
	return notes
}

// applyTopologySettings gives the components the topology-wide values of
// their settings given under Storm's names: the tick of bolts, and what
// configs implementing SettingsUser take. A component that sets its own
// value keeps it; a different one is an error.
func applyTopologySettings(errs *errList, s Settings, comps []*compInfo) {
	for _, ci := range comps {
		c := ci.c
		if c == nil || ci.cm.broken {
			continue
		}
		if s.TickFreq > 0 && ci.kind == KindBolt && !ci.cm.tick {
			switch {
			case c.Tick == 0:
				c.Tick = Duration(s.TickFreq)
			case time.Duration(c.Tick) != s.TickFreq:
				errs.add(ci.path+".tick", ErrInvalid, "%s differs from %s (%s), Storm's name for it: give one, or the same value",
					time.Duration(c.Tick), keyPath("config", ConfigTickFreq), s.TickFreq)
			}
		}
		if u, ok := c.Settings.(SettingsUser); ok && ci.configOK {
			if err := u.UseTopologySettings(s); err != nil {
				addValidateErr(errs, ci.path+".config", err)
			}
		}
	}
}
