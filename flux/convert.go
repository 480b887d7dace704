package flux

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gale-stream/gale/topology"
)

// Options are Flux's command-line options, and where to read includes.
type Options struct {
	// Properties replace ${name} placeholders (Flux's --filter FILE, read
	// with ParseProperties). Nil: none.
	Properties map[string]string
	// EnvFilter replaces ${ENV-NAME} placeholders with environment
	// variables (Flux's --env-filter).
	EnvFilter bool
	// LookupEnv reads environment variables (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// ReadFile reads an included file (default: os.ReadFile, at most
	// MaxFileSize bytes). Relative include paths are relative to the
	// directory of the file that includes them.
	ReadFile func(path string) ([]byte, error)
	// ShellDir becomes the working directory ("dir") of every shell
	// component, as Storm runs multilang subprocesses in the topology's
	// resources directory; "" leaves Gale's default (the working
	// directory of gale). A FluxShellBolt whose changeChildCWD(false) is
	// called keeps Gale's default.
	ShellDir string
}

// Result is a converted Flux file.
type Result struct {
	// JSON is the topology in Gale's JSON format (package topology),
	// indented.
	JSON []byte
	// Warnings say what the conversion left out that does not change
	// what the topology computes.
	Warnings []*Warning

	paths map[string]pathEntry
	// partial is what converted of a file with errors: the components
	// that did, and the streams between them
	partial []byte
	// lostInputs are the bolts some of whose streams were left out of
	// partial, by Gale path ("bolts[1]")
	lostInputs map[string]bool
}

type pathEntry struct {
	at   loc
	rest bool // a deeper Gale path continues the Flux path
}

// IsFlux reports whether a topology file is Flux YAML rather than Gale
// JSON: by its extension (.yaml, .yml), or else by its content (not a
// JSON object).
func IsFlux(path string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return true
	case ".json":
		return false
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(t) > 0 && t[0] != '{' && t[0] != '['
}

// ReadFile reads a file of at most MaxFileSize bytes.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrLimit, path, MaxFileSize)
	}
	return data, nil
}

// Decode converts a Flux file and decodes the result with
// topology.Decode against cat. Errors of either step are an *Errors
// whose entries name the Flux file, line and path (an error of Gale's
// validation wraps its *topology.FieldError). The Result is nil when the
// Flux file itself could not be converted.
func Decode(data []byte, file string, opts Options, cat topology.Catalog) (*topology.Topology, *Result, error) {
	res, err := Convert(data, file, opts)
	if err != nil {
		// what converted is validated too, so that every mistake is
		// reported at once; errors that follow from the Flux ones are not
		var fe *Errors
		if res == nil || res.partial == nil || !errors.As(err, &fe) {
			return nil, res, err
		}
		if _, derr := topology.Decode(res.partial, cat); derr != nil {
			var more *Errors
			if errors.As(res.mapError(derr, fe.List), &more) {
				var all errList
				all.list = append(append(all.list, fe.List...), more.List...)
				return nil, res, all.err()
			}
		}
		return nil, res, err
	}
	t, err := topology.Decode(res.JSON, cat)
	if err != nil {
		return nil, res, res.MapError(err)
	}
	return t, res, nil
}

// Convert converts a Flux file (data, named file in errors; includes
// are read relative to its directory) into Gale's JSON. A Flux problem is
// an *Errors; the Result holds the warnings even then.
func Convert(data []byte, file string, opts Options) (*Result, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.ReadFile == nil {
		opts.ReadFile = ReadFile
	}
	var errs, warns errList
	res := &Result{paths: map[string]pathEntry{}, lostInputs: map[string]bool{}}
	defer func() { res.Warnings = warns.list }()
	main := readFile(data, file, opts, &errs, &warns)
	if main == nil {
		return res, errs.err()
	}
	for _, inc := range main.includes {
		if inc.resource {
			errs.add(inc.at, ErrNoEquivalent, "a classpath resource (resource: true) exists only in a Java topology jar: include it as a file (resource: false)")
			continue
		}
		p := inc.file
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(file), p)
		}
		b, err := opts.ReadFile(p)
		if err != nil {
			errs.add(inc.at, ErrInclude, "include %s: %v", p, err)
			continue
		}
		d := readFile(b, p, opts, &errs, &warns)
		if d == nil {
			continue
		}
		if len(d.includes) > 0 {
			warns.add(d.includes[0].at, ErrInvalid, "the includes of an included file are ignored (as in Flux)")
		}
		main.merge(d, inc.override)
	}
	c := &conv{opts: opts, errs: &errs, warns: &warns, res: res}
	g := c.topology(main)
	out, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return res, fmt.Errorf("encode the converted topology: %w", err)
	}
	if len(errs.list) > 0 {
		res.partial = out
		return res, errs.err()
	}
	res.JSON = append(out, '\n')
	return res, nil
}

