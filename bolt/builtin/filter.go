package builtin

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// FilterConfig configures the "filter" bolt. Exactly one of Equals,
// Contains and Regex must be set.
type FilterConfig struct {
	// Field is the value to test, formatted with tuple.AsString; "" (the
	// default) means the tuple's first value.
	Field string `json:"field"`
	// Equals keeps tuples whose value is exactly this string.
	Equals *string `json:"equals,omitempty"`
	// Contains keeps tuples whose value contains this string.
	Contains *string `json:"contains,omitempty"`
	// Regex keeps tuples whose value matches this regular expression
	// (Go's syntax, unanchored: use ^ and $ to match the whole value).
	Regex *string `json:"regex,omitempty"`
	// Invert keeps the tuples that do not match instead.
	Invert bool `json:"invert"`
}

// NewFilterConfig returns the defaults, which are not valid until one
// condition is set.
func NewFilterConfig() *FilterConfig { return &FilterConfig{} }

// Validate checks that exactly one condition is set and compiles the
// regular expression.
func (c *FilterConfig) Validate() error {
	_, err := c.matcher()
	return err
}

// matcher returns the condition as a function.
func (c *FilterConfig) matcher() (func(string) bool, error) {
	var set []string
	for name, p := range map[string]*string{"equals": c.Equals, "contains": c.Contains, "regex": c.Regex} {
		if p != nil {
			set = append(set, name)
		}
	}
	if len(set) != 1 {
		return nil, fmt.Errorf("%w: set exactly one of equals, contains and regex (got %d)", ErrInvalidConfig, len(set))
	}
	switch {
	case c.Equals != nil:
		want := *c.Equals
		return func(s string) bool { return s == want }, nil
	case c.Contains != nil:
		sub := *c.Contains
		return func(s string) bool { return strings.Contains(s, sub) }, nil
	}
	re, err := regexp.Compile(*c.Regex)
	if err != nil {
		return nil, fmt.Errorf("%w: regex: %w", ErrInvalidConfig, err)
	}
	return re.MatchString, nil
}

// FilterType is the "filter" bolt type.
func FilterType() registry.Bolt[FilterConfig] {
	return registry.Bolt[FilterConfig]{
		Name:    "filter",
		Doc:     "passes through the tuples whose field equals, contains or matches a value",
		Config:  NewFilterConfig,
		Outputs: passThrough(func(c *FilterConfig) string { return c.Field }),
		New: func(c *FilterConfig) (bolt.Bolt, error) {
			f, err := NewFilter(c)
			if err != nil {
				return nil, err
			}
			return bolt.Basic(f), nil
		},
	}
}

// Filter is the "filter" bolt, a BasicBolt: it emits the values of the
// inputs that pass, anchored to them, on the default stream; every input
// is acked. Tick tuples are ignored. A tuple without the field is
// reported and acked.
type Filter struct {
	field  string
	match  func(string) bool
	invert bool
}

var _ bolt.BasicBolt = (*Filter)(nil)

// NewFilter returns a filter bolt for cfg, which is validated. Run it with
// bolt.Basic.
func NewFilter(cfg *FilterConfig) (*Filter, error) {
	m, err := cfg.matcher()
	if err != nil {
		return nil, err
	}
	return &Filter{field: cfg.Field, match: m, invert: cfg.Invert}, nil
}

// Prepare does nothing.
func (f *Filter) Prepare(context.Context, *topology.TaskContext) error { return nil }

// Execute passes t through when it matches (or does not, with Invert).
func (f *Filter) Execute(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
	if t.IsTick() {
		return nil
	}
	v, err := fieldValue(t, f.field)
	if err != nil {
		out.ReportError(fmt.Errorf("filter: %w", err))
		return nil
	}
	if f.Keep(tuple.AsString(v)) {
		out.Emit(t.Values)
	}
	return nil
}

// Keep reports whether a tuple whose tested value is s passes.
func (f *Filter) Keep(s string) bool { return f.match(s) != f.invert }

// Cleanup does nothing.
func (f *Filter) Cleanup() error { return nil }
