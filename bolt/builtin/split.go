package builtin

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// SplitConfig configures the "split" bolt.
type SplitConfig struct {
	// Field is the text to split; "" (the default) means the tuple's
	// first value.
	Field string `json:"field"`
	// Lowercase lower-cases every word (default true).
	Lowercase bool `json:"lowercase"`
	// Strip removes punctuation at both ends of every word, so that
	// "moon." counts as "moon" while "don't" stays (default true). A word
	// made only of punctuation is dropped.
	Strip bool `json:"strip"`
	// As names the output field (default "word").
	As string `json:"as"`
}

// NewSplitConfig returns the defaults.
func NewSplitConfig() *SplitConfig {
	return &SplitConfig{Lowercase: true, Strip: true, As: "word"}
}

// Validate checks the settings.
func (c *SplitConfig) Validate() error {
	if c.As == "" {
		return fmt.Errorf("%w: as: want an output field name", ErrInvalidConfig)
	}
	return nil
}

// SplitType is the "split" bolt type.
func SplitType() registry.Bolt[SplitConfig] {
	return registry.Bolt[SplitConfig]{
		Name:   "split",
		Doc:    "splits a text field on whitespace and emits one {word} tuple per word",
		Config: NewSplitConfig,
		Outputs: registry.Declare(func(c *SplitConfig, inputs []tuple.Fields) (topology.Streams, error) {
			if err := checkField(c.Field, inputs); err != nil {
				return nil, err
			}
			return topology.Streams{tuple.DefaultStream: {c.As}}, nil
		}),
		New: func(c *SplitConfig) (bolt.Bolt, error) {
			s, err := NewSplit(c)
			if err != nil {
				return nil, err
			}
			return bolt.Basic(s), nil
		},
	}
}

// Split is the "split" bolt, a BasicBolt: it emits one tuple per word of
// its input, anchored to it, and the input is acked when Execute returns.
// Tick tuples are ignored. A tuple without the field is reported and
// acked.
type Split struct {
	cfg SplitConfig
}

var _ bolt.BasicBolt = (*Split)(nil)

// NewSplit returns a split bolt for cfg, which is validated. Run it with
// bolt.Basic.
func NewSplit(cfg *SplitConfig) (*Split, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Split{cfg: *cfg}, nil
}

// Prepare does nothing.
func (s *Split) Prepare(context.Context, *topology.TaskContext) error { return nil }

// Execute emits the words of t's text.
func (s *Split) Execute(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
	if t.IsTick() {
		return nil
	}
	v, err := fieldValue(t, s.cfg.Field)
	if err != nil {
		out.ReportError(fmt.Errorf("split: %w", err))
		return nil
	}
	for _, w := range s.Words(tuple.AsString(v)) {
		out.Emit(tuple.Values{w})
	}
	return nil
}

// Words returns the words of text as the bolt emits them.
func (s *Split) Words(text string) []string {
	words := strings.Fields(text)
	n := 0
	for _, w := range words {
		if s.cfg.Strip {
			w = strings.TrimFunc(w, unicode.IsPunct)
		}
		if w == "" {
			continue
		}
		if s.cfg.Lowercase {
			w = strings.ToLower(w)
		}
		words[n] = w
		n++
	}
	return words[:n]
}

// Cleanup does nothing.
func (s *Split) Cleanup() error { return nil }
