package avro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Kind is an Avro type.
type Kind int

// The Avro types.
const (
	Null Kind = iota
	Boolean
	Int
	Long
	Float
	Double
	Bytes
	String
	Record
	Enum
	Array
	Map
	Union
	Fixed
)

var kindNames = [...]string{"null", "boolean", "int", "long", "float", "double", "bytes", "string",
	"record", "enum", "array", "map", "union", "fixed"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Logical types Gale maps to other types (time.Time, ...). Others are
// kept as their underlying type, as the specification says.
const (
	TimestampMillis = "timestamp-millis"
	TimestampMicros = "timestamp-micros"
	Date            = "date"
	Decimal         = "decimal"
)

// Schema is a parsed Avro schema. It is immutable once parsed and safe
// for concurrent use.
type Schema struct {
	Kind Kind
	// Name is the full name of a record, enum or fixed.
	Name string
	// Fields of a record, in order.
	Fields []*Field
	// Symbols of an enum.
	Symbols []string
	// Items of an array, Values of a map.
	Items, Values *Schema
	// Branches of a union.
	Branches []*Schema
	// Size of a fixed.
	Size int
	// Logical is one of the logical types above (or "").
	Logical string
	// Precision and Scale of a decimal.
	Precision, Scale int

	text []byte // the schema's JSON, compacted (for the root)
}

// Field is a field of a record.
type Field struct {
	Name string
	Type *Schema
	// HasDefault tells whether the field has a default; Default is it,
	// already coerced to the field's type (see Coerce).
	HasDefault bool
	Default    any
}

// Text returns the schema's JSON text (compacted), as it goes into a
// file's header.
func (s *Schema) Text() []byte { return s.text }

// Parse parses an Avro schema from its JSON text. Recursive types are
// refused (a named type used inside itself): Gale writes them into
// Parquet too, which cannot hold them.
func Parse(text []byte) (*Schema, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &SchemaError{Msg: "not JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &SchemaError{Msg: "text after the schema"}
	}
	p := &parser{names: map[string]*Schema{}, open: map[string]bool{}}
	s, err := p.parse(v, "", "")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, text); err != nil {
		return nil, &SchemaError{Msg: err.Error()}
	}
	root := *s
	root.text = buf.Bytes()
	return &root, nil
}

type parser struct {
	names map[string]*Schema
	open  map[string]bool // named types being parsed
}

func join(path, elem string) string {
	if path == "" {
		return elem
	}
	return path + "." + elem
}

