package flux

import (
	"strings"
)

// The fields of Flux's model (org.apache.storm.flux.model), by object.
var (
	topologyFields  = []string{"name", "includes", "config", "components", "spouts", "bolts", "streams", "topologySource", "workerHooks"}
	beanFields      = []string{"id", "className", "constructorArgs", "properties", "configMethods", "factory", "factoryArgs"}
	vertexFields    = append(append([]string(nil), beanFields...), "parallelism", "numTasks", "onHeapMemoryLoad", "offHeapMemoryLoad", "cpuLoad", "config")
	streamFields    = []string{"name", "from", "to", "grouping"}
	groupingFields  = []string{"type", "streamId", "args", "customClass"}
	includeFields   = []string{"resource", "file", "override"}
	propertyFields  = []string{"name", "value", "ref"}
	methodFields    = []string{"name", "args"}
	groupingTypes   = []string{"ALL", "CUSTOM", "DIRECT", "SHUFFLE", "LOCAL_OR_SHUFFLE", "FIELDS", "GLOBAL", "NONE"}
	galeGroupingFor = map[string]string{
		"ALL": "all", "DIRECT": "direct", "SHUFFLE": "shuffle", "LOCAL_OR_SHUFFLE": "local_or_shuffle",
		"FIELDS": "fields", "GLOBAL": "global", "NONE": "none",
	}
)

// fileDef is one Flux file (the main one or an include) read into Flux's
// model, every value with where it came from.
type fileDef struct {
	file     string
	name     *strAt
	config   []entry
	comps    []*vertex // components
	spouts   []*vertex
	bolts    []*vertex
	streams  []*stream
	includes []*include
	brokenTo []string // the bolts of streams with errors
}

type strAt struct {
	s  string
	at loc
}

type entry struct {
	key string
	v   *val
	at  loc
}

type vertex struct {
	at        loc // the vertex itself: "bolts[2]"
	id        strAt
	className strAt
	args      *val // constructorArgs
	argsAt    loc
	props     []*property
	methods   []*method
	par       int
	parAt     loc
	numTasks  int
	numAt     loc
	config    []entry
	bad       bool // no id or className: not converted
}

type property struct {
	name  string
	value *val
	ref   string
	at    loc
}

type method struct {
	name   string
	args   []*val
	at     loc
	argsAt loc
}

type stream struct {
	at       loc
	from, to strAt
	typ      strAt
	streamID strAt
	args     []strAt
	argsAt   loc
	hasArgs  bool
}

type include struct {
	at       loc
	file     string
	resource bool
	override bool
}

// reader reads one file's val into a fileDef, reporting problems.
type reader struct {
	errs  *errList
	warns *errList
	file  string
}

func (r *reader) at(v *val, path string) loc { return loc{file: r.file, path: path, line: v.line} }

