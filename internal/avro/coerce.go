package avro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// UnionValue is a union's value in the canonical form: the branch taken
// and its value.
type UnionValue struct {
	Index int
	Value any
}

// Coerce turns v into the canonical form of a value of s, which the
// encoders take:
//
//	null -> nil; boolean -> bool; int -> int32; long -> int64;
//	float -> float32; double -> float64; string -> string;
//	bytes, fixed -> []byte; enum -> int (the symbol's index);
//	record -> []any (in field order); array -> []any;
//	map -> map[string]any; union -> UnionValue;
//	timestamp-millis/-micros -> int64 in that unit; date -> int32 days;
//	decimal -> *big.Int, the unscaled value.
//
// It accepts what Gale's deserializers emit: Avro and Protobuf records
// decoded to Go values (map[string]any, []any, the Go numbers, []byte,
// time.Time, decimals as text), JSON decoded with json.Number, and JSON
// text ([]byte or string) where a record is wanted. Numbers convert when
// they fit (a long into an int only in range; a float into a long only
// when it is integral). A timestamp takes a time.Time, RFC 3339 text or
// a number in the field's unit (Unix milliseconds or microseconds); a
// date a time.Time, "YYYY-MM-DD" or a number of days. Fields missing
// from a record take their default, or null when their type admits it;
// fields the schema does not name are dropped. path names v in errors.
func Coerce(s *Schema, v any, path string) (any, error) {
	return coerce(s, v, path)
}

func bad(path string, s *Schema, v any) error {
	want := s.Kind.String()
	if s.Logical != "" {
		want = s.Logical
	}
	if s.Name != "" {
		want += " " + s.Name
	}
	return &ValueError{path, fmt.Sprintf("want %s, got %s", want, describe(v))}
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return "string " + strconv.Quote(x)
	case []byte:
		return fmt.Sprintf("%d bytes", len(x))
	case json.Number:
		return "number " + x.String()
	}
	return fmt.Sprintf("%T %v", v, v)
}

