package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// SuffixConfig is the JSON "config" of a suffix bolt.
type SuffixConfig struct {
	Field  string `json:"field"`
	Suffix string `json:"suffix"`
}

// Validate is called once the config is decoded.
func (c *SuffixConfig) Validate() error {
	if c.Suffix == "" {
		return errors.New("suffix must not be empty")
	}
	return nil
}

// A bolt type with a typed config: the registry decodes each component's
// JSON config into a *SuffixConfig (the defaults from Config, unknown keys
// refused, Validate called) and hands it to New and to Declare, which
// names the output field after the input field and checks the inputs have
// it.
func Example() {
	suffix := registry.Bolt[SuffixConfig]{
		Name:   "suffix",
		Doc:    "appends a suffix to a field",
		Config: func() *SuffixConfig { return &SuffixConfig{Field: "word", Suffix: "!"} },
		Outputs: registry.Declare(func(c *SuffixConfig, inputs []tuple.Fields) (topology.Streams, error) {
			for _, in := range inputs {
				if !in.Contains(c.Field) {
					return nil, fmt.Errorf("the input has no field %q", c.Field)
				}
			}
			return topology.Streams{tuple.DefaultStream: {c.Field + "_suffixed"}}, nil
		}),
		New: func(c *SuffixConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
				out.Emit(tuple.Values{t.String(c.Field) + c.Suffix})
				return nil
			})), nil
		},
	}
	reg := all.Registry() // the built-in types: generator, split, count...
	reg.MustRegister(suffix)

	topo, err := topology.Decode([]byte(`{"name": "suffixes",
	  "spouts": [{"id": "s", "type": "generator", "config": {"count": 10, "sentences": ["a b"]}}],
	  "bolts": [
	    {"id": "split", "type": "split", "inputs": [{"component": "s"}]},
	    {"id": "suffix", "type": "suffix", "config": {"suffix": "?"}, "inputs": [{"component": "split"}]},
	    {"id": "count", "type": "count", "config": {"field": "word_suffixed"}, "inputs": [{"component": "suffix"}]}]}`), reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	stats, err := local.Run(context.Background(), topo, local.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("suffixed:", stats.Component("count").Executed)

	// mistakes are reported with their path, before anything runs
	_, err = topology.Decode([]byte(`{"name": "bad",
	  "spouts": [{"id": "s", "type": "generator"}],
	  "bolts": [{"id": "suffix", "type": "suffix", "config": {"sufix": "?", "field": "nope"}, "inputs": [{"component": "s"}]}]}`), reg)
	fmt.Println(strings.ReplaceAll(err.Error(), "; known fields", "\n  known fields"))
	// Output:
	// suffixed: 20
	// bolts[0].config.sufix: unknown field
	//   known fields: field, suffix (did you mean "suffix"?)
}
