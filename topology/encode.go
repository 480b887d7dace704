package topology

import (
	"bytes"
	"encoding/json"
	"fmt"
)

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
