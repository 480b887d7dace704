// Command custom-bolt shows how to extend Gale with your own bolt type in
// Go: declare its config struct, register the type, and hand over to the
// gale command line, which then knows the type in every command:
//
//	go run ./examples/custom-bolt run examples/custom-bolt/topology.json
//	go run ./examples/custom-bolt validate examples/custom-bolt/topology.json
//	go run ./examples/custom-bolt types
package main

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// ShoutConfig is the JSON "config" of a shout bolt. Gale decodes it
// strictly (unknown fields are errors naming their JSON path) into the
// defaults from NewShoutConfig, then calls Validate.
type ShoutConfig struct {
	// Field is the input field to shout; default "word".
	Field string `json:"field"`
	// MinLength skips words shorter than this (they are acked, not emitted).
	MinLength int `json:"min_length"`
	// Suffix is appended to every shouted word; default "!".
	Suffix string `json:"suffix"`
}

// NewShoutConfig returns the defaults.
func NewShoutConfig() *ShoutConfig { return &ShoutConfig{Field: "word", Suffix: "!"} }

// Validate is called after decoding; its error is reported at the
// component's config path (e.g. bolts[1].config).
func (c *ShoutConfig) Validate() error {
	if c.MinLength < 0 {
		return errors.New("min_length must not be negative")
	}
	if c.Field == "" {
		return errors.New("field must not be empty")
	}
	return nil
}

// shout upper-cases a field. It is a BasicBolt: its emits are anchored to
// the input, and the input is acked when Execute returns nil (failed, and
// so replayed, when it returns an error).
type shout struct{ cfg *ShoutConfig }

var _ bolt.BasicBolt = (*shout)(nil)

func (s *shout) Prepare(context.Context, *topology.TaskContext) error { return nil }
func (s *shout) Cleanup() error                                       { return nil }

func (s *shout) Execute(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
	w := t.String(s.cfg.Field)
	if utf8.RuneCountInString(w) < s.cfg.MinLength {
		return nil
	}
	out.Emit(tuple.Values{strings.ToUpper(w) + s.cfg.Suffix})
	return nil
}

// ShoutType is the registered type: its name in topology JSON, its config
// (typed: New gets the decoded *ShoutConfig), its output stream, and its
// factory (one instance per task).
var ShoutType = registry.Bolt[ShoutConfig]{
	Name:    "shout",
	Doc:     "upper-cases a field and adds a suffix (example custom bolt)",
	Config:  NewShoutConfig,
	Outputs: registry.Emits("shout"),
	New:     func(c *ShoutConfig) (bolt.Bolt, error) { return bolt.Basic(&shout{cfg: c}), nil },
}

func main() {
	registry.MustRegister(ShoutType)
	cli.Main() // every gale command, with "shout" compiled in
}
