package topology

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DecodeConfig decodes the JSON raw into into, which must be a non-nil
// pointer, strictly: unknown fields, wrong types, fractions for integers
// and overflows are errors. It reports every problem at once as *Errors,
// each located by its path below pathPrefix, e.g.
// "bolts[2].config.fields[1]: want a string, got number 3".
//
// Fields absent from raw keep the values into already holds (the
// defaults). An empty raw or null decodes nothing. After a successful
// decode, into's `Validate() error` method, if any, is called; its error is
// reported at pathPrefix.
//
// Supported Go types: structs (json tags, embedded structs, `json:"-"`;
// names match exactly), string, bool, every int and uint kind, floats,
// slices ([]byte reads base64 as in encoding/json), arrays (of exactly
// their length), maps with string keys, pointers, interfaces without
// methods (any: JSON's generic values, numbers as float64),
// json.RawMessage, json.Number, time.Duration and Duration (a string
// such as "1.5s", or a number of seconds), and types implementing
// json.Unmarshaler or, for JSON strings, encoding.TextUnmarshaler (their
// error is reported at the value's path).
func DecodeConfig(raw json.RawMessage, into any, pathPrefix string) error {
	rv := reflect.ValueOf(into)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode config into %T: %w: want a non-nil pointer", into, ErrBadTarget)
	}
	var errs errList
	decodeConfigInto(&errs, raw, rv, pathPrefix)
	return errs.err()
}

// decodeConfigInto decodes raw into the pointer rv and runs its Validate
// hook when decoding went well.
func decodeConfigInto(errs *errList, raw []byte, rv reflect.Value, path string) {
	before := errs.len()
	if len(bytes.TrimSpace(raw)) > 0 {
		n, fe := parseJSON(raw, path)
		if fe != nil {
			errs.addErr(fe)
			return
		}
		if n.kind != nNull {
			d := &configDecoder{errs: errs}
			d.decode(n, path, rv.Elem())
		}
	}
	if errs.len() > before {
		return
	}
	if v, ok := rv.Interface().(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			addValidateErr(errs, path, err)
		}
	}
}

// addValidateErr adds the error of a config's Validate hook: at path, or
// below it when the hook names a field with a *FieldError (its Path
// relative to the config); joined *FieldErrors (errors.Join) one by one.
// Other errors that wrap several (fmt.Errorf with two %w) stay whole.
func addValidateErr(errs *errList, path string, err error) {
	if fes, ok := fieldErrors(err); ok {
		for _, fe := range fes {
			errs.addErr(&FieldError{Path: joinPath(path, fe.Path), Msg: fe.Msg, Err: fe.Err})
		}
		return
	}
	errs.addErr(&FieldError{Path: path, Msg: err.Error(), Err: err})
}

// fieldErrors returns the *FieldErrors err is or joins, and whether it
// is nothing else.
func fieldErrors(err error) ([]*FieldError, bool) {
	switch e := err.(type) {
	case *FieldError:
		return []*FieldError{e}, true
	case interface{ Unwrap() []error }:
		var out []*FieldError
		for _, inner := range e.Unwrap() {
			fes, ok := fieldErrors(inner)
			if !ok {
				return nil, false
			}
			out = append(out, fes...)
		}
		return out, len(out) > 0
	}
	return nil, false
}

// decodeSettings implements ComponentType.DecodeSettings.
func decodeSettings(t *ComponentType, raw json.RawMessage, prefix string) (any, error) {
	var errs errList
	settings := componentSettings(&errs, t, raw, prefix)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return settings, nil
}

// componentSettings decodes a component's config, adding problems to errs.
func componentSettings(errs *errList, t *ComponentType, raw json.RawMessage, prefix string) any {
	if t.NewConfig == nil {
		if len(bytes.TrimSpace(raw)) == 0 {
			return nil
		}
		n, fe := parseJSON(raw, prefix)
		if fe != nil {
			errs.addErr(fe)
			return nil
		}
		if n.kind == nNull || n.kind == nObject && len(n.keys) == 0 {
			return nil
		}
		errs.add(prefix, ErrInvalid, "%s type %q takes no config", t.Kind, t.Name)
		return nil
	}
	cfg := t.NewConfig()
	rv := reflect.ValueOf(cfg)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		errs.add(prefix, ErrBadTarget, "%s type %q: NewConfig returned %T, want a non-nil pointer", t.Kind, t.Name, cfg)
		return nil
	}
	decodeConfigInto(errs, raw, rv, prefix)
	return cfg
}

