package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Formats of the print bolt.
const (
	// FormatText writes "component stream [v1 v2]".
	FormatText = "text"
	// FormatJSON writes one JSON object per line:
	// {"component":..., "stream":..., "id":..., "values":{field: value}}.
	FormatJSON = "json"
)

// PrintConfig configures the "print" bolt.
type PrintConfig struct {
	// Path is the file to append to; "" (the default) or "-" means
	// standard output.
	Path string `json:"path"`
	// Format is "text" (default) or "json"; see FormatText and FormatJSON.
	Format string `json:"format"`
}

// NewPrintConfig returns the defaults.
func NewPrintConfig() *PrintConfig { return &PrintConfig{Format: FormatText} }

// Validate checks the format.
func (c *PrintConfig) Validate() error {
	if c.Format != FormatText && c.Format != FormatJSON {
		return fmt.Errorf("%w: format: want %q or %q, got %q", ErrInvalidConfig, FormatText, FormatJSON, c.Format)
	}
	return nil
}

// PrintType is the "print" bolt type.
func PrintType() registry.Bolt[PrintConfig] {
	return registry.Bolt[PrintConfig]{
		Name:   "print",
		Doc:    "writes every tuple to stdout or a file, as text or JSON lines",
		Config: NewPrintConfig,
		New:    func(c *PrintConfig) (bolt.Bolt, error) { return NewPrint(c, nil) },
	}
}

// stdoutMu serialises the lines that print bolts write to os.Stdout.
var stdoutMu sync.Mutex

// Print is the "print" bolt: it writes each tuple as one line, acks it and
// emits nothing. Tick tuples are not printed. A failed write is reported
// and fails the tuple.
//
// Each line is written with one Write call under a lock: print tasks that
// share stdout (or one writer given to NewPrint) never interleave lines.
// Tasks that print to the same file open it with O_APPEND, which keeps
// their lines whole on local file systems.
type Print struct {
	cfg  PrintConfig
	out  bolt.Collector
	w    io.Writer
	mu   *sync.Mutex // guards writes to w
	file *os.File    // opened by Prepare, closed by Cleanup
	buf  []byte
}

var _ bolt.Bolt = (*Print)(nil)

// NewPrint returns a print bolt for cfg, which is validated. A non-nil w
// replaces cfg.Path: the bolt writes to w under a lock of its own.
func NewPrint(cfg *PrintConfig, w io.Writer) (*Print, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Print{cfg: *cfg, w: w}
	if w != nil {
		p.mu = new(sync.Mutex)
	}
	return p, nil
}

// Prepare opens the output file, if any.
func (p *Print) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	p.out = out
	switch {
	case p.w != nil:
	case p.cfg.Path == "" || p.cfg.Path == "-":
		p.w, p.mu = os.Stdout, &stdoutMu
	default:
		f, err := os.OpenFile(p.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("print: open %q: %w", p.cfg.Path, err)
		}
		p.file, p.w, p.mu = f, f, new(sync.Mutex)
	}
	return nil
}

// Execute writes t and acks it.
func (p *Print) Execute(_ context.Context, t *tuple.Tuple) error {
	if t.IsTick() {
		p.out.Ack(t)
		return nil
	}
	p.buf = p.buf[:0]
	if p.cfg.Format == FormatJSON {
		p.buf = appendJSON(p.buf, t)
	} else {
		p.buf = appendText(p.buf, t)
	}
	p.buf = append(p.buf, '\n')
	p.mu.Lock()
	_, err := p.w.Write(p.buf)
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("print: write: %w", err) // the engine reports it and fails t
	}
	p.out.Ack(t)
	return nil
}

// appendText appends "component stream [v1 v2]".
func appendText(b []byte, t *tuple.Tuple) []byte {
	b = append(b, t.Component...)
	b = append(b, ' ')
	b = append(b, t.Stream...)
	b = append(b, " ["...)
	for i, v := range t.Values {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, tuple.AsString(v)...)
	}
	return append(b, ']')
}

type printRecord struct {
	Component string `json:"component"`
	Stream    string `json:"stream"`
	ID        string `json:"id,omitempty"`
	Values    any    `json:"values"`
}

// appendJSON appends t as a JSON object. Values are keyed by field name
// when the tuple names them all, else listed; []byte holding UTF-8 is
// written as a string, and values JSON cannot encode as their text.
func appendJSON(b []byte, t *tuple.Tuple) []byte {
	rec := printRecord{Component: t.Component, Stream: t.Stream, ID: t.ID}
	vals := make([]any, len(t.Values))
	for i, v := range t.Values {
		if bs, ok := v.([]byte); ok && utf8.Valid(bs) {
			v = string(bs)
		}
		vals[i] = v
	}
	named := func(vals []any) any {
		if len(t.Fields) != len(vals) {
			return vals
		}
		m := make(map[string]any, len(vals))
		for i, f := range t.Fields {
			m[f] = vals[i]
		}
		return m
	}
	rec.Values = named(vals)
	out, err := json.Marshal(rec)
	if err != nil { // a value JSON cannot encode: fall back to text
		for i, v := range vals {
			vals[i] = tuple.AsString(v)
		}
		rec.Values = named(vals)
		if out, err = json.Marshal(rec); err != nil {
			return fmt.Appendf(b, `{"error":%q}`, strings.ToValidUTF8(err.Error(), "?"))
		}
	}
	return append(b, out...)
}

// Cleanup closes the output file, if any. It is safe to call twice.
func (p *Print) Cleanup() error {
	if p.file == nil {
		return nil
	}
	err := p.file.Close()
	p.file = nil
	if err != nil {
		return fmt.Errorf("print: close %q: %w", p.cfg.Path, err)
	}
	return nil
}
