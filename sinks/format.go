package sinks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gale-stream/gale/internal/avro"
	"github.com/gale-stream/gale/tuple"
)

// Record formats.
const (
	// FormatJSON writes one JSON object per line: the document in Field
	// when set (JSON text is kept as is, compacted), else the tuple's
	// fields (or Fields) as an object with sorted keys.
	FormatJSON = "json"
	// FormatLines writes the text of Field (default "value") per line.
	FormatLines = "lines"
)

// ErrConfig is wrapped by every configuration error of a sink.
var ErrConfig = errors.New("invalid sink configuration")

// Format turns tuples into records: a line (json, lines), or the value of
// the field Field (default "value") coerced to an Avro schema (avro,
// parquet; see avro.Coerce in internal/avro for what converts). Its output depends only on the tuple,
// so that a replay formats identically.
type Format struct {
	Kind string
	// Field selects the document (json) or the text (lines).
	Field string
	// Fields selects the tuple fields of a json object (default: all).
	Fields []string
	// TimeField holds the record's timestamp: Unix milliseconds (an
	// integer or json.Number), a time.Time, or RFC 3339 text.
	TimeField string

	// container holds the schema and settings of the avro and parquet
	// formats (set by Common.Validate).
	container *container
}

// Validate checks the format's settings.
func (f *Format) Validate() error {
	switch f.Kind {
	case FormatJSON, FormatLines:
	case FormatAvro, FormatParquet:
		if f.container == nil {
			return fmt.Errorf("format %q needs an Avro schema (schema or schema_file): %w", f.Kind, ErrConfig)
		}
		if len(f.Fields) > 0 {
			return fmt.Errorf("format %q takes one field (\"field\"), not \"fields\": %w", f.Kind, ErrConfig)
		}
	default:
		return fmt.Errorf("format %q: want %q, %q, %q or %q: %w", f.Kind, FormatJSON, FormatLines, FormatAvro, FormatParquet, ErrConfig)
	}
	if f.Kind == FormatLines && len(f.Fields) > 0 {
		return fmt.Errorf("format %q takes one field (\"field\"), not \"fields\": %w", f.Kind, ErrConfig)
	}
	if f.Field != "" && len(f.Fields) > 0 {
		return fmt.Errorf("\"field\" and \"fields\" exclude each other: %w", ErrConfig)
	}
	return nil
}

// Check tells whether the format's fields exist in fields (the sink's
// input stream); used at validation time.
func (f *Format) Check(fields tuple.Fields) error {
	names := f.Fields
	if f.Field != "" {
		names = append(names, f.Field)
	} else if f.Kind != FormatJSON {
		names = append(names, "value")
	}
	for _, n := range names {
		if !fields.Contains(n) {
			return fmt.Errorf("field %q is not in the input stream %v: %w", n, fields, ErrConfig)
		}
	}
	return nil
}

// Ext returns the file extension of the format, e.g. ".jsonl".
func (f *Format) Ext() string {
	switch f.Kind {
	case FormatLines:
		return ".log"
	case FormatAvro:
		return ".avro"
	case FormatParquet:
		return ".parquet"
	}
	return ".jsonl"
}

// Encoder returns the Encoder of the format's objects: nil (lines) for
// json and lines.
func (f *Format) Encoder() Encoder {
	if f.container == nil {
		return nil
	}
	return f.container
}

// Record formats t.
func (f *Format) Record(t *tuple.Tuple) (Record, error) {
	var r Record
	err := f.recorder().record(&r, t)
	return r, err
}

// recorder formats the tuples of a batch: the fields it reads are looked
// up once per stream, not once per tuple.
func (f *Format) recorder() *recorder {
	field := f.Field
	if field == "" {
		field = "value"
	}
	return &recorder{f: f, field: fieldOf{name: field}, time: fieldOf{name: f.TimeField}}
}

type recorder struct {
	f           *Format
	field, time fieldOf
}

// record formats t into r.
func (c *recorder) record(r *Record, t *tuple.Tuple) error {
	f := c.f
	*r = Record{ID: t.ID, Time: recordTime(c.time.value(t))}
	var err error
	switch f.Kind {
	case FormatLines:
		r.Line = oneLine(c.field.value(t))
	case FormatAvro, FormatParquet:
		if f.container == nil {
			return fmt.Errorf("format %q without a schema: %w", f.Kind, ErrConfig)
		}
		// a value that does not fit the schema: the error names the
		// field's path, and the record goes to the dead letters
		r.Value, err = avro.Coerce(f.container.schema, c.field.value(t), c.field.name)
	default:
		r.Line, err = f.jsonLine(t)
	}
	return err
}

// fieldOf finds a named field's value in tuples. Every tuple of a stream
// shares one Fields slice: the field's index is kept for the last one.
type fieldOf struct {
	name   string
	fields *string // &Fields[0] of the slice index is for
	n      int     // its length
	index  int
}

func (c *fieldOf) value(t *tuple.Tuple) any {
	if c.name == "" || len(t.Fields) == 0 {
		return nil
	}
	if &t.Fields[0] != c.fields || len(t.Fields) != c.n {
		c.fields, c.n, c.index = &t.Fields[0], len(t.Fields), t.Fields.Index(c.name)
	}
	return t.Value(c.index)
}

// oneLine is v as one line without its line end, newlines inside escaped.
// Bytes are not copied (a tuple's values do not change once emitted): the
// line shares them until written, capped so that an append copies.
func oneLine(v any) []byte {
	b, ok := v.([]byte)
	if !ok {
		b = []byte(tuple.AsString(v))
	}
	b = bytes.TrimRight(b, "\r\n")
	b = b[:len(b):len(b)]
	if bytes.IndexByte(b, '\n') >= 0 {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte(`\n`))
	}
	return b
}

func (f *Format) jsonLine(t *tuple.Tuple) ([]byte, error) {
	if f.Field != "" {
		switch v := t.ValueByField(f.Field).(type) {
		case []byte:
			return compactJSON(v)
		case string:
			return compactJSON([]byte(v))
		default:
			return json.Marshal(plain(v))
		}
	}
	obj := make(map[string]any, len(t.Fields))
	if len(f.Fields) > 0 {
		for _, n := range f.Fields {
			obj[n] = plain(t.ValueByField(n))
		}
	} else {
		for i, n := range t.Fields {
			obj[n] = plain(t.Value(i))
		}
	}
	return json.Marshal(obj) // map keys are sorted: deterministic
}

// compactJSON keeps JSON text as it is, compacted; text that is not JSON
// becomes a JSON string.
func compactJSON(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err == nil {
		return buf.Bytes(), nil
	}
	return json.Marshal(string(b))
}

// plain makes values JSON-friendly: bytes as text when UTF-8.
func plain(v any) any {
	switch x := v.(type) {
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return x // base64
	case map[string]string:
		return x
	}
	return v
}

func recordTime(v any) time.Time {
	switch x := v.(type) {
	case int64:
		return time.UnixMilli(x).UTC()
	case int:
		return time.UnixMilli(int64(x)).UTC()
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return time.UnixMilli(n).UTC()
		}
	case time.Time:
		return x.UTC()
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.UTC()
		}
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return time.UnixMilli(n).UTC()
		}
	}
	return time.Time{}
}
