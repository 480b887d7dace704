package topology

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/gale-stream/gale/tuple"
)

// Decode reads a topology from JSON (the format is described in the
// package documentation) and validates it against cat, as Validate does.
//
// Decoding is strict: unknown fields, wrong JSON types and duplicate keys
// are errors. On failure Decode returns a nil Topology and an *Errors
// holding every problem found, each named by its JSON path:
//
//	bolts[1].paralelism: unknown field; known fields: id, type, parallelism, config, inputs, outputs, tick, autoscale (did you mean "parallelism"?)
//	bolts[2].inputs[0].component: unknown component "splitter"; known components: count, sentences, split (did you mean "split"?)
//
// Problems that follow from an earlier one (the streams of a bolt whose
// type is unknown, say) are not reported.
func Decode(data []byte, cat Catalog) (*Topology, error) {
	var errs errList
	t, m := parseTopology(data, &errs)
	if t == nil {
		return nil, errs.err()
	}
	t.validate(cat, m, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return t, nil
}

var (
	topologyFields  = []string{"name", "config", "spouts", "bolts"}
	componentFields = []string{"id", "type", "parallelism", "config", "inputs", "outputs", "tick", "autoscale"}
	inputFields     = []string{"component", "stream", "grouping", "fields"}
)

// marks record what the strict parse already reported, so that validation
// skips the checks that depend on it.
type marks struct {
	name, config, spouts bool
	comps                map[*Component]*compMarks
}

type compMarks struct {
	broken                                              bool // not even an object
	id, typ, parallelism, config, inputs, outputs, tick bool
	input                                               map[int]bool // inputs with problems
	// autoscale: the policy did not decode; given: its keys in the JSON,
	// so that an explicit 0 is an error rather than a default.
	autoscale      bool
	autoscaleGiven map[string]bool
}

func (m *marks) of(c *Component) *compMarks {
	if m == nil || m.comps[c] == nil {
		return &compMarks{}
	}
	return m.comps[c]
}

func (m *marks) mark(c *Component) *compMarks {
	if m.comps == nil {
		m.comps = map[*Component]*compMarks{}
	}
	cm := m.comps[c]
	if cm == nil {
		cm = &compMarks{}
		m.comps[c] = cm
	}
	return cm
}

type topologyParser struct {
	errs *errList
	m    *marks
	dec  configDecoder
}

// parseTopology reads the JSON structure into a Topology. It returns nil
// when the input is not a JSON object.
func parseTopology(data []byte, errs *errList) (*Topology, *marks) {
	root, fe := parseJSON(data, "")
	if fe != nil {
		errs.addErr(fe)
		return nil, nil
	}
	if root.kind != nObject {
		errs.add("", ErrType, "want a JSON object holding a topology, got %s", root.describe())
		return nil, nil
	}
	p := &topologyParser{errs: errs, m: &marks{}, dec: configDecoder{errs: errs}}
	t := &Topology{}
	f := p.fields(root, "", topologyFields)

	if v := f["name"]; v == nil {
		errs.add("name", ErrMissingField, "missing required field")
		p.m.name = true
	} else if !p.leaf(v, "name", &t.Name) {
		p.m.name = true
	}

	if v := f["config"]; v != nil {
		switch v.kind {
		case nNull:
		case nObject:
			g, ok := p.dec.generic(v, "config")
			if !ok {
				p.m.config = true
			} else if cfg := g.(map[string]any); len(cfg) > 0 {
				t.Config = cfg
			}
		default:
			p.dec.typeErr(v, "config", "an object")
			p.m.config = true
		}
	}

	if v := f["spouts"]; v != nil {
		t.Spouts = p.components(v, "spouts", KindSpout)
		p.m.spouts = t.Spouts == nil && v.kind != nArray
	}
	if v := f["bolts"]; v != nil {
		t.Bolts = p.components(v, "bolts", KindBolt)
	}
	return t, p.m
}

// fields checks an object's keys against known and returns its values by
// key. Unknown and duplicate keys are reported.
func (p *topologyParser) fields(n *node, path string, known []string) map[string]*node {
	out := make(map[string]*node, len(n.keys))
	seen := make(map[string]bool, len(n.keys))
	for i, k := range n.keys {
		fp := fieldPath(path, k)
		if seen[k] {
			p.errs.add(fp, ErrDuplicateKey, "duplicate key")
			continue
		}
		seen[k] = true
		if !containsString(known, k) {
			p.errs.add(fp, ErrUnknownField, "unknown field; known fields: %s%s",
				strings.Join(known, ", "), didYouMean(k, known))
			continue
		}
		out[k] = n.vals[i]
	}
	return out
}

// outputs reads {"stream": ["field", ...]} where a stream may also be
// {"fields": [...], "direct": true}; broken is true after an error.
func (p *topologyParser) outputs(n *node, path string) (s Streams, direct []string, broken bool) {
	if n.kind != nObject {
		return s, nil, !p.leaf(n, path, &s) // the decoder's error
	}
	s = make(Streams, len(n.keys))
	for i, k := range n.keys {
		v, sp := n.vals[i], keyPath(path, k)
		if _, dup := s[k]; dup {
			p.errs.add(sp, ErrDuplicateKey, "duplicate key")
			broken = true
			continue
		}
		var fields tuple.Fields
		if v.kind == nObject {
			f := p.fields(v, sp, []string{"fields", "direct"})
			isDirect := false
			if d := f["direct"]; d != nil && !p.leaf(d, fieldPath(sp, "direct"), &isDirect) {
				broken = true
			}
			if fv := f["fields"]; fv == nil {
				p.errs.add(fieldPath(sp, "fields"), ErrMissingField, "a stream declared as an object needs its fields")
				broken = true
			} else if !p.leaf(fv, fieldPath(sp, "fields"), &fields) {
				broken = true
			}
			if len(f) != len(v.keys) {
				broken = true // unknown or duplicate keys, reported
			}
			if isDirect {
				direct = append(direct, k)
			}
		} else if !p.leaf(v, sp, &fields) {
			broken = true
		}
		if fields == nil {
			fields = tuple.Fields{}
		}
		s[k] = fields
	}
	return s, direct, broken
}

// leaf decodes n into *into with the config decoder; it reports whether
// that went well.
func (p *topologyParser) leaf(n *node, path string, into any) bool {
	before := p.errs.len()
	p.dec.decode(n, path, reflect.ValueOf(into).Elem())
	return p.errs.len() == before
}

func (p *topologyParser) components(n *node, path string, kind Kind) []*Component {
	if n.kind != nArray {
		p.dec.typeErr(n, path, "an array of "+kind.String()+"s")
		return nil
	}
	if len(n.elems) == 0 {
		return nil
	}
	out := make([]*Component, len(n.elems))
	for i, e := range n.elems {
		out[i] = p.component(e, indexPath(path, i), kind)
	}
	return out
}

func (p *topologyParser) component(n *node, path string, kind Kind) *Component {
	c := &Component{}
	cm := p.m.mark(c)
	if n.kind != nObject {
		p.dec.typeErr(n, path, "an object describing a "+kind.String())
		cm.broken = true
		return c
	}
	f := p.fields(n, path, componentFields)
	for _, req := range []struct {
		name string
		into *string
		bad  *bool
	}{{"id", &c.ID, &cm.id}, {"type", &c.Type, &cm.typ}} {
		fp := fieldPath(path, req.name)
		if v := f[req.name]; v == nil {
			p.errs.add(fp, ErrMissingField, "missing required field")
			*req.bad = true
		} else if !p.leaf(v, fp, req.into) {
			*req.bad = true
		}
	}
	if v := f["parallelism"]; v != nil {
		n, ok := positiveInt(v)
		if !ok {
			p.errs.add(fieldPath(path, "parallelism"), ErrType, "want a positive integer, got %s", v.describe())
			cm.parallelism = true
		}
		c.Parallelism = n
	}
	if v := f["config"]; v != nil && v.kind != nNull {
		var buf bytes.Buffer
		if err := json.Compact(&buf, v.raw); err == nil {
			c.Config = buf.Bytes()
		} else {
			c.Config = append(json.RawMessage(nil), v.raw...)
		}
	}
	if v := f["inputs"]; v != nil {
		c.Inputs, cm.input = p.inputs(v, fieldPath(path, "inputs"))
		cm.inputs = c.Inputs == nil && v.kind != nArray
	}
	if v := f["outputs"]; v != nil {
		c.Outputs, c.DirectOutputs, cm.outputs = p.outputs(v, fieldPath(path, "outputs"))
		if len(c.Outputs) == 0 {
			c.Outputs = nil
		}
	}
	if v := f["tick"]; v != nil {
		cm.tick = !p.leaf(v, fieldPath(path, "tick"), &c.Tick)
	}
	if v := f["autoscale"]; v != nil && v.kind != nNull {
		cm.autoscale = !p.leaf(v, fieldPath(path, "autoscale"), &c.Autoscale)
		if v.kind == nObject {
			cm.autoscaleGiven = make(map[string]bool, len(v.keys))
			for _, k := range v.keys {
				cm.autoscaleGiven[k] = true
			}
		}
	}
	return c
}

func (p *topologyParser) inputs(n *node, path string) ([]Input, map[int]bool) {
	if n.kind != nArray {
		p.dec.typeErr(n, path, "an array of inputs")
		return nil, nil
	}
	if len(n.elems) == 0 {
		return nil, nil
	}
	bad := map[int]bool{}
	out := make([]Input, len(n.elems))
	for j, e := range n.elems {
		ip := indexPath(path, j)
		in := &out[j]
		if e.kind != nObject {
			p.dec.typeErr(e, ip, "an object describing an input")
			bad[j] = true
			continue
		}
		before := p.errs.len()
		f := p.fields(e, ip, inputFields)
		if v := f["component"]; v == nil {
			p.errs.add(fieldPath(ip, "component"), ErrMissingField, "missing required field")
		} else {
			p.leaf(v, fieldPath(ip, "component"), &in.Component)
		}
		if v := f["stream"]; v != nil {
			p.leaf(v, fieldPath(ip, "stream"), &in.Stream)
		}
		if v := f["grouping"]; v != nil {
			p.leaf(v, fieldPath(ip, "grouping"), &in.Grouping)
		}
		if v := f["fields"]; v != nil {
			p.leaf(v, fieldPath(ip, "fields"), &in.Fields)
			if len(in.Fields) == 0 {
				in.Fields = nil
			}
		}
		if p.errs.len() > before {
			bad[j] = true
		}
	}
	return out, bad
}

// positiveInt reads a JSON number that is a whole number in 1..MaxInt32.
func positiveInt(n *node) (int, bool) {
	if n.kind != nNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(n.str, 64)
	if err != nil || f != math.Trunc(f) || f < 1 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
