package flux

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gale-stream/gale/internal/suggest"
	"go.yaml.in/yaml/v3"
)

// Limits on what a Flux file may cost. A topology file is a few
// kilobytes; these leave room for a hundredfold and stop hostile input
// (a billion-laughs document of aliases, deep nesting) early.
const (
	// MaxFileSize bounds a Flux file and each of its includes, in bytes.
	MaxFileSize = 1 << 20
	// MaxDepth bounds the nesting of mappings and sequences.
	MaxDepth = 64
	// MaxNodes bounds the values of a document once its aliases are
	// expanded.
	MaxNodes = 100_000
	// MaxIncludes bounds the includes of a file.
	MaxIncludes = 64
)

type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kSeq
	kMap
)

// val is a YAML value with aliases and merge keys resolved, keys in
// order, and the line it starts on.
type val struct {
	kind   kind
	line   int
	b      bool
	s      string // a string, or a number's JSON literal
	elems  []*val
	keys   []string
	klines []int
	vals   []*val
}

func (v *val) describe() string {
	switch v.kind {
	case kNull:
		return "null"
	case kBool:
		return "boolean " + strconv.FormatBool(v.b)
	case kNumber:
		return "number " + v.s
	case kString:
		return "string " + quoteShort(v.s)
	case kSeq:
		return "a sequence"
	}
	return "a mapping"
}

// quoteShort quotes s, cut at 64 bytes, as package topology does (paths
// of long keys must match its own).
func quoteShort(s string) string {
	const limit = 64
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// MarshalJSON writes v as JSON, keeping the order of mapping keys.
func (v *val) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	v.writeJSON(&b)
	return b.Bytes(), nil
}

func (v *val) writeJSON(b *bytes.Buffer) {
	switch v.kind {
	case kNull:
		b.WriteString("null")
	case kBool:
		b.WriteString(strconv.FormatBool(v.b))
	case kNumber:
		b.WriteString(v.s)
	case kString:
		s, _ := json.Marshal(v.s)
		b.Write(s)
	case kSeq:
		b.WriteByte('[')
		for i, e := range v.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			e.writeJSON(b)
		}
		b.WriteByte(']')
	case kMap:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			s, _ := json.Marshal(k)
			b.Write(s)
			b.WriteByte(':')
			v.vals[i].writeJSON(b)
		}
		b.WriteByte('}')
	}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses one YAML document into a val. Problems are added to
// errs at file; it returns nil when the document cannot be read at all.
func parseYAML(data []byte, file string, errs *errList) *val {
	at := loc{file: file}
	if len(data) > MaxFileSize {
		errs.add(at, ErrLimit, "file of %d bytes is larger than %d bytes", len(data), MaxFileSize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			errs.add(at, ErrSyntax, "empty YAML document")
			return nil
		}
		yamlErr(errs, at, err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		at.line = extra.Line
		errs.add(at, ErrSyntax, "more than one YAML document (a Flux file holds one topology)")
		return nil
	} else if !errors.Is(err, io.EOF) {
		yamlErr(errs, at, err)
		return nil
	}
	c := converter{errs: errs, file: file}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			errs.add(at, ErrSyntax, "empty YAML document")
			return nil
		}
		root = root.Content[0]
	}
	v, ok := c.convert(root, "", 0)
	if !ok {
		return nil
	}
	return v
}

func yamlErr(errs *errList, at loc, err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		at.line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	errs.add(at, ErrSyntax, "%s", msg)
}

type converter struct {
	errs  *errList
	file  string
	nodes int
}

func (c *converter) at(n *yaml.Node, path string) loc {
	return loc{file: c.file, path: path, line: n.Line}
}

// convert turns n into a val; false means give up (a limit was reached:
// one error says so).
func (c *converter) convert(n *yaml.Node, path string, depth int) (*val, bool) {
	c.nodes++
	if c.nodes > MaxNodes {
		c.errs.add(c.at(n, path), ErrLimit, "the document holds more than %d values (each alias counted as what it expands to)", MaxNodes)
		return nil, false
	}
	if depth > MaxDepth {
		c.errs.add(c.at(n, path), ErrLimit, "nested more than %d levels deep", MaxDepth)
		return nil, false
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			c.errs.add(c.at(n, path), ErrSyntax, "unknown alias")
			return nil, false
		}
		v, ok := c.convert(n.Alias, path, depth+1)
		if ok {
			v2 := *v
			v2.line = n.Line
			v = &v2
		}
		return v, ok
	case yaml.ScalarNode:
		return c.scalar(n, path)
	case yaml.SequenceNode:
		v := &val{kind: kSeq, line: n.Line, elems: make([]*val, 0, len(n.Content))}
		for i, e := range n.Content {
			ev, ok := c.convert(e, indexPath(path, i), depth+1)
			if !ok {
				return nil, false
			}
			v.elems = append(v.elems, ev)
		}
		return v, true
	case yaml.MappingNode:
		v := &val{kind: kMap, line: n.Line}
		if !c.mapping(n, v, path, depth) {
			return nil, false
		}
		return v, true
	}
	c.errs.add(c.at(n, path), ErrSyntax, "unexpected YAML node")
	return nil, false
}

