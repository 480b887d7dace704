package multilang

import (
	"bytes"
	"encoding/json"
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
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var vs []any
	if err := dec.Decode(&vs); err != nil {
		return nil, err
	}
	for i, v := range vs {
		vs[i] = fromJSON(v)
	}
	return vs, nil
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