func (p *parser) parse(v any, ns, path string) (*Schema, error) {
	switch x := v.(type) {
	case string:
		return p.named(x, ns, path)
	case []any:
		return p.union(x, ns, path)
	case map[string]any:
		return p.object(x, ns, path)
	}
	return nil, &SchemaError{path, fmt.Sprintf("want a type name, an object or a union (array), not %s", jsonKind(v))}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

var primitives = map[string]Kind{"null": Null, "boolean": Boolean, "int": Int, "long": Long,
	"float": Float, "double": Double, "bytes": Bytes, "string": String}

func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

func (p *parser) named(name, ns, path string) (*Schema, error) {
	if k, ok := primitives[name]; ok {
		return &Schema{Kind: k}, nil
	}
	full := fullName(name, ns)
	if p.open[full] || p.open[name] {
		return nil, &SchemaError{path, fmt.Sprintf("type %q is used inside itself: recursive schemas are not supported", name)}
	}
	if s := p.names[full]; s != nil {
		return s, nil
	}
	if s := p.names[name]; s != nil {
		return s, nil
	}
	return nil, &SchemaError{path, fmt.Sprintf("unknown type %q (named types must be defined before use)", name)}
}

func (p *parser) union(bs []any, ns, path string) (*Schema, error) {
	if len(bs) == 0 {
		return nil, &SchemaError{path, "empty union"}
	}
	u := &Schema{Kind: Union}
	seen := map[string]bool{}
	for i, b := range bs {
		bp := fmt.Sprintf("%s[%d]", path, i)
		s, err := p.parse(b, ns, bp)
		if err != nil {
			return nil, err
		}
		if s.Kind == Union {
			return nil, &SchemaError{bp, "a union may not hold a union"}
		}
		key := s.Kind.String()
		if s.Name != "" {
			key = s.Name
		}
		if seen[key] {
			return nil, &SchemaError{bp, fmt.Sprintf("union holds %s twice", key)}
		}
		seen[key] = true
		u.Branches = append(u.Branches, s)
	}
	return u, nil
}

func str(o map[string]any, key string) (string, bool) {
	s, ok := o[key].(string)
	return s, ok
}

func intAttr(o map[string]any, key, path string) (int, bool, error) {
	v, ok := o[key]
	if !ok {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	i, err := n.Int64()
	if !isNum || err != nil || i < 0 || i > 1<<31-1 {
		return 0, true, &SchemaError{join(path, key), fmt.Sprintf("want a non-negative integer, not %v", v)}
	}
	return int(i), true, nil
}

func (p *parser) object(o map[string]any, ns, path string) (*Schema, error) {
	t, ok := o["type"]
	if !ok {
		return nil, &SchemaError{path, `object without "type"`}
	}
	name, isName := t.(string)
	if !isName {
		// {"type": {...}} or {"type": [...]}: the type itself
		return p.parse(t, ns, join(path, "type"))
	}
	var s *Schema
	var err error
	switch name {
	case "record", "error":
		s, err = p.record(o, ns, path)
	case "enum":
		s, err = p.enum(o, ns, path)
	case "fixed":
		s, err = p.fixed(o, ns, path)
	case "array":
		items, ok := o["items"]
		if !ok {
			return nil, &SchemaError{path, `array without "items"`}
		}
		s = &Schema{Kind: Array}
		s.Items, err = p.parse(items, ns, join(path, "items"))
	case "map":
		values, ok := o["values"]
		if !ok {
			return nil, &SchemaError{path, `map without "values"`}
		}
		s = &Schema{Kind: Map}
		s.Values, err = p.parse(values, ns, join(path, "values"))
	default:
		k, prim := primitives[name]
		if !prim {
			// a named type referenced in object form
			s, err = p.named(name, ns, path)
			if err != nil {
				return nil, err
			}
			break
		}
		s = &Schema{Kind: k}
	}
	if err != nil {
		return nil, err
	}
	if lt, ok := str(o, "logicalType"); ok {
		if err := logical(s, lt, o, path); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// logical applies logical type lt to s where it is valid; the
// specification says an invalid one is ignored, except decimal whose
// attributes are wrong, which is an error here (silently writing bytes
// where a decimal was meant would surprise).
func logical(s *Schema, lt string, o map[string]any, path string) error {
	switch {
	case lt == TimestampMillis && s.Kind == Long, lt == TimestampMicros && s.Kind == Long, lt == Date && s.Kind == Int:
		s.Logical = lt
	case lt == Decimal && (s.Kind == Bytes || s.Kind == Fixed):
		prec, ok, err := intAttr(o, "precision", path)
		if err != nil {
			return err
		}
		if !ok || prec < 1 {
			return &SchemaError{path, "decimal without a positive \"precision\""}
		}
		scale, _, err := intAttr(o, "scale", path)
		if err != nil {
			return err
		}
		if scale > prec {
			return &SchemaError{path, fmt.Sprintf("decimal scale %d is above its precision %d", scale, prec)}
		}
		if s.Kind == Fixed {
			// the largest precision a fixed of that size holds
			if max := maxPrecision(s.Size); prec > max {
				return &SchemaError{path, fmt.Sprintf("decimal precision %d does not fit a fixed of %d bytes (at most %d)", prec, s.Size, max)}
			}
		}
		s.Logical, s.Precision, s.Scale = Decimal, prec, scale
	}
	return nil
}

func (p *parser) fullNameOf(o map[string]any, ns, path string) (string, string, error) {
	name, ok := str(o, "name")
	if !ok || name == "" {
		return "", "", &SchemaError{path, `named type without a "name"`}
	}
	if n, ok := str(o, "namespace"); ok && !strings.Contains(name, ".") {
		ns = n
	}
	full := fullName(name, ns)
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		ns = full[:i]
	} else {
		ns = ""
	}
	for _, part := range strings.Split(full, ".") {
		if !validName(part) {
			return "", "", &SchemaError{join(path, "name"), fmt.Sprintf("%q is not a valid name ([A-Za-z_][A-Za-z0-9_]*)", full)}
		}
	}
	if p.names[full] != nil || p.open[full] {
		return "", "", &SchemaError{join(path, "name"), fmt.Sprintf("type %q is defined twice", full)}
	}
	return full, ns, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (p *parser) record(o map[string]any, ns, path string) (*Schema, error) {
	full, ns, err := p.fullNameOf(o, ns, path)
	if err != nil {
		return nil, err
	}
	fs, ok := o["fields"].([]any)
	if !ok {
		return nil, &SchemaError{path, fmt.Sprintf("record %q: want \"fields\", an array", full)}
	}
	p.open[full] = true
	defer delete(p.open, full)
	s := &Schema{Kind: Record, Name: full}
	seen := map[string]bool{}
	for i, f := range fs {
		fp := fmt.Sprintf("%s.fields[%d]", path, i)
		if path == "" {
			fp = fmt.Sprintf("fields[%d]", i)
		}
		fo, ok := f.(map[string]any)
		if !ok {
			return nil, &SchemaError{fp, "want an object"}
		}
		name, _ := str(fo, "name")
		if !validName(name) {
			return nil, &SchemaError{fp, fmt.Sprintf("field name %q is not valid ([A-Za-z_][A-Za-z0-9_]*)", name)}
		}
		if seen[name] {
			return nil, &SchemaError{fp, fmt.Sprintf("field %q appears twice", name)}
		}
		seen[name] = true
		t, ok := fo["type"]
		if !ok {
			return nil, &SchemaError{fp, fmt.Sprintf("field %q has no \"type\"", name)}
		}
		ft, err := p.parse(t, ns, join(fp, "type"))
		if err != nil {
			return nil, err
		}
		field := &Field{Name: name, Type: ft}
		if d, ok := fo["default"]; ok {
			// a union's default is of its first branch
			dt := ft
			if ft.Kind == Union {
				dt = ft.Branches[0]
			}
			v, err := coerceDefault(dt, d)
			if err != nil {
				return nil, &SchemaError{join(fp, "default"), err.Error()}
			}
			if ft.Kind == Union {
				v = UnionValue{Index: 0, Value: v}
			}
			field.HasDefault, field.Default = true, v
		}
		s.Fields = append(s.Fields, field)
	}
	p.names[full] = s
	return s, nil
}

func (p *parser) enum(o map[string]any, ns, path string) (*Schema, error) {
	full, _, err := p.fullNameOf(o, ns, path)
	if err != nil {
		return nil, err
	}
	syms, ok := o["symbols"].([]any)
	if !ok || len(syms) == 0 {
		return nil, &SchemaError{path, fmt.Sprintf("enum %q: want \"symbols\", a non-empty array", full)}
	}
	s := &Schema{Kind: Enum, Name: full}
	for i, x := range syms {
		sym, ok := x.(string)
		if !ok || !validName(sym) || slices.Contains(s.Symbols, sym) {
			return nil, &SchemaError{fmt.Sprintf("%s.symbols[%d]", path, i), fmt.Sprintf("symbol %v: want a unique name", x)}
		}
		s.Symbols = append(s.Symbols, sym)
	}
	p.names[full] = s
	return s, nil
}

func (p *parser) fixed(o map[string]any, ns, path string) (*Schema, error) {
	full, _, err := p.fullNameOf(o, ns, path)
	if err != nil {
		return nil, err
	}
	size, ok, err := intAttr(o, "size", path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &SchemaError{path, fmt.Sprintf("fixed %q without \"size\"", full)}
	}
	s := &Schema{Kind: Fixed, Name: full, Size: size}
	p.names[full] = s
	return s, nil
}

// MaxPrecision is the most decimal digits a two's complement of n bytes
// holds.
func MaxPrecision(n int) int { return maxPrecision(n) }

// maxPrecision is the most decimal digits a two's complement of n bytes
// holds: floor(log10(2^(8n-1) - 1)).
func maxPrecision(n int) int {
	if n <= 0 {
		return 0
	}
	if n > 64 {
		n = 64
	}
	// digits of 2^(8n-1)-1
	return int(float64(8*n-1) * 0.30102999566398120) // log10(2)
}