// mapping fills v with n's entries; merge keys (<<) add the entries of
// the mappings they name that v does not set itself.
func (c *converter) mapping(n *yaml.Node, v *val, path string, depth int) bool {
	var merged []*val
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
			m, ok := c.convert(vn, path, depth+1)
			if !ok {
				return false
			}
			srcs := []*val{m}
			if m.kind == kSeq {
				srcs = m.elems
			}
			for _, s := range srcs {
				if s.kind != kMap {
					c.errs.add(c.at(vn, path), ErrType, "a merge key (<<) takes a mapping or a sequence of mappings, got %s", s.describe())
					return false
				}
			}
			merged = append(merged, srcs...)
			continue
		}
		if kn.Kind != yaml.ScalarNode {
			c.errs.add(c.at(kn, path), ErrType, "a mapping key must be a scalar")
			return false
		}
		key := kn.Value
		kp := fieldPath(path, key)
		if seen[key] {
			c.errs.add(c.at(kn, kp), ErrInvalid, "duplicate key")
			continue
		}
		seen[key] = true
		ev, ok := c.convert(vn, kp, depth+1)
		if !ok {
			return false
		}
		v.keys = append(v.keys, key)
		v.klines = append(v.klines, kn.Line)
		v.vals = append(v.vals, ev)
	}
	for _, m := range merged {
		for i, k := range m.keys {
			if !seen[k] {
				seen[k] = true
				v.keys = append(v.keys, k)
				v.klines = append(v.klines, m.klines[i])
				v.vals = append(v.vals, m.vals[i])
			}
		}
	}
	return true
}

func (c *converter) scalar(n *yaml.Node, path string) (*val, bool) {
	v := &val{line: n.Line}
	switch n.ShortTag() {
	case "!!null":
		v.kind = kNull
	case "!!bool":
		v.kind = kBool
		if err := n.Decode(&v.b); err != nil {
			c.errs.add(c.at(n, path), ErrSyntax, "bad boolean %s", quoteShort(n.Value))
			return nil, false
		}
	case "!!int", "!!float":
		var x any
		if err := n.Decode(&x); err != nil {
			c.errs.add(c.at(n, path), ErrSyntax, "bad number %s", quoteShort(n.Value))
			return nil, false
		}
		v.kind = kNumber
		switch x := x.(type) {
		case int:
			v.s = strconv.Itoa(x)
		case int64:
			v.s = strconv.FormatInt(x, 10)
		case uint64:
			v.s = strconv.FormatUint(x, 10)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				c.errs.add(c.at(n, path), ErrInvalid, "%s is not a finite number", n.Value)
				return nil, false
			}
			v.s = strconv.FormatFloat(x, 'g', -1, 64)
		default:
			v.kind, v.s = kString, n.Value
		}
	default: // !!str, !!timestamp, !!binary and custom tags: their text
		v.kind, v.s = kString, n.Value
		if b, ok := yaml11Bools[n.Value]; ok && n.Style == 0 && n.ShortTag() == "!!str" {
			// Flux's SnakeYAML reads YAML 1.1, where a plain yes, no, on
			// or off is a boolean
			v.kind, v.b, v.s = kBool, b, ""
		}
	}
	return v, true
}

var yaml11Bools = map[string]bool{
	"yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// Paths, as package topology writes them.

func isPathIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func fieldPath(prefix, name string) string {
	if !isPathIdent(name) {
		return prefix + "[" + quoteShort(name) + "]"
	}
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func indexPath(prefix string, i int) string { return prefix + "[" + strconv.Itoa(i) + "]" }

// didYouMean suggests the entry of known closest to name (internal/suggest,
// as Gale's own topology errors do).
func didYouMean(name string, known []string) string { return suggest.DidYouMean(name, known) }
