package topology

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gale-stream/gale/tuple"
)

// MarshalJSON writes c as Decode reads it: the streams of DirectOutputs
// as {"fields": [...], "direct": true} in "outputs".
func (c *Component) MarshalJSON() ([]byte, error) {
	type plain Component
	if len(c.DirectOutputs) == 0 {
		return marshalNoEscape((*plain)(c))
	}
	type directStream struct {
		Fields tuple.Fields `json:"fields"`
		Direct bool         `json:"direct"`
	}
	outputs := make(map[string]any, len(c.Outputs))
	for s, f := range c.Outputs {
		if f == nil {
			f = tuple.Fields{}
		}
		if slices.Contains(c.DirectOutputs, s) {
			outputs[s] = directStream{Fields: f, Direct: true}
		} else {
			outputs[s] = f
		}
	}
	return marshalNoEscape(struct {
		*plain
		Outputs   map[string]any `json:"outputs,omitempty"`
		Tick      Duration       `json:"tick,omitempty"`
		Autoscale *Autoscale     `json:"autoscale,omitempty"`
	}{(*plain)(c), outputs, c.Tick, c.Autoscale})
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Encode writes t as JSON in the format Decode reads (indented, keys in
// the order of the package documentation). Encoding a topology that Decode
// or Validate accepted gives JSON that decodes to the same topology; the
// derived fields (Kind, Settings, Streams...) are not written, Decode
// computes them again.
func Encode(t *Topology) ([]byte, error) {
	if t == nil {
		return nil, fmt.Errorf("encode topology: %w: nil topology", ErrInvalid)
	}
	w := *t
	w.Spouts = make([]*Component, len(t.Spouts))
	w.Bolts = make([]*Component, len(t.Bolts))
	for _, list := range []struct {
		name     string
		from, to []*Component
	}{{"spouts", t.Spouts, w.Spouts}, {"bolts", t.Bolts, w.Bolts}} {
		for i, c := range list.from {
			if c == nil {
				return nil, fmt.Errorf("encode topology %q: %s[%d]: %w: nil component", t.Name, list.name, i, ErrInvalid)
			}
			cc := *c
			if len(bytes.TrimSpace(cc.Config)) == 0 {
				cc.Config = nil
			}
			if cc.Outputs != nil {
				cc.Outputs = make(Streams, len(c.Outputs))
				for s, f := range c.Outputs {
					if f == nil {
						f = []string{}
					}
					cc.Outputs[s] = f
				}
			}
			list.to[i] = &cc
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&w); err != nil {
		return nil, fmt.Errorf("encode topology %q: %w", t.Name, err)
	}
	return buf.Bytes(), nil
}