func readFile(data []byte, file string, opts Options, errs, warns *errList) *fileDef {
	data = substitute(data, file, opts.Properties, opts.EnvFilter, opts.LookupEnv, warns)
	root := parseYAML(data, file, errs)
	if root == nil {
		return nil
	}
	r := &reader{errs: errs, warns: warns, file: file}
	return r.read(root) // nil when root is no mapping
}

// merge adds an include's definitions as Flux does: the name, config
// keys, components, spouts and bolts (by id) of d replace those of f
// only when override is set; streams are added.
func (f *fileDef) merge(d *fileDef, override bool) {
	if d.name != nil && (f.name == nil || override) {
		f.name = d.name
	}
	for _, e := range d.config {
		i := indexEntry(f.config, e.key)
		switch {
		case i < 0:
			f.config = append(f.config, e)
		case override:
			f.config[i] = e
		}
	}
	f.comps = mergeVertices(f.comps, d.comps, override)
	f.spouts = mergeVertices(f.spouts, d.spouts, override)
	f.bolts = mergeVertices(f.bolts, d.bolts, override)
	f.streams = append(f.streams, d.streams...)
	f.brokenTo = append(f.brokenTo, d.brokenTo...)
}

func indexEntry(list []entry, key string) int {
	for i, e := range list {
		if e.key == key {
			return i
		}
	}
	return -1
}

func mergeVertices(into, add []*vertex, override bool) []*vertex {
	for _, v := range add {
		found := false
		for i, w := range into {
			if w.id.s == v.id.s {
				found = true
				if override {
					into[i] = v
				}
				break
			}
		}
		if !found {
			into = append(into, v)
		}
	}
	return into
}

// Gale's JSON model, written in its field order.
type galeTopology struct {
	Name   string      `json:"name"`
	Config *val        `json:"config,omitempty"`
	Spouts []*galeComp `json:"spouts"`
	Bolts  []*galeComp `json:"bolts,omitempty"`
}

type galeComp struct {
	ID          string       `json:"id"`
	Type        string       `json:"type"`
	Parallelism int          `json:"parallelism,omitempty"`
	Config      *val         `json:"config,omitempty"`
	Inputs      []*galeInput `json:"inputs,omitempty"`
	Outputs     *val         `json:"outputs,omitempty"`
	Tick        *val         `json:"tick,omitempty"`
}

type galeInput struct {
	Component string   `json:"component"`
	Stream    string   `json:"stream,omitempty"`
	Grouping  string   `json:"grouping,omitempty"`
	Fields    []string `json:"fields,omitempty"`
}

func (g *galeComp) config() *val {
	if g.Config == nil {
		g.Config = &val{kind: kMap}
	}
	return g.Config
}

func (g *galeComp) outputs() *val {
	if g.Outputs == nil {
		g.Outputs = &val{kind: kMap}
	}
	return g.Outputs
}

// set sets key of a mapping, in place when it is there.
func (v *val) set(key string, x *val) {
	for i, k := range v.keys {
		if k == key {
			v.vals[i] = x
			return
		}
	}
	v.keys = append(v.keys, key)
	v.klines = append(v.klines, 0)
	v.vals = append(v.vals, x)
}

