package builtin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// What the json bolt does with a record that is not JSON.
const (
	// OnErrorStream emits {raw, error} on the "errors" stream and acks.
	OnErrorStream = "stream"
	// OnErrorFail fails the tuple (its spout replays it).
	OnErrorFail = "fail"
	// OnErrorDrop acks the tuple and counts it (JSON.Dropped).
	OnErrorDrop = "drop"
)

// ErrorStream is the stream on which the json bolt emits the records it
// cannot parse, with fields ErrorFields.
const ErrorStream = "errors"

// ErrorFields are the fields of ErrorStream: the record as text and the
// parse error's message.
var ErrorFields = tuple.Fields{"raw", "error"}

// JSONConfig configures the "json" bolt.
type JSONConfig struct {
	// Field holds the JSON text, a string or []byte (anything else is
	// formatted with tuple.AsString); "" (the default) means the tuple's
	// first value.
	Field string `json:"field"`
	// Paths select the values to emit, one output field each: keys
	// separated by dots and array indexes in brackets, e.g. "user.name",
	// "tags[0]", "matrix[1][2]". Required.
	Paths []string `json:"paths"`
	// As names the output fields, one per path; by default each is the
	// path's last key ("user.name" -> "name", "tags[0]" -> "tags").
	As []string `json:"as,omitempty"`
	// OnError is "stream" (default), "fail" or "drop"; see OnErrorStream,
	// OnErrorFail and OnErrorDrop.
	OnError string `json:"on_error"`
}

// NewJSONConfig returns the defaults, which are not valid until Paths is
// set.
func NewJSONConfig() *JSONConfig { return &JSONConfig{OnError: OnErrorStream} }

// Validate checks the paths and the output names.
func (c *JSONConfig) Validate() error {
	_, _, err := c.compile()
	return err
}

// OutputFields returns the names of the emitted fields.
func (c *JSONConfig) OutputFields() (tuple.Fields, error) {
	_, names, err := c.compile()
	return names, err
}

// compile parses the paths and names the output fields.
func (c *JSONConfig) compile() ([][]pathStep, tuple.Fields, error) {
	switch c.OnError {
	case OnErrorStream, OnErrorFail, OnErrorDrop:
	default:
		return nil, nil, fmt.Errorf("%w: on_error: want %q, %q or %q, got %q",
			ErrInvalidConfig, OnErrorStream, OnErrorFail, OnErrorDrop, c.OnError)
	}
	if len(c.Paths) == 0 {
		return nil, nil, fmt.Errorf("%w: paths: want at least one path", ErrInvalidConfig)
	}
	if c.As != nil && len(c.As) != len(c.Paths) {
		return nil, nil, fmt.Errorf("%w: as: want one name per path (%d), got %d", ErrInvalidConfig, len(c.Paths), len(c.As))
	}
	paths := make([][]pathStep, len(c.Paths))
	names := make(tuple.Fields, len(c.Paths))
	seen := map[string]int{}
	for i, p := range c.Paths {
		steps, err := parsePath(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: paths[%d]: %w", ErrInvalidConfig, i, err)
		}
		paths[i] = steps
		if c.As != nil {
			names[i] = c.As[i]
		} else {
			for _, s := range steps {
				if !s.isIndex {
					names[i] = s.key
				}
			}
		}
		if names[i] == "" {
			return nil, nil, fmt.Errorf("%w: as[%d]: want a field name for path %q", ErrInvalidConfig, i, p)
		}
		if j, dup := seen[names[i]]; dup {
			return nil, nil, fmt.Errorf("%w: paths %q and %q both make field %q: name them with \"as\"",
				ErrInvalidConfig, c.Paths[j], p, names[i])
		}
		seen[names[i]] = i
	}
	return paths, names, nil
}

// pathStep is one step of a path: an object key or an array index.
type pathStep struct {
	key     string
	index   int
	isIndex bool
}

// parsePath reads "a.b[0].c" into steps.
func parsePath(p string) ([]pathStep, error) {
	if p == "" {
		return nil, errors.New("empty path")
	}
	var steps []pathStep
	rest := p
	for rest != "" {
		if rest[0] == '[' {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("path %q: missing ]", p)
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("path %q: index %q is not a number >= 0", p, rest[1:end])
			}
			steps = append(steps, pathStep{index: n, isIndex: true})
			rest = rest[end+1:]
			if rest != "" && rest[0] != '[' {
				if rest[0] != '.' || len(rest) == 1 {
					return nil, fmt.Errorf("path %q: want . or [ after ]", p)
				}
				rest = rest[1:]
			}
			continue
		}
		end := strings.IndexAny(rest, ".[]")
		if end < 0 {
			end = len(rest)
		}
		if end == 0 || end < len(rest) && rest[end] == ']' {
			return nil, fmt.Errorf("path %q: empty key or stray ]", p)
		}
		steps = append(steps, pathStep{key: rest[:end]})
		rest = rest[end:]
		if rest != "" && rest[0] == '.' {
			rest = rest[1:]
			if rest == "" {
				return nil, fmt.Errorf("path %q: ends with .", p)
			}
		}
	}
	return steps, nil
}

