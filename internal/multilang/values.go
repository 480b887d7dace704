package multilang

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Values cross the pipe as JSON. Going to the subprocess, strings and
// []byte become JSON strings ([]byte is taken as UTF-8 text; invalid bytes
// become U+FFFD, so binary data must be encoded upstream), integers and
// floats become numbers (NaN and infinities cannot be encoded), and
// anything else is encoded with encoding/json. Coming back, JSON numbers
// that are integers and fit become int64, other numbers float64, arrays
// []any and objects map[string]any.

func appendString(b []byte, s string) []byte {
	// Fast path for plain ASCII without characters that need escaping.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			enc, _ := marshal(s) // strings always encode
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendInt(b []byte, i int64) []byte { return strconv.AppendInt(b, i, 10) }

func appendValues(b []byte, vs []any) ([]byte, error) {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendValue(b, v); err != nil {
			return b, fmt.Errorf("%w: value %d: %w", ErrEncode, i, err)
		}
	}
	return append(b, ']'), nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case []byte:
		return appendString(b, string(x)), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return appendInt(b, int64(x)), nil
	case int64:
		return appendInt(b, x), nil
	case int32:
		return appendInt(b, int64(x)), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return b, fmt.Errorf("unsupported float %v", x)
		}
	}
	enc, err := marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, enc...), nil
}

// marshal is json.Marshal without HTML escaping and without the trailing
// newline of json.Encoder.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// decodeValues decodes a JSON array into Go values (see above).
func decodeValues(raw json.RawMessage) ([]any, error) {
	d := valueDecoder{b: raw}
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return nil, errors.New("not a JSON array")
	}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i != len(d.b) {
		return nil, errors.New("trailing data after the array")
	}
	return v.([]any), nil
}

// valueDecoder is a small JSON decoder for tuple values: the hot path of
// every emit. It decodes numbers as fromJSON does, without reflection.
type valueDecoder struct {
	b     []byte
	i     int
	depth int
}

// maxDepth caps nesting, like encoding/json.
const maxDepth = 10000

var errSyntax = errors.New("invalid JSON value")

func (d *valueDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *valueDecoder) value() (any, error) {
	d.space()
	if d.i >= len(d.b) {
		return nil, errSyntax
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.str()
	case c == '[':
		if d.depth++; d.depth > maxDepth {
			return nil, errSyntax
		}
		defer func() { d.depth-- }()
		d.i++
		out := []any{}
		d.space()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return out, nil
		}
		for {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			d.space()
			if d.i >= len(d.b) {
				return nil, errSyntax
			}
			d.i++
			switch d.b[d.i-1] {
			case ',':
			case ']':
				return out, nil
			default:
				return nil, errSyntax
			}
		}
	case c == '{':
		if d.depth++; d.depth > maxDepth {
			return nil, errSyntax
		}
		defer func() { d.depth-- }()
		d.i++
		out := map[string]any{}
		d.space()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return out, nil
		}
		for {
			d.space()
			if d.i >= len(d.b) || d.b[d.i] != '"' {
				return nil, errSyntax
			}
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			d.space()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return nil, errSyntax
			}
			d.i++
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			out[k] = v
			d.space()
			if d.i >= len(d.b) {
				return nil, errSyntax
			}
			d.i++
			switch d.b[d.i-1] {
			case ',':
			case '}':
				return out, nil
			default:
				return nil, errSyntax
			}
		}
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []struct {
			text string
			v    any
		}{{"true", true}, {"false", false}, {"null", nil}} {
			if bytes.HasPrefix(d.b[d.i:], []byte(lit.text)) {
				d.i += len(lit.text)
				return lit.v, nil
			}
		}
		return nil, errSyntax
	default:
		start := d.i
		for d.i < len(d.b) {
			c := d.b[d.i]
			if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				d.i++
				continue
			}
			break
		}
		num := d.b[start:d.i]
		if len(num) == 0 || !json.Valid(num) {
			return nil, errSyntax
		}
		return fromJSON(json.Number(num)), nil
	}
}

// str decodes a string starting at d.i.
func (d *valueDecoder) str() (string, error) {
	start := d.i
	d.i++
	simple := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '\\':
			simple = false
			d.i += 2
			continue
		case c == '"':
			d.i++
			tok := d.b[start:d.i]
			if simple && utf8.Valid(tok) {
				return string(tok[1 : len(tok)-1]), nil
			}
			var s string // escapes or invalid UTF-8: encoding/json's rules
			if err := json.Unmarshal(tok, &s); err != nil {
				return "", errSyntax
			}
			return s, nil
		case c < 0x20:
			return "", errSyntax
		}
		d.i++
	}
	return "", errSyntax
}

// fromJSON converts json.Number leaves into int64 or float64.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return f
		}
		return x // out of float range: keep the text
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fromJSON(x[k])
		}
	}
	return v
}
