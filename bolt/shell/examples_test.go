package shell_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/registry"
	spoutbuiltin "github.com/gale-stream/gale/spout/builtin"
	spoutshell "github.com/gale-stream/gale/spout/shell"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// TestExamples_Validate decodes and validates the topologies of
// examples/multilang. "count" stands in for the built-in count bolt (same
// config keys and outputs) so that this test depends on no other bolt
// package.
func TestExamples_Validate(t *testing.T) {
	reg := registry.New()
	for _, err := range []error{spoutbuiltin.Register(reg), reg.Register(shell.Type()), reg.Register(spoutshell.Type())} {
		if err != nil {
			t.Fatal(err)
		}
	}
	type countConfig struct {
		Field string `json:"field"`
		Emit  string `json:"emit"`
	}
	if err := reg.Register(registry.Bolt[countConfig]{
		Name:   "count",
		Config: func() *countConfig { return &countConfig{Field: "word"} },
		Outputs: registry.Declare(func(c *countConfig, _ []tuple.Fields) (topology.Streams, error) {
			return topology.Streams{"default": {c.Field, "count"}}, nil
		}),
		New: func(*countConfig) (bolt.Bolt, error) { return nil, nil },
	}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "multilang", "*.json"))
	if len(files) < 3 {
		t.Fatalf("found %d example topologies", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			topo, err := topology.Decode(b, reg)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range append(topo.Spouts, topo.Bolts...) {
				if c.Type != "shell" {
					continue
				}
				var cmd []string
				switch s := c.Settings.(type) {
				case *shell.Config:
					cmd = s.Command
				case *spoutshell.Config:
					cmd = s.Command
				}
				if len(cmd) < 2 {
					t.Fatalf("%s: command %v", c.ID, cmd)
				}
				if _, err := os.Stat(filepath.Join("..", "..", cmd[1])); err != nil {
					t.Errorf("%s: script: %v", c.ID, err)
				}
			}
		})
	}
}