// ParseDuration reads a JSON duration: a string in Go's syntax ("1.5s",
// "200ms") or a number of seconds (1.5).
func ParseDuration(b []byte) (time.Duration, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: want a duration, got nothing", ErrType)
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, fmt.Errorf("%w: want a duration, got %s", ErrSyntax, quoteShort(string(b)))
		}
		return parseDurationString(s)
	}
	if b[0] == '-' || b[0] >= '0' && b[0] <= '9' {
		if !json.Valid(b) {
			return 0, fmt.Errorf("%w: want a duration, got %s", ErrSyntax, quoteShort(string(b)))
		}
		return durationFromSeconds(string(b))
	}
	return 0, fmt.Errorf("%w: want a duration (\"1.5s\") or a number of seconds, got %s", ErrType, quoteShort(string(b)))
}

func parseDurationString(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: want a duration such as \"1.5s\" or \"200ms\", got string %s", ErrType, quoteShort(s))
	}
	return d, nil
}

func durationFromSeconds(lit string) (time.Duration, error) {
	secs, err := strconv.ParseFloat(lit, 64)
	ns := math.Round(secs * 1e9)
	if err != nil || ns >= math.MaxInt64 || ns <= math.MinInt64 {
		return 0, fmt.Errorf("%w: duration of %s seconds is out of range", ErrType, lit)
	}
	return time.Duration(ns), nil
}