// fields checks a mapping's keys against known and returns its values.
func (r *reader) fields(v *val, path string, known []string, what string) map[string]*val {
	if v.kind != kMap {
		r.errs.add(r.at(v, path), ErrType, "want a mapping describing %s, got %s", what, v.describe())
		return nil
	}
	out := make(map[string]*val, len(v.keys))
	for i, k := range v.keys {
		if !contains(known, k) {
			r.errs.add(loc{file: r.file, path: fieldPath(path, k), line: v.klines[i]}, ErrUnknownField,
				"unknown field of %s; known fields: %s%s", what, strings.Join(known, ", "), didYouMean(k, known))
			continue
		}
		out[k] = v.vals[i]
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *reader) str(v *val, path string) (strAt, bool) {
	at := r.at(v, path)
	if v.kind != kString {
		// SnakeYAML reads a number or a boolean into a String field as its text
		if v.kind == kNumber || v.kind == kBool {
			s := v.s
			if v.kind == kBool {
				s = map[bool]string{true: "true", false: "false"}[v.b]
			}
			return strAt{s: s, at: at}, true
		}
		r.errs.add(at, ErrType, "want a string, got %s", v.describe())
		return strAt{at: at}, false
	}
	return strAt{s: v.s, at: at}, true
}

func (r *reader) reqStr(f map[string]*val, key string, parent *val, path string) (strAt, bool) {
	p := fieldPath(path, key)
	v := f[key]
	if v == nil {
		r.errs.add(r.at(parent, p), ErrMissingField, "missing required field")
		return strAt{at: r.at(parent, p)}, false
	}
	s, ok := r.str(v, p)
	if ok && s.s == "" {
		r.errs.add(s.at, ErrInvalid, "must not be empty")
		return s, false
	}
	return s, ok
}

func (r *reader) boolean(v *val, path string) bool {
	if v.kind != kBool {
		r.errs.add(r.at(v, path), ErrType, "want a boolean, got %s", v.describe())
		return false
	}
	return v.b
}

func (r *reader) integer(v *val, path string) (int, bool) {
	if v.kind == kNumber && !strings.ContainsAny(v.s, ".eE") && len(v.s) < 11 {
		n := 0
		neg := strings.HasPrefix(v.s, "-")
		for _, c := range strings.TrimPrefix(v.s, "-") {
			n = n*10 + int(c-'0')
		}
		if neg {
			n = -n
		}
		if n >= -1<<31 && n < 1<<31 {
			return n, true
		}
	}
	r.errs.add(r.at(v, path), ErrType, "want an integer, got %s", v.describe())
	return 0, false
}

func (r *reader) seq(v *val, path, what string) []*val {
	if v.kind == kNull {
		return nil
	}
	if v.kind != kSeq {
		r.errs.add(r.at(v, path), ErrType, "want a sequence of %s, got %s", what, v.describe())
		return nil
	}
	return v.elems
}

// read reads a whole file.
func (r *reader) read(root *val) *fileDef {
	d := &fileDef{file: r.file}
	f := r.fields(root, "", topologyFields, "a Flux topology")
	if f == nil {
		return nil
	}
	if v := f["name"]; v != nil && v.kind != kNull {
		if s, ok := r.str(v, "name"); ok {
			d.name = &s
		}
	}
	if v := f["config"]; v != nil && v.kind != kNull {
		d.config = r.configMap(v, "config")
	}
	for _, sec := range []struct {
		key  string
		into *[]*vertex
		what string
		bean bool
	}{{"components", &d.comps, "a component", true}, {"spouts", &d.spouts, "a spout", false}, {"bolts", &d.bolts, "a bolt", false}} {
		v := f[sec.key]
		if v == nil {
			continue
		}
		seen := map[string]loc{}
		for i, e := range r.seq(v, sec.key, sec.what+"s") {
			vx := r.vertex(e, indexPath(sec.key, i), sec.what, sec.bean)
			if vx == nil {
				continue
			}
			if prev, dup := seen[vx.id.s]; dup && vx.id.s != "" {
				r.errs.add(vx.id.at, ErrInvalid, "duplicate id %q (also at %s, line %d)", vx.id.s, prev.path, prev.line)
				continue
			}
			seen[vx.id.s] = vx.id.at
			*sec.into = append(*sec.into, vx)
		}
	}
	if v := f["streams"]; v != nil {
		for i, e := range r.seq(v, "streams", "streams") {
			if s, to := r.stream(e, indexPath("streams", i)); s != nil {
				d.streams = append(d.streams, s)
			} else if to != "" {
				d.brokenTo = append(d.brokenTo, to)
			}
		}
	}
	if v := f["includes"]; v != nil {
		elems := r.seq(v, "includes", "includes")
		if len(elems) > MaxIncludes {
			r.errs.add(r.at(v, "includes"), ErrLimit, "%d includes, more than %d", len(elems), MaxIncludes)
			elems = nil
		}
		for i, e := range elems {
			p := indexPath("includes", i)
			g := r.fields(e, p, includeFields, "an include")
			if g == nil {
				continue
			}
			inc := &include{at: r.at(e, p)}
			if fv, ok := r.reqStr(g, "file", e, p); ok {
				inc.file = fv.s
			} else {
				continue
			}
			if b := g["resource"]; b != nil {
				inc.resource = r.boolean(b, fieldPath(p, "resource"))
			}
			if b := g["override"]; b != nil {
				inc.override = r.boolean(b, fieldPath(p, "override"))
			}
			d.includes = append(d.includes, inc)
		}
	}
	if v := f["topologySource"]; v != nil && v.kind != kNull {
		r.errs.add(r.at(v, "topologySource"), ErrNoEquivalent,
			"a topologySource is a Java class that builds a StormTopology; Gale runs no Java: declare the spouts, bolts and streams in this file instead")
	}
	if v := f["workerHooks"]; v != nil && v.kind != kNull {
		r.errs.add(r.at(v, "workerHooks"), ErrNoEquivalent, "worker hooks are Java classes run in each worker; Gale has no equivalent")
	}
	return d
}

func (r *reader) configMap(v *val, path string) []entry {
	if v.kind != kMap {
		r.errs.add(r.at(v, path), ErrType, "want a mapping of settings, got %s", v.describe())
		return nil
	}
	out := make([]entry, len(v.keys))
	for i, k := range v.keys {
		out[i] = entry{key: k, v: v.vals[i], at: loc{file: r.file, path: fieldPath(path, k), line: v.klines[i]}}
	}
	return out
}

func (r *reader) vertex(v *val, path, what string, bean bool) *vertex {
	known := vertexFields
	if bean {
		known = beanFields
	}
	f := r.fields(v, path, known, what)
	if f == nil {
		return nil
	}
	vx := &vertex{at: r.at(v, path), par: 1, numTasks: -1}
	okID := true
	vx.id, okID = r.reqStr(f, "id", v, path)
	cn, okClass := r.reqStr(f, "className", v, path)
	vx.className = cn
	if a := f["constructorArgs"]; a != nil && a.kind != kNull {
		vx.argsAt = r.at(a, fieldPath(path, "constructorArgs"))
		if a.kind != kSeq {
			r.errs.add(vx.argsAt, ErrType, "want a sequence of arguments, got %s", a.describe())
		} else {
			vx.args = a
		}
	}
	if p := f["properties"]; p != nil {
		pp := fieldPath(path, "properties")
		for i, e := range r.seq(p, pp, "properties") {
			ep := indexPath(pp, i)
			g := r.fields(e, ep, propertyFields, "a property")
			if g == nil {
				continue
			}
			prop := &property{at: r.at(e, ep)}
			if n, ok := r.reqStr(g, "name", e, ep); ok {
				prop.name = n.s
			}
			prop.value = g["value"]
			if rv := g["ref"]; rv != nil {
				if s, ok := r.str(rv, fieldPath(ep, "ref")); ok {
					prop.ref = s.s
				}
				if prop.value != nil {
					r.errs.add(prop.at, ErrInvalid, "a property has a value or a ref, not both")
				}
			}
			if prop.value == nil && prop.ref == "" {
				prop.value = &val{kind: kNull, line: e.line}
			}
			vx.props = append(vx.props, prop)
		}
	}
	if m := f["configMethods"]; m != nil {
		mp := fieldPath(path, "configMethods")
		for i, e := range r.seq(m, mp, "config methods") {
			ep := indexPath(mp, i)
			g := r.fields(e, ep, methodFields, "a config method")
			if g == nil {
				continue
			}
			me := &method{at: r.at(e, ep)}
			if n, ok := r.reqStr(g, "name", e, ep); ok {
				me.name = n.s
			}
			if a := g["args"]; a != nil {
				me.argsAt = r.at(a, fieldPath(ep, "args"))
				me.args = r.seq(a, fieldPath(ep, "args"), "arguments")
			}
			vx.methods = append(vx.methods, me)
		}
	}
	for _, k := range []string{"factory", "factoryArgs"} {
		if fv := f[k]; fv != nil && fv.kind != kNull {
			r.errs.add(r.at(fv, fieldPath(path, k)), ErrNoEquivalent, "a factory method builds a Java object; Gale runs no Java")
		}
	}
	if p := f["parallelism"]; p != nil {
		vx.parAt = r.at(p, fieldPath(path, "parallelism"))
		if n, ok := r.integer(p, vx.parAt.path); ok {
			if n < 1 {
				r.errs.add(vx.parAt, ErrInvalid, "want a positive integer, got %d", n)
			} else {
				vx.par = n
			}
		}
	}
	if p := f["numTasks"]; p != nil {
		vx.numAt = r.at(p, fieldPath(path, "numTasks"))
		if n, ok := r.integer(p, vx.numAt.path); ok {
			vx.numTasks = n
		}
	}
	for _, k := range []string{"onHeapMemoryLoad", "offHeapMemoryLoad", "cpuLoad"} {
		if fv := f[k]; fv != nil {
			r.warns.add(r.at(fv, fieldPath(path, k)), ErrNoEquivalent, "a resource-aware scheduling hint: Gale spreads tasks evenly and ignores it")
		}
	}
	if c := f["config"]; c != nil && c.kind != kNull {
		vx.config = r.configMap(c, fieldPath(path, "config"))
	}
	vx.bad = !okID || !okClass
	return vx
}

// stream reads a stream; when it has errors it returns nil and the id
// of the bolt it goes to, if known.
func (r *reader) stream(v *val, path string) (*stream, string) {
	f := r.fields(v, path, streamFields, "a stream")
	if f == nil {
		return nil, ""
	}
	s := &stream{at: r.at(v, path)}
	from, ok1 := r.reqStr(f, "from", v, path)
	to, ok2 := r.reqStr(f, "to", v, path)
	s.from, s.to = from, to
	gp := fieldPath(path, "grouping")
	g := f["grouping"]
	if g == nil {
		r.errs.add(r.at(v, gp), ErrMissingField, "missing required field")
		return nil, to.s
	}
	gf := r.fields(g, gp, groupingFields, "a grouping")
	if gf == nil {
		return nil, to.s
	}
	typ, ok3 := r.reqStr(gf, "type", g, gp)
	s.typ = typ
	if ok3 && !contains(groupingTypes, typ.s) {
		r.errs.add(typ.at, ErrInvalid, "unknown grouping %s; known groupings: %s%s", quoteShort(typ.s), strings.Join(groupingTypes, ", "), didYouMean(typ.s, groupingTypes))
		ok3 = false
	}
	if sv := gf["streamId"]; sv != nil && sv.kind != kNull {
		s.streamID, _ = r.str(sv, fieldPath(gp, "streamId"))
	}
	if a := gf["args"]; a != nil && a.kind != kNull {
		ap := fieldPath(gp, "args")
		s.argsAt = r.at(a, ap)
		s.hasArgs = true
		for i, e := range r.seq(a, ap, "field names") {
			if fs, ok := r.str(e, indexPath(ap, i)); ok {
				s.args = append(s.args, fs)
			}
		}
	}
	if ok3 && typ.s == "CUSTOM" {
		cls := "(no customClass)"
		if cc := gf["customClass"]; cc != nil && cc.kind == kMap {
			for i, k := range cc.keys {
				if k == "className" && cc.vals[i].kind == kString {
					cls = cc.vals[i].s
				}
			}
		}
		r.errs.add(typ.at, ErrNoEquivalent, "a CUSTOM grouping runs a Java class (%s); Gale has none: use one of SHUFFLE, FIELDS, ALL, GLOBAL, NONE, LOCAL_OR_SHUFFLE, DIRECT (or Gale's partial_key in the converted JSON)", cls)
		ok3 = false
	}
	if !ok1 || !ok2 || !ok3 {
		return nil, to.s
	}
	return s, to.s
}