func coerce(s *Schema, v any, path string) (any, error) {
	switch s.Kind {
	case Null:
		if v == nil {
			return nil, nil
		}
	case Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case Int:
		if s.Logical == Date {
			return coerceDate(s, v, path)
		}
		if n, ok := toInt(v); ok && n >= math.MinInt32 && n <= math.MaxInt32 {
			return int32(n), nil
		}
	case Long:
		if s.Logical == TimestampMillis || s.Logical == TimestampMicros {
			return coerceTimestamp(s, v, path)
		}
		if n, ok := toInt(v); ok {
			return n, nil
		}
	case Float:
		if f, ok := toFloat(v); ok {
			return float32(f), nil
		}
	case Double:
		if f, ok := toFloat(v); ok {
			return f, nil
		}
	case String:
		switch x := v.(type) {
		case string:
			if utf8.ValidString(x) {
				return x, nil
			}
			return nil, &ValueError{path, "string is not valid UTF-8"}
		case []byte:
			if utf8.Valid(x) {
				return string(x), nil
			}
			return nil, &ValueError{path, "bytes are not valid UTF-8 text"}
		}
	case Bytes:
		if s.Logical == Decimal {
			return coerceDecimal(s, v, path)
		}
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case Fixed:
		if s.Logical == Decimal {
			return coerceDecimal(s, v, path)
		}
		var b []byte
		switch x := v.(type) {
		case []byte:
			b = x
		case string:
			b = []byte(x)
		default:
			return nil, bad(path, s, v)
		}
		if len(b) != s.Size {
			return nil, &ValueError{path, fmt.Sprintf("fixed %s wants %d bytes, got %d", s.Name, s.Size, len(b))}
		}
		return b, nil
	case Enum:
		if x, ok := v.(string); ok {
			if i := slices.Index(s.Symbols, x); i >= 0 {
				return i, nil
			}
			return nil, &ValueError{path, fmt.Sprintf("%q is not a symbol of enum %s %v", x, s.Name, s.Symbols)}
		}
	case Record:
		return coerceRecord(s, v, path)
	case Array:
		items, ok := asSlice(v)
		if !ok {
			return nil, bad(path, s, v)
		}
		out := make([]any, len(items))
		for i, x := range items {
			c, err := coerce(s.Items, x, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case Map:
		m, ok := asMap(v)
		if !ok {
			return nil, bad(path, s, v)
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			if !utf8.ValidString(k) {
				return nil, &ValueError{path, "map key is not valid UTF-8"}
			}
			c, err := coerce(s.Values, x, fmt.Sprintf("%s[%q]", path, k))
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case Union:
		return coerceUnion(s, v, path)
	}
	return nil, bad(path, s, v)
}

func coerceUnion(s *Schema, v any, path string) (any, error) {
	if v == nil {
		for i, b := range s.Branches {
			if b.Kind == Null {
				return UnionValue{i, nil}, nil
			}
		}
		return nil, &ValueError{path, "null, and the union has no null branch"}
	}
	if u, ok := v.(UnionValue); ok && u.Index >= 0 && u.Index < len(s.Branches) {
		c, err := coerce(s.Branches[u.Index], u.Value, path)
		if err != nil {
			return nil, err
		}
		return UnionValue{u.Index, c}, nil
	}
	var first error
	for i, b := range s.Branches {
		if b.Kind == Null {
			continue
		}
		c, err := coerce(b, v, path)
		if err == nil {
			return UnionValue{i, c}, nil
		}
		if first == nil {
			first = err
		}
	}
	if len(s.Branches) == 2 && first != nil {
		return nil, first // ["null", T]: T's own error is the clearest
	}
	names := make([]string, len(s.Branches))
	for i, b := range s.Branches {
		names[i] = b.Kind.String()
		if b.Name != "" {
			names[i] = b.Name
		}
	}
	return nil, &ValueError{path, fmt.Sprintf("%s fits no branch of union %v", describe(v), names)}
}

func coerceRecord(s *Schema, v any, path string) (any, error) {
	var m map[string]any
	switch x := v.(type) {
	case string:
		return coerceRecord(s, []byte(x), path)
	case []byte:
		dec := json.NewDecoder(bytes.NewReader(x))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil || m == nil {
			return nil, &ValueError{path, fmt.Sprintf("want record %s, got text that is not a JSON object", s.Name)}
		}
	default:
		var ok bool
		if m, ok = asMap(v); !ok {
			return nil, bad(path, s, v)
		}
	}
	out := make([]any, len(s.Fields))
	for i, f := range s.Fields {
		fp := f.Name
		if path != "" {
			fp = path + "." + f.Name
		}
		x, present := m[f.Name]
		if !present || x == nil {
			switch {
			case present && admitsNull(f.Type):
			case f.HasDefault:
				out[i] = f.Default
				continue
			case admitsNull(f.Type):
			case !present:
				return nil, &ValueError{fp, "missing, and the field has no default"}
			}
		}
		c, err := coerce(f.Type, x, fp)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func admitsNull(s *Schema) bool {
	if s.Kind == Null {
		return true
	}
	if s.Kind == Union {
		for _, b := range s.Branches {
			if b.Kind == Null {
				return true
			}
		}
	}
	return false
}

func coerceTimestamp(s *Schema, v any, path string) (any, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				return n, nil
			}
			return nil, &ValueError{path, fmt.Sprintf("want %s (RFC 3339 text or a number), got %s", s.Logical, describe(v))}
		}
	default:
		if n, ok := toInt(v); ok {
			return n, nil // already in the field's unit
		}
		return nil, bad(path, s, v)
	}
	if s.Logical == TimestampMillis {
		return t.UnixMilli(), nil
	}
	return t.UnixMicro(), nil
}

func coerceDate(s *Schema, v any, path string) (any, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = time.Parse(time.DateOnly, x); err != nil {
			return nil, &ValueError{path, fmt.Sprintf("want date (YYYY-MM-DD or days), got %s", describe(v))}
		}
	default:
		if n, ok := toInt(v); ok && n >= math.MinInt32 && n <= math.MaxInt32 {
			return int32(n), nil
		}
		return nil, bad(path, s, v)
	}
	y, m, d := t.Date()
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	if days < math.MinInt32 || days > math.MaxInt32 {
		return nil, &ValueError{path, "date out of range"}
	}
	return int32(days), nil
}

var ten = big.NewInt(10)

func coerceDecimal(s *Schema, v any, path string) (any, error) {
	var r *big.Rat
	switch x := v.(type) {
	case string:
		r, _ = new(big.Rat).SetString(strings.TrimSpace(x))
	case json.Number:
		r, _ = new(big.Rat).SetString(x.String())
	case *big.Rat:
		r = x
	case *big.Int:
		r = new(big.Rat).SetInt(x)
	case []byte:
		// already the unscaled two's complement (Avro's own form)
		if s.Kind == Fixed && len(x) != s.Size {
			return nil, &ValueError{path, fmt.Sprintf("decimal as fixed wants %d bytes, got %d", s.Size, len(x))}
		}
		n := fromTwos(x)
		return checkDigits(s, n, path)
	default:
		if n, ok := toInt(v); ok {
			r = new(big.Rat).SetInt64(n)
		}
	}
	if r == nil {
		return nil, &ValueError{path, fmt.Sprintf("want decimal(%d,%d) as text, got %s", s.Precision, s.Scale, describe(v))}
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(ten, big.NewInt(int64(s.Scale)), nil)))
	if !scaled.IsInt() {
		return nil, &ValueError{path, fmt.Sprintf("%s has more than %d decimal places (decimal(%d,%d))", describe(v), s.Scale, s.Precision, s.Scale)}
	}
	return checkDigits(s, scaled.Num(), path)
}

func checkDigits(s *Schema, n *big.Int, path string) (any, error) {
	limit := new(big.Int).Exp(ten, big.NewInt(int64(s.Precision)), nil)
	if new(big.Int).Abs(n).Cmp(limit) >= 0 {
		return nil, &ValueError{path, fmt.Sprintf("%s has more than %d digits (decimal(%d,%d))", n, s.Precision, s.Precision, s.Scale)}
	}
	return n, nil
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		return int64(x), x <= math.MaxInt64
	case uint64:
		return int64(x), x <= math.MaxInt64
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, true
		}
		if f, err := x.Float64(); err == nil {
			return floatToInt(f)
		}
	case float32:
		return floatToInt(float64(x))
	case float64:
		return floatToInt(x)
	}
	return 0, false
}

func floatToInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	if n, ok := toInt(v); ok {
		return float64(n), true
	}
	return 0, false
}

// asSlice returns the items of a slice value (not []byte).
func asSlice(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []byte, string, nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// asMap returns the entries of a map with string keys.
func asMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// coerceDefault coerces a field's default (JSON) to its type.
func coerceDefault(s *Schema, d any) (any, error) {
	if s.Kind == Bytes || s.Kind == Fixed {
		// Avro: a string whose code points 0-255 are the bytes
		if str, ok := d.(string); ok && s.Logical != Decimal {
			b := make([]byte, 0, len(str))
			for _, r := range str {
				if r > 255 {
					return nil, fmt.Errorf("bytes default: code point %U above 255", r)
				}
				b = append(b, byte(r))
			}
			d = b
		}
	}
	return coerce(s, d, "")
}