func (v *val) get(key string) *val {
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

type conv struct {
	opts  Options
	errs  *errList
	warns *errList
	res   *Result
}

func (c *conv) mapPath(gale string, at loc, rest bool) {
	if at.file == "" && at.line == 0 && at.path == "" {
		return
	}
	c.res.paths[gale] = pathEntry{at: at, rest: rest}
}

func (c *conv) topology(d *fileDef) *galeTopology {
	g := &galeTopology{Spouts: []*galeComp{}}
	if d.name == nil {
		c.errs.add(loc{file: d.file, path: "name"}, ErrMissingField, "missing required field")
	} else {
		g.Name = d.name.s
		c.mapPath("name", d.name.at, false)
	}
	if len(d.config) > 0 {
		g.Config = &val{kind: kMap}
		for _, e := range d.config {
			g.Config.set(e.key, e.v)
			c.mapPath(fieldPath("config", e.key), e.at, true)
		}
	}
	// a component matters only through the refs to it, which are errors
	// where they are (or the class that holds them is)
	for _, vx := range d.comps {
		c.warns.add(vx.className.at, ErrNoEquivalent,
			"ignored: components build Java objects (%s) for spouts and bolts to reference (ref); Gale runs no Java", quoteShort(vx.className.s))
	}
	byID := map[string]*galeComp{}
	for _, vx := range d.spouts {
		if gc := c.component(vx, topology.KindSpout, indexPath("spouts", len(g.Spouts))); gc != nil {
			g.Spouts = append(g.Spouts, gc)
		}
	}
	boltPath := map[*galeComp]string{}
	for _, vx := range d.bolts {
		p := indexPath("bolts", len(g.Bolts))
		if gc := c.component(vx, topology.KindBolt, p); gc != nil {
			g.Bolts = append(g.Bolts, gc)
			byID[gc.ID] = gc
			boltPath[gc] = p
		}
	}
	spoutIDs := map[string]bool{}
	for _, vx := range d.spouts {
		spoutIDs[vx.id.s] = true
	}
	converted := map[string]bool{}
	for _, gc := range append(append([]*galeComp(nil), g.Spouts...), g.Bolts...) {
		converted[gc.ID] = true
	}
	for _, id := range d.brokenTo {
		if b := byID[id]; b != nil {
			c.res.lostInputs[boltPath[b]] = true
		}
	}
	dropped := func(id string) bool { return !converted[id] && (spoutIDs[id] || c.hasBadBolt(d, id)) }
	for _, s := range d.streams {
		b := byID[s.to.s]
		if dropped(s.from.s) || b == nil && dropped(s.to.s) {
			// a stream of a component that did not convert: its error
			// says why; Gale checks the others
			if b != nil {
				c.res.lostInputs[boltPath[b]] = true
			}
			continue
		}
		if b == nil {
			if spoutIDs[s.to.s] {
				c.errs.add(s.to.at, ErrInvalid, "%q is a spout: a stream goes to a bolt", s.to.s)
			} else if !c.hasBadBolt(d, s.to.s) {
				ids := make([]string, 0, len(byID))
				for id := range byID {
					ids = append(ids, id)
				}
				c.errs.add(s.to.at, ErrInvalid, "no bolt %q%s", s.to.s, didYouMean(s.to.s, ids))
			}
			continue
		}
		in := &galeInput{Component: s.from.s, Stream: s.streamID.s, Grouping: galeGroupingFor[s.typ.s]}
		ip := indexPath(boltPath[b]+".inputs", len(b.Inputs))
		c.mapPath(ip, s.at, false)
		c.mapPath(ip+".component", s.from.at, false)
		if s.streamID.at.line > 0 {
			c.mapPath(ip+".stream", s.streamID.at, false)
		}
		c.mapPath(ip+".grouping", s.typ.at, false)
		if s.hasArgs {
			if s.typ.s == "FIELDS" {
				c.mapPath(ip+".fields", s.argsAt, true)
				for i, a := range s.args {
					in.Fields = append(in.Fields, a.s)
					c.mapPath(indexPath(ip+".fields", i), a.at, false)
				}
			} else {
				c.warns.add(s.argsAt, ErrInvalid, "args are for FIELDS groupings: ignored for %s (as in Flux)", s.typ.s)
			}
		} else if s.typ.s == "FIELDS" {
			c.mapPath(ip+".fields", s.typ.at, false)
		}
		b.Inputs = append(b.Inputs, in)
	}
	return g
}

func (c *conv) hasBadBolt(d *fileDef, id string) bool {
	for _, vx := range d.bolts {
		if vx.id.s == id {
			return true
		}
	}
	return false
}

// component converts a spout or a bolt; nil when it cannot be (the
// errors say why).
func (c *conv) component(vx *vertex, kind topology.Kind, gp string) *galeComp {
	if vx.bad {
		return nil
	}
	g := &galeComp{ID: vx.id.s}
	c.mapPath(gp, vx.at, false)
	c.mapPath(gp+".id", vx.id.at, false)
	c.mapPath(gp+".type", vx.className.at, false)
	c.mapPath(gp+".inputs", vx.at, false)
	if vx.numTasks > 0 && vx.numTasks != vx.par {
		c.warns.add(vx.numAt, ErrInvalid, "Gale runs each task in an executor of its own: %d tasks (numTasks), not %d executors (parallelism)", vx.numTasks, vx.par)
		g.Parallelism = vx.numTasks
		c.mapPath(gp+".parallelism", vx.numAt, false)
	} else if vx.par != 1 {
		g.Parallelism = vx.par
		c.mapPath(gp+".parallelism", vx.parAt, false)
	}
	cn := vx.className.s
	before := len(c.errs.list)
	if t, ok := galeTypeName(cn); ok {
		g.Type = t
		c.galeType(vx, g, gp)
	} else if cls := Classes[cn]; cls != nil {
		if cls.Kind != kind {
			c.errs.add(vx.className.at, ErrInvalid, "%s is a %s class, declared here as a %s", cn, cls.Kind, kind)
			return nil
		}
		g.Type = cls.Type
		if cls.shell {
			c.shell(vx, g, gp, kind)
		} else {
			for _, p := range vx.props {
				c.errs.add(p.at, ErrNoEquivalent, "%s has no property %q in Gale", cn, p.name)
			}
			for _, m := range vx.methods {
				c.errs.add(m.at, ErrNoEquivalent, "%s has no config method %q in Gale", cn, m.name)
			}
			if cls.build != nil {
				cls.build(c, vx, g)
			} else if vx.args != nil && len(vx.args.elems) > 0 {
				c.errs.add(vx.argsAt, ErrInvalid, "%s takes no constructor argument", cn)
			}
			c.mapPath(gp+".config", vx.className.at, false)
		}
	} else {
		hint, known := noEquivalent[cn]
		if !known || hint == "" {
			hint = genericHint
		}
		c.errs.add(vx.className.at, ErrNoEquivalent, "Java class %s has no Gale equivalent: %s", quoteShort(cn), hint)
		return nil
	}
	c.componentConfig(vx, g, gp, kind, Classes[cn] != nil && Classes[cn].shell)
	if len(c.errs.list) > before {
		return nil
	}
	return g
}

// galeType: constructorArgs holds at most one mapping, the type's
// config; properties set its top-level keys; setDefaultStream and
// setNamedStream declare outputs.
func (c *conv) galeType(vx *vertex, g *galeComp, gp string) {
	if vx.args != nil && len(vx.args.elems) > 0 {
		a := vx.args.elems[0]
		if len(vx.args.elems) > 1 || a.kind != kMap && a.kind != kNull {
			c.errs.add(vx.argsAt, ErrInvalid, "a Gale type takes one constructor argument: its config, as a mapping")
			return
		}
		if c.noRefs(a, indexPath(vx.argsAt.path, 0), vx.argsAt.file) && a.kind == kMap {
			cp := *a
			g.Config = &cp
			c.mapPath(gp+".config", loc{file: vx.argsAt.file, path: indexPath(vx.argsAt.path, 0), line: a.line}, true)
		}
	}
	for _, p := range vx.props {
		if p.ref != "" {
			c.errs.add(p.at, ErrNoEquivalent, "a ref names a Flux component (a Java object); Gale has none: give the value itself")
			continue
		}
		if !c.noRefs(p.value, fieldPath(p.at.path, "value"), p.at.file) {
			continue
		}
		g.config().set(p.name, p.value)
		c.mapPath(fieldPath(gp+".config", p.name), loc{file: p.at.file, path: fieldPath(p.at.path, "value"), line: p.value.line}, true)
	}
	for _, m := range vx.methods {
		if !c.streamMethod(m, g, gp) {
			c.errs.add(m.at, ErrNoEquivalent, "Gale types have no config method %q (only setDefaultStream and setNamedStream, which declare outputs)", m.name)
		}
	}
}

// noRefs reports an error for every {ref: ...} or {reflist: ...} in v.
func (c *conv) noRefs(v *val, path, file string) bool {
	ok := true
	var walk func(v *val, path string)
	walk = func(v *val, path string) {
		switch v.kind {
		case kMap:
			if len(v.keys) == 1 && (v.keys[0] == "ref" || v.keys[0] == "reflist") {
				c.errs.add(loc{file: file, path: path, line: v.line}, ErrNoEquivalent, "a %s names Flux components (Java objects); Gale has none: give the value itself", v.keys[0])
				ok = false
				return
			}
			for i, k := range v.keys {
				walk(v.vals[i], fieldPath(path, k))
			}
		case kSeq:
			for i, e := range v.elems {
				walk(e, indexPath(path, i))
			}
		}
	}
	walk(v, path)
	return ok
}

// streamMethod applies setDefaultStream([fields]) or
// setNamedStream(name, [fields]); false if m is neither.
func (c *conv) streamMethod(m *method, g *galeComp, gp string) bool {
	argAt := func(i int) loc {
		return loc{file: m.at.file, path: indexPath(fieldPath(m.at.path, "args"), i), line: m.args[i].line}
	}
	switch m.name {
	case "setDefaultStream":
		if len(m.args) != 1 {
			c.errs.add(m.at, ErrInvalid, "setDefaultStream takes one argument, the output fields")
			return true
		}
		if f := c.strings(m.args[0], argAt(0)); f != nil {
			g.outputs().set("default", f)
			c.mapPath(gp+".outputs", argAt(0), false)
			c.mapPath(gp+".outputs.default", argAt(0), true)
		}
		return true
	case "setNamedStream":
		if len(m.args) != 2 {
			c.errs.add(m.at, ErrInvalid, "setNamedStream takes two arguments, the stream id and the output fields")
			return true
		}
		name, ok := c.scalarString(m.args[0], argAt(0))
		f := c.strings(m.args[1], argAt(1))
		if ok && f != nil {
			g.outputs().set(name, f)
			c.mapPath(gp+".outputs", argAt(1), false)
			c.mapPath(fieldPath(gp+".outputs", name), argAt(1), true)
		}
		return true
	}
	return false
}

func (c *conv) scalarString(v *val, at loc) (string, bool) {
	if v.kind != kString {
		c.errs.add(at, ErrType, "want a string, got %s", v.describe())
		return "", false
	}
	return v.s, true
}

// strings checks that v is a sequence of strings (a Java String[]).
func (c *conv) strings(v *val, at loc) *val {
	if v.kind != kSeq {
		c.errs.add(at, ErrType, "want a sequence of strings, got %s", v.describe())
		return nil
	}
	for i, e := range v.elems {
		if e.kind != kString {
			c.errs.add(loc{file: at.file, path: indexPath(at.path, i), line: e.line}, ErrType, "want a string, got %s", e.describe())
			return nil
		}
	}
	return v
}

// shell converts FluxShellSpout and FluxShellBolt.
func (c *conv) shell(vx *vertex, g *galeComp, gp string, kind topology.Kind) {
	cfg := g.config()
	if vx.args != nil && !c.noRefs(vx.args, vx.argsAt.path, vx.argsAt.file) {
		return
	}
	for _, m := range vx.methods {
		for i, a := range m.args {
			if !c.noRefs(a, indexPath(fieldPath(m.at.path, "args"), i), m.at.file) {
				return
			}
		}
	}
	if vx.args == nil || len(vx.args.elems) == 0 {
		c.errs.add(vx.at, ErrMissingField, "%s takes constructorArgs: [command line] or [command line, output fields]", vx.className.s)
		return
	}
	if len(vx.args.elems) > 2 {
		c.errs.add(vx.argsAt, ErrInvalid, "%s takes one or two constructor arguments (command line, output fields), got %d", vx.className.s, len(vx.args.elems))
		return
	}
	at := func(i int) loc {
		return loc{file: vx.argsAt.file, path: indexPath(vx.argsAt.path, i), line: vx.args.elems[i].line}
	}
	if cmd := c.strings(vx.args.elems[0], at(0)); cmd != nil {
		cfg.set("command", cmd)
		c.mapPath(gp+".config", vx.argsAt, false)
		c.mapPath(gp+".config.command", at(0), true)
	}
	if len(vx.args.elems) == 2 {
		if f := c.strings(vx.args.elems[1], at(1)); f != nil {
			g.outputs().set("default", f)
			c.mapPath(gp+".outputs", at(1), false)
			c.mapPath(gp+".outputs.default", at(1), true)
		}
	}
	chdir := true
	conf := &val{kind: kMap}
	for _, m := range vx.methods {
		if c.streamMethod(m, g, gp) {
			continue
		}
		switch m.name {
		case "addComponentConfig":
			if len(m.args) != 2 {
				c.errs.add(m.at, ErrInvalid, "addComponentConfig takes two arguments, a key and a value")
				continue
			}
			if k, ok := c.scalarString(m.args[0], loc{file: m.at.file, path: indexPath(fieldPath(m.at.path, "args"), 0), line: m.args[0].line}); ok {
				conf.set(k, m.args[1])
				c.mapPath(fieldPath(gp+".config.conf", k), m.at, false)
			}
		case "setEnv":
			if len(m.args) != 1 {
				c.errs.add(m.at, ErrInvalid, "setEnv takes one argument, a mapping of variables")
				continue
			}
			cfg.set("env", m.args[0])
			c.mapPath(gp+".config.env", m.at, false)
		case "changeChildCWD":
			if len(m.args) != 1 || m.args[0].kind != kBool {
				c.errs.add(m.at, ErrInvalid, "changeChildCWD takes one boolean argument")
				continue
			}
			chdir = m.args[0].b
		default:
			c.errs.add(m.at, ErrNoEquivalent, "%s has no config method %q in Gale (known: setDefaultStream, setNamedStream, addComponentConfig, setEnv, changeChildCWD)", vx.className.s, m.name)
		}
	}
	for _, p := range vx.props {
		if p.name == "env" && p.ref == "" {
			cfg.set("env", p.value)
			c.mapPath(gp+".config.env", p.at, false)
			continue
		}
		c.errs.add(p.at, ErrNoEquivalent, "%s has no property %q in Gale (known: env)", vx.className.s, p.name)
	}
	if chdir && c.opts.ShellDir != "" {
		cfg.set("dir", &val{kind: kString, s: c.opts.ShellDir})
	}
	if len(conf.keys) > 0 {
		cfg.set("conf", conf)
	}
}

// Per-component config keys with a Gale equivalent.
const (
	stormTick            = "topology.tick.tuple.freq.secs"
	stormSubprocessTime  = "topology.subprocess.timeout.secs"
	stormShellBoltMaxPnd = "topology.shellbolt.max.pending"
)

// componentConfig maps a spout's or bolt's own config (Storm's
// addConfigurations).
func (c *conv) componentConfig(vx *vertex, g *galeComp, gp string, kind topology.Kind, shell bool) {
	for _, e := range vx.config {
		switch {
		case e.key == stormTick:
			g.Tick = e.v
			c.mapPath(gp+".tick", e.at, false)
		case shell && e.key == stormSubprocessTime:
			g.config().set("heartbeat_timeout", e.v)
			c.mapPath(gp+".config.heartbeat_timeout", e.at, false)
		case shell && kind == topology.KindBolt && e.key == stormShellBoltMaxPnd:
			g.config().set("max_pending", e.v)
			c.mapPath(gp+".config.max_pending", e.at, false)
		case shell && !strings.HasPrefix(e.key, "topology."):
			conf := g.config().get("conf")
			if conf == nil {
				conf = &val{kind: kMap}
				g.config().set("conf", conf)
			}
			conf.set(e.key, e.v)
			c.mapPath(fieldPath(gp+".config.conf", e.key), e.at, true)
		case strings.HasPrefix(e.key, "topology."):
			known := []string{stormTick}
			if shell {
				known = append(known, stormSubprocessTime)
				if kind == topology.KindBolt {
					known = append(known, stormShellBoltMaxPnd)
				}
			}
			c.errs.add(e.at, ErrNoEquivalent, "Gale has no per-component setting %q (per component it maps %s); set it in the topology's config if Gale knows it there",
				e.key, strings.Join(known, ", "))
		default:
			c.errs.add(e.at, ErrNoEquivalent, "a component's own config reaches only shell components in Gale (their handshake conf); give a Gale type its settings with constructorArgs or properties")
		}
	}
}

// Locate returns where in the Flux files a path of the converted Gale
// topology came from: file, Flux path and line. ok is false when nothing
// in the Flux files corresponds.
func (r *Result) Locate(galePath string) (file, path string, line int, ok bool) {
	if r == nil {
		return "", "", 0, false
	}
	for p := galePath; ; {
		if e, found := r.paths[p]; found {
			fp := e.at.path
			if e.rest && p != galePath {
				fp += galePath[len(p):]
			}
			return e.at.file, fp, e.at.line, true
		}
		q := parentPath(p)
		if q == p {
			return "", "", 0, false
		}
		p = q
	}
}

// parentPath strips the last segment of a path ("a.b[2]" -> "a.b").
func parentPath(p string) string {
	last := -1
	inStr := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && (c == '.' || c == '['):
			last = i
		}
	}
	if last < 0 {
		if p == "" {
			return p
		}
		return ""
	}
	return p[:last]
}

