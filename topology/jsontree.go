package topology

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gale-stream/gale/internal/suggest"
)

// This file holds the generic JSON tree the strict decoders walk: parsed
// with encoding/json's tokenizer (numbers kept as literals), keeping object
// keys in order (duplicates included) and each value's raw bytes.

type nodeKind uint8

const (
	nNull nodeKind = iota
	nBool
	nNumber
	nString
	nArray
	nObject
)

type node struct {
	kind  nodeKind
	bool  bool
	str   string  // a string's value, or a number's literal
	elems []*node // array elements
	keys  []string
	vals  []*node // object values, parallel to keys
	raw   []byte  // the value's bytes in the input
}

// MaxDepth bounds the nesting of a topology's JSON. encoding/json allows
// 10,000 levels; a topology needs a handful (a component's config holds
// the deepest values), and every level costs each value below it a longer
// path: at 10,000 levels a 640 KB file took 1 GB and 5.7 s to decode.
const MaxDepth = 64

// parseJSON parses data into a tree. A malformed input gives one
// *FieldError at path whose message holds the line and column.
func parseJSON(data []byte, path string) (*node, *FieldError) {
	// encoding/json's validator reports precise offsets; the tokenizer
	// does not, so validate first.
	var probe json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, syntaxError(data, path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := &jsonParser{data: data, dec: dec}
	n, err := p.value(0)
	if err != nil {
		return nil, syntaxError(data, path, err)
	}
	return n, nil
}

type jsonParser struct {
	data []byte
	dec  *json.Decoder
}

func (p *jsonParser) value(depth int) (*node, error) {
	if depth >= MaxDepth {
		return nil, &tooDeep{offset: int(p.dec.InputOffset())}
	}
	start := int(p.dec.InputOffset())
	for start < len(p.data) {
		c := p.data[start]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ':' && c != ',' {
			break
		}
		start++
	}
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	n := &node{}
	switch t := tok.(type) {
	case nil:
		n.kind = nNull
	case bool:
		n.kind, n.bool = nBool, t
	case json.Number:
		n.kind, n.str = nNumber, string(t)
	case string:
		n.kind, n.str = nString, t
	case json.Delim:
		switch t {
		case '{':
			n.kind = nObject
			for p.dec.More() {
				kt, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("unexpected %v", kt)
				}
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, v)
			}
		case '[':
			n.kind = nArray
			n.elems = []*node{}
			for p.dec.More() {
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
		default:
			return nil, fmt.Errorf("unexpected %v", t)
		}
		if _, err := p.dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unexpected token %v", tok)
	}
	n.raw = p.data[start:p.dec.InputOffset()]
	return n, nil
}

// tooDeep: the value at offset is nested deeper than MaxDepth.
type tooDeep struct{ offset int }

func (e *tooDeep) Error() string { return fmt.Sprintf("nested more than %d levels deep", MaxDepth) }

func syntaxError(data []byte, path string, err error) *FieldError {
	pos := len(data)
	var se *json.SyntaxError
	var deep *tooDeep
	msg := err.Error()
	if errors.As(err, &deep) {
		pos = deep.offset
	} else if errors.As(err, &se) {
		if !strings.HasPrefix(msg, "unexpected end") && se.Offset > 0 {
			pos = int(se.Offset) - 1
		}
	} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		msg = "unexpected end of JSON input"
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &FieldError{Path: path, Msg: "empty JSON input", Err: ErrSyntax}
	}
	line, col := lineCol(data, pos)
	return &FieldError{
		Path: path,
		Msg:  fmt.Sprintf("malformed JSON at line %d, column %d: %s", line, col, msg),
		Err:  ErrSyntax,
	}
}

// lineCol turns a byte offset into a 1-based line and column (in runes).
func lineCol(data []byte, pos int) (line, col int) {
	pos = min(max(pos, 0), len(data))
	before := data[:pos]
	line = 1 + bytes.Count(before, []byte{'\n'})
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[lineStart:]) + 1
}

// describe names a JSON value for "want X, got Y" messages.
func (n *node) describe() string {
	switch n.kind {
	case nNull:
		return "null"
	case nBool:
		return "boolean " + strconv.FormatBool(n.bool)
	case nNumber:
		return "number " + n.str
	case nString:
		return "string " + quoteShort(n.str)
	case nArray:
		return "array"
	default:
		return "object"
	}
}

// get returns the value of key, or nil.
func (n *node) get(key string) *node {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// quoteShort quotes s, shortened when long.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// Paths.

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

// fieldPath is prefix.name, or prefix["name"] when name is no identifier.
func fieldPath(prefix, name string) string {
	if !isPathIdent(name) {
		return keyPath(prefix, name)
	}
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// keyPath is prefix["key"], for map entries.
func keyPath(prefix, key string) string { return prefix + "[" + quoteShort(key) + "]" }

// indexPath is prefix[i].
func indexPath(prefix string, i int) string { return prefix + "[" + strconv.Itoa(i) + "]" }

// didYouMean returns ` (did you mean "x"?)` or "" (internal/suggest).
func didYouMean(name string, known []string) string { return suggest.DidYouMean(name, known) }

// listOrNone joins names with ", ", or says "(none)". Long lists are cut.
func listOrNone(names []string) string {
	const max = 30
	switch {
	case len(names) == 0:
		return "(none)"
	case len(names) > max:
		return fmt.Sprintf("%s, ... (%d more)", strings.Join(names[:max], ", "), len(names)-max)
	}
	return strings.Join(names, ", ")
}
