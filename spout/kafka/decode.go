package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gale-stream/gale/internal/schemareg"
)

// ErrPoison wraps the error of a record the deserializer rejects.
var ErrPoison = errors.New("poison record")

// deserialize turns a record value into the "value" field and the
// extracted fields, for the raw, string and json deserializers (those of a
// schema registry are the Spout's: it holds their decoder).
func (c *Config) deserialize(v []byte) (value any, extra []any, err error) {
	switch c.Deserializer {
	case "raw":
		return v, nil, nil // franz-go does not reuse a record's buffer
	case "string":
		if !utf8.Valid(v) {
			return nil, nil, fmt.Errorf("%w: value is not valid UTF-8", ErrPoison)
		}
		return string(v), nil, nil
	}
	var doc any
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%w: value is not JSON: %w", ErrPoison, err)
	}
	if d.More() {
		return nil, nil, fmt.Errorf("%w: value has data after the JSON document", ErrPoison)
	}
	for _, p := range c.Fields {
		extra = append(extra, lookup(doc, p))
	}
	return doc, extra, nil
}

// deserialize is Config.deserialize with the spout's schema registry
// decoder (avro, protobuf, json_schema). A poison value's error wraps
// ErrPoison; a transient one (the registry unavailable, a schema id not
// found yet: schemareg.IsTransient) is returned as it is: the record is
// not poison, its batch waits (see holdBatch).
func (s *Spout) deserialize(ctx context.Context, v []byte) (value any, extra []any, err error) {
	if s.dec == nil {
		return s.cfg.deserialize(v)
	}
	doc, err := s.dec.Decode(ctx, v)
	if err != nil {
		if schemareg.IsTransient(err) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrPoison, s.cfg.Deserializer, err)
	}
	for _, p := range s.cfg.Fields {
		extra = append(extra, lookup(doc, p))
	}
	return doc, extra, nil
}

// fieldName is the tuple field of a JSON path: its last element.
func fieldName(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.IndexByte(path, '['); i > 0 {
		path = path[:i]
	}
	return path
}

// lookup follows a path like "user.name" or "tags[0]"; nil when absent.
func lookup(doc any, path string) any {
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			n, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil {
				return nil
			}
			name, idx = part[:i], n
		}
		if name != "" {
			m, ok := doc.(map[string]any)
			if !ok {
				return nil
			}
			doc = m[name]
		}
		if idx >= 0 {
			a, ok := doc.([]any)
			if !ok || idx >= len(a) {
				return nil
			}
			doc = a[idx]
		}
	}
	return doc
}