var (
	durationType     = reflect.TypeFor[time.Duration]()
	topoDurationType = reflect.TypeFor[Duration]()
	rawMessageType   = reflect.TypeFor[json.RawMessage]()
	numberType       = reflect.TypeFor[json.Number]()
	unmarshalerType  = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshType  = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// configDecoder walks a JSON tree against a Go value.
type configDecoder struct {
	errs *errList
}

func (d *configDecoder) typeErr(n *node, path, want string) {
	d.errs.add(path, ErrType, "want %s, got %s", want, n.describe())
}

// decode fills v (settable) from n.
func (d *configDecoder) decode(n *node, path string, v reflect.Value) {
	t := v.Type()
	switch t {
	case durationType, topoDurationType:
		var dur time.Duration
		var err error
		switch n.kind {
		case nString:
			dur, err = parseDurationString(n.str)
		case nNumber:
			dur, err = durationFromSeconds(n.str)
		default:
			d.typeErr(n, path, `a duration ("1.5s") or a number of seconds`)
			return
		}
		if err != nil {
			d.errs.add(path, ErrType, "%s", strings.TrimPrefix(err.Error(), ErrType.Error()+": "))
			return
		}
		v.SetInt(int64(dur))
		return
	case rawMessageType:
		v.SetBytes(slices.Clone(n.raw))
		return
	case numberType:
		if n.kind != nNumber {
			d.typeErr(n, path, "a number")
			return
		}
		v.SetString(n.str)
		return
	}
	if t.Kind() == reflect.Pointer {
		if n.kind == nNull {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, path, v.Elem())
		return
	}
	if v.CanAddr() {
		pt := reflect.PointerTo(t)
		if pt.Implements(unmarshalerType) {
			if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(n.raw); err != nil {
				d.errs.addErr(&FieldError{Path: path, Msg: err.Error(), Err: err})
			}
			return
		}
		if pt.Implements(textUnmarshType) && n.kind == nString {
			if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.str)); err != nil {
				d.errs.addErr(&FieldError{Path: path, Msg: err.Error(), Err: err})
			}
			return
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() != 0 {
			d.errs.add(path, ErrBadTarget, "cannot decode into Go type %s", t)
			return
		}
		if g, ok := d.generic(n, path); ok {
			if g == nil {
				v.SetZero()
			} else {
				v.Set(reflect.ValueOf(g))
			}
		}
	case reflect.Struct:
		d.structValue(n, path, v)
	case reflect.Map:
		d.mapValue(n, path, v)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && n.kind == nString {
			b, err := base64.StdEncoding.DecodeString(n.str)
			if err != nil {
				d.typeErr(n, path, "a base64 string")
				return
			}
			v.SetBytes(b)
			return
		}
		if n.kind == nNull {
			v.SetZero()
			return
		}
		if n.kind != nArray {
			d.typeErr(n, path, "an array")
			return
		}
		s := reflect.MakeSlice(t, len(n.elems), len(n.elems))
		for i, e := range n.elems {
			d.decode(e, indexPath(path, i), s.Index(i))
		}
		v.Set(s)
	case reflect.Array:
		if n.kind != nArray {
			d.typeErr(n, path, fmt.Sprintf("an array of %d elements", t.Len()))
			return
		}
		if len(n.elems) != t.Len() {
			d.errs.add(path, ErrType, "want an array of %d elements, got %d elements", t.Len(), len(n.elems))
			return
		}
		for i, e := range n.elems {
			d.decode(e, indexPath(path, i), v.Index(i))
		}
	case reflect.String:
		if n.kind != nString {
			d.typeErr(n, path, "a string")
			return
		}
		v.SetString(n.str)
	case reflect.Bool:
		if n.kind != nBool {
			d.typeErr(n, path, "a boolean")
			return
		}
		v.SetBool(n.bool)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if i, ok := d.integer(n, path, t); ok {
			v.SetInt(i)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u, ok := d.unsigned(n, path, t); ok {
			v.SetUint(u)
		}
	case reflect.Float32, reflect.Float64:
		if n.kind != nNumber {
			d.typeErr(n, path, "a number")
			return
		}
		f, err := strconv.ParseFloat(n.str, t.Bits())
		if err != nil {
			d.errs.add(path, ErrType, "number %s is out of range for %s", n.str, t)
			return
		}
		v.SetFloat(f)
	default:
		d.errs.add(path, ErrBadTarget, "cannot decode into Go type %s", t)
	}
}

// integer reads a whole number that fits t.
func (d *configDecoder) integer(n *node, path string, t reflect.Type) (int64, bool) {
	if n.kind != nNumber {
		d.typeErr(n, path, "an integer")
		return 0, false
	}
	i, err := strconv.ParseInt(n.str, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(n.str, 64)
		switch {
		case ferr == nil && f != math.Trunc(f):
			d.typeErr(n, path, "an integer")
			return 0, false
		case ferr == nil && math.Abs(f) < 1<<53:
			i, err = int64(f), nil
		}
	}
	if err != nil || v0(t).OverflowInt(i) {
		bits := t.Bits()
		d.errs.add(path, ErrType, "number %s is out of range for %s (%d..%d)",
			n.str, t, int64(-1)<<(bits-1), uint64(1)<<(bits-1)-1)
		return 0, false
	}
	return i, true
}

// unsigned reads a non-negative whole number that fits t.
func (d *configDecoder) unsigned(n *node, path string, t reflect.Type) (uint64, bool) {
	if n.kind != nNumber {
		d.typeErr(n, path, "a non-negative integer")
		return 0, false
	}
	u, err := strconv.ParseUint(n.str, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(n.str, 64)
		switch {
		case ferr == nil && (f != math.Trunc(f) || f < 0):
			d.typeErr(n, path, "a non-negative integer")
			return 0, false
		case ferr == nil && f < 1<<53:
			u, err = uint64(f), nil
		case strings.HasPrefix(n.str, "-"):
			d.typeErr(n, path, "a non-negative integer")
			return 0, false
		}
	}
	if err != nil || v0(t).OverflowUint(u) {
		d.errs.add(path, ErrType, "number %s is out of range for %s (0..%d)",
			n.str, t, uint64(math.MaxUint64)>>(64-t.Bits()))
		return 0, false
	}
	return u, true
}

func v0(t reflect.Type) reflect.Value { return reflect.New(t).Elem() }

// generic converts n to JSON's generic Go values.
func (d *configDecoder) generic(n *node, path string) (any, bool) {
	switch n.kind {
	case nNull:
		return nil, true
	case nBool:
		return n.bool, true
	case nString:
		return n.str, true
	case nNumber:
		f, err := strconv.ParseFloat(n.str, 64)
		if err != nil {
			d.errs.add(path, ErrType, "number %s is out of range for float64", n.str)
			return nil, false
		}
		return f, true
	case nArray:
		out := make([]any, len(n.elems))
		ok := true
		for i, e := range n.elems {
			var eok bool
			out[i], eok = d.generic(e, indexPath(path, i))
			ok = ok && eok
		}
		return out, ok
	default:
		out := make(map[string]any, len(n.keys))
		ok := true
		for i, k := range n.keys {
			kp := keyPath(path, k)
			if _, dup := out[k]; dup {
				d.errs.add(kp, ErrDuplicateKey, "duplicate key")
				ok = false
				continue
			}
			var vok bool
			out[k], vok = d.generic(n.vals[i], kp)
			ok = ok && vok
		}
		return out, ok
	}
}

func (d *configDecoder) mapValue(n *node, path string, v reflect.Value) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.errs.add(path, ErrBadTarget, "cannot decode into Go type %s: map keys must be strings", t)
		return
	}
	if n.kind == nNull {
		v.SetZero()
		return
	}
	if n.kind != nObject {
		d.typeErr(n, path, "an object")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(n.keys)))
	}
	seen := make(map[string]bool, len(n.keys))
	for i, k := range n.keys {
		kp := keyPath(path, k)
		if seen[k] {
			d.errs.add(kp, ErrDuplicateKey, "duplicate key")
			continue
		}
		seen[k] = true
		ev := reflect.New(t.Elem()).Elem()
		before := d.errs.len()
		d.decode(n.vals[i], kp, ev)
		if d.errs.len() == before {
			v.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
	}
}