// lookup follows steps into v; it returns nil when a step does not apply.
func lookup(v any, steps []pathStep) any {
	for _, s := range steps {
		switch x := v.(type) {
		case map[string]any:
			if s.isIndex {
				return nil
			}
			v = x[s.key]
		case []any:
			if !s.isIndex || s.index >= len(x) {
				return nil
			}
			v = x[s.index]
		default:
			return nil
		}
	}
	return v
}

// JSONType is the "json" bolt type.
func JSONType() registry.Bolt[JSONConfig] {
	return registry.Bolt[JSONConfig]{
		Name:   "json",
		Doc:    "parses a JSON field and emits the values at the configured paths",
		Config: NewJSONConfig,
		Outputs: registry.Declare(func(c *JSONConfig, inputs []tuple.Fields) (topology.Streams, error) {
			if err := checkField(c.Field, inputs); err != nil {
				return nil, err
			}
			names, err := c.OutputFields()
			if err != nil {
				return nil, err
			}
			s := topology.Streams{tuple.DefaultStream: names}
			if c.OnError == OnErrorStream {
				s[ErrorStream] = ErrorFields
			}
			return s, nil
		}),
		New: func(c *JSONConfig) (bolt.Bolt, error) { return NewJSON(c) },
	}
}

// JSON is the "json" bolt. For each input it parses the field as JSON
// (numbers are kept as json.Number, objects as map[string]any, arrays as
// []any) and emits the value at each path (nil when absent), anchored to
// the input, then acks it. A record that is not JSON is handled as
// OnError says. Tick tuples are ignored.
//
// Dropped may be called from any goroutine.
type JSON struct {
	cfg     JSONConfig
	paths   [][]pathStep
	out     bolt.Collector
	dropped atomic.Int64
}

var _ bolt.Bolt = (*JSON)(nil)

// NewJSON returns a json bolt for cfg, which is validated.
func NewJSON(cfg *JSONConfig) (*JSON, error) {
	paths, _, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	return &JSON{cfg: *cfg, paths: paths}, nil
}

// Prepare keeps out.
func (j *JSON) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	j.out = out
	return nil
}

// Execute parses one record.
func (j *JSON) Execute(_ context.Context, t *tuple.Tuple) error {
	if t.IsTick() {
		j.out.Ack(t)
		return nil
	}
	v, err := fieldValue(t, j.cfg.Field)
	if err != nil {
		j.out.ReportError(fmt.Errorf("json: %w", err))
		j.out.Ack(t)
		return nil
	}
	var raw []byte
	switch x := v.(type) {
	case []byte:
		raw = x
	case string:
		raw = []byte(x)
	default:
		raw = []byte(tuple.AsString(v))
	}
	doc, err := parseJSON(raw)
	if err != nil {
		switch j.cfg.OnError {
		case OnErrorFail:
			j.out.ReportError(fmt.Errorf("json: record %q: %w", shorten(raw), err))
			j.out.Fail(t)
		case OnErrorDrop:
			j.dropped.Add(1)
			j.out.Ack(t)
		default:
			j.out.EmitTo(ErrorStream, []*tuple.Tuple{t}, tuple.Values{string(raw), err.Error()})
			j.out.Ack(t)
		}
		return nil
	}
	vals := make(tuple.Values, len(j.paths))
	for i, p := range j.paths {
		vals[i] = lookup(doc, p)
	}
	j.out.Emit(t, vals)
	j.out.Ack(t)
	return nil
}

// parseJSON decodes exactly one JSON value, numbers as json.Number.
func parseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrNotJSON)
	}
	return v, nil
}

// shorten cuts a record for an error message.
func shorten(b []byte) string {
	const maxLen = 80
	if len(b) <= maxLen {
		return string(b)
	}
	return string(b[:maxLen]) + "..."
}

// Dropped returns the number of records dropped with on_error "drop".
func (j *JSON) Dropped() int64 { return j.dropped.Load() }

// Cleanup does nothing.
func (j *JSON) Cleanup() error { return nil }
