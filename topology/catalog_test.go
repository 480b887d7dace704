package topology_test

import (
	"errors"
	"slices"
	"sort"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// testCatalog is a small Catalog for the tests and examples.
type testCatalog map[topology.Kind]map[string]*topology.ComponentType

var _ topology.Catalog = testCatalog(nil)

func (c testCatalog) ComponentType(kind topology.Kind, name string) (*topology.ComponentType, bool) {
	t, ok := c[kind][name]
	return t, ok
}

func (c testCatalog) TypeNames(kind topology.Kind) []string {
	var names []string
	for n := range c[kind] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func fixed(s topology.Streams) func(any, []tuple.Fields) (topology.Streams, error) {
	return func(any, []tuple.Fields) (topology.Streams, error) { return s, nil }
}

// GeneratorConfig configures the "generator" spout.
type GeneratorConfig struct {
	Sentences []string          `json:"sentences"`
	Rate      int               `json:"rate"`
	Every     topology.Duration `json:"every"`
}

// CountConfig configures the "count" bolt.
type CountConfig struct {
	Field string `json:"field"`
	Limit int    `json:"limit"`
}

var errNegativeLimit = errors.New("limit must not be negative")

func (c *CountConfig) Validate() error {
	if c.Limit < 0 {
		return errNegativeLimit
	}
	return nil
}

// FilterConfig configures the "filter" bolt.
type FilterConfig struct {
	Contains string `json:"contains"`
}

func newCatalog() testCatalog {
	spouts := map[string]*topology.ComponentType{
		"generator": {
			Kind: topology.KindSpout, Name: "generator",
			NewConfig: func() any { return &GeneratorConfig{Rate: 10} },
			Outputs:   fixed(topology.Streams{"default": {"sentence"}}),
		},
		"lines": {
			Kind: topology.KindSpout, Name: "lines",
			Outputs:            fixed(topology.Streams{"default": {"line"}}),
			OverridableOutputs: true,
		},
		"partitioned": {
			Kind: topology.KindSpout, Name: "partitioned",
			Outputs:   fixed(topology.Streams{"default": {"sentence"}}),
			Resizable: true,
		},
	}
	bolts := map[string]*topology.ComponentType{
		"split": {
			Kind: topology.KindBolt, Name: "split",
			Outputs: fixed(topology.Streams{"default": {"word"}}),
		},
		"count": {
			Kind: topology.KindBolt, Name: "count",
			NewConfig: func() any { return &CountConfig{Field: "word"} },
			Outputs:   fixed(topology.Streams{"default": {"word", "count"}}),
		},
		"filter": {
			Kind: topology.KindBolt, Name: "filter",
			NewConfig: func() any { return &FilterConfig{} },
			Outputs: func(_ any, in []tuple.Fields) (topology.Streams, error) {
				return topology.Streams{"default": slices.Clone(in[0])}, nil
			},
		},
		"router": {
			Kind: topology.KindBolt, Name: "router",
			Outputs:       fixed(topology.Streams{"default": {"word"}, "routed": {"word"}}),
			DirectStreams: []string{"routed"},
		},
		"print": {Kind: topology.KindBolt, Name: "print"},
	}
	return testCatalog{topology.KindSpout: spouts, topology.KindBolt: bolts}
}