func (d *configDecoder) structValue(n *node, path string, v reflect.Value) {
	if n.kind != nObject {
		d.typeErr(n, path, "an object")
		return
	}
	fields := cachedFields(v.Type())
	seen := make(map[string]bool, len(n.keys))
	for i, k := range n.keys {
		fp := fieldPath(path, k)
		if seen[k] {
			d.errs.add(fp, ErrDuplicateKey, "duplicate key")
			continue
		}
		seen[k] = true
		f, ok := fields.byName[k]
		if !ok {
			known := strings.Join(fields.names, ", ")
			if known == "" {
				known = "(none)"
			}
			d.errs.add(fp, ErrUnknownField, "unknown field; known fields: %s%s", known, didYouMean(k, fields.names))
			continue
		}
		fv, ok := fieldByIndexAlloc(v, f.index)
		if !ok {
			d.errs.add(fp, ErrBadTarget, "cannot set field through an unexported embedded pointer")
			continue
		}
		d.decode(n.vals[i], fp, fv)
	}
}

// fieldByIndexAlloc is v.FieldByIndex, allocating nil embedded pointers.
func fieldByIndexAlloc(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

type structFields struct {
	byName map[string]field
	names  []string // in declaration order
}

type field struct {
	name   string
	index  []int
	tagged bool
}

var fieldCache sync.Map // reflect.Type -> *structFields

func cachedFields(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.(*structFields)
}

// typeFields lists the JSON fields of struct type t with encoding/json's
// rules: tags rename, "-" hides, embedded structs promote their fields,
// and a shallower field hides deeper ones of the same name.
func typeFields(t reflect.Type) *structFields {
	type level struct {
		t     reflect.Type
		index []int
	}
	var all []field
	depthOf := map[string]int{}
	current := []level{{t: t}}
	visited := map[reflect.Type]bool{}
	for depth := 0; len(current) > 0; depth++ {
		var next []level
		var found []field
		for _, lv := range current {
			if visited[lv.t] {
				continue
			}
			visited[lv.t] = true
			for i := 0; i < lv.t.NumField(); i++ {
				sf := lv.t.Field(i)
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				index := append(slices.Clone(lv.index), i)
				if sf.Anonymous && name == "" {
					ft := sf.Type
					isPtr := ft.Kind() == reflect.Pointer
					if isPtr {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct {
						if !sf.IsExported() && isPtr {
							continue
						}
						next = append(next, level{t: ft, index: index})
						continue
					}
				}
				if !sf.IsExported() {
					continue
				}
				tagged := name != ""
				if !tagged {
					name = sf.Name
				}
				found = append(found, field{name: name, index: index, tagged: tagged})
			}
		}
		// Resolve names at this depth: names seen shallower are hidden;
		// several at this depth cancel out unless exactly one is tagged.
		byName := map[string][]field{}
		var order []string
		for _, f := range found {
			if _, shallower := depthOf[f.name]; shallower {
				continue
			}
			if _, ok := byName[f.name]; !ok {
				order = append(order, f.name)
			}
			byName[f.name] = append(byName[f.name], f)
		}
		for _, name := range order {
			fs := byName[name]
			depthOf[name] = depth
			if len(fs) == 1 {
				all = append(all, fs[0])
				continue
			}
			var tagged []field
			for _, f := range fs {
				if f.tagged {
					tagged = append(tagged, f)
				}
			}
			if len(tagged) == 1 {
				all = append(all, tagged[0])
			}
		}
		current = next
	}
	slices.SortFunc(all, func(a, b field) int { return slices.Compare(a.index, b.index) })
	sf := &structFields{byName: make(map[string]field, len(all))}
	for _, f := range all {
		sf.byName[f.name] = f
		sf.names = append(sf.names, f.name)
	}
	return sf
}