// MapError turns the *topology.Errors of decoding the converted JSON into
// an *Errors located in the Flux files; other errors are returned as they
// are.
func (r *Result) MapError(err error) error { return r.mapError(err, nil) }

// mapError maps err, leaving out the errors that follow from those of
// the conversion (prior): at the same place, or with no place in the Flux
// file (a consequence of what was left out), or about the inputs of a
// bolt whose streams were left out.
func (r *Result) mapError(err error, prior []*Error) error {
	var te *topology.Errors
	if !errors.As(err, &te) {
		return err
	}
	seen := map[[2]string]bool{}
	for _, e := range prior {
		seen[[2]string{e.File, e.Path}] = true
	}
	var out errList
	for _, fe := range te.List {
		if prior != nil {
			if _, _, _, ok := r.Locate(fe.Path); !ok {
				continue
			}
			if b, ok := strings.CutSuffix(fe.Path, ".inputs"); ok && r.lostInputs[b] {
				continue
			}
			if f, p, _, _ := r.Locate(fe.Path); seen[[2]string{f, p}] {
				continue
			}
		}
		e := &Error{Msg: fe.Msg, Err: fe}
		galePath := fe.Path
		// a config's Validate names the key in its message:
		// "invalid config: rate: want ..."
		if rest, ok := strings.CutPrefix(fe.Msg, "invalid config: "); ok && strings.HasSuffix(galePath, ".config") {
			if key, msg, ok := strings.Cut(rest, ": "); ok && isPathIdent(key) {
				if _, ok := r.paths[galePath+"."+key]; ok {
					galePath += "." + key
					e.Msg = msg
				}
			}
		}
		if file, path, line, ok := r.Locate(galePath); ok {
			e.File, e.Path, e.Line = file, path, line
		} else {
			e.Path = fe.Path
			if fe.Path != "" {
				e.Path = "(converted) " + fe.Path
			}
		}
		if strings.HasSuffix(fe.Path, ".inputs") && strings.HasPrefix(fe.Path, "bolts[") &&
			(errors.Is(fe, topology.ErrMissingField) || errors.Is(fe, topology.ErrInvalid)) {
			e.Msg = "no stream reaches this bolt: add one to streams (to: its id)"
		}
		out.list = append(out.list, e)
	}
	return out.err()
}
