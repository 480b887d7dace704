package shell

import (
	"fmt"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/multilang"
	"github.com/gale-stream/gale/registry"
)

// TypeName is the name topologies use: "type": "shell".
const TypeName = "shell"

// Bolt is a shell bolt: a subprocess speaking Storm's multilang protocol.
// See the package documentation.
type Bolt = multilang.Bolt

var _ bolt.Bolt = (*Bolt)(nil)

// New returns a shell bolt for cfg. The subprocess starts in Prepare.
func New(cfg *Config) (*Bolt, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: no config", ErrConfig)
	}
	return multilang.NewBolt(cfg.options())
}

// Type is the "shell" bolt type.
func Type() registry.Bolt[Config] {
	return registry.Bolt[Config]{
		Name:   TypeName,
		Doc:    "runs a subprocess speaking Apache Storm's multilang protocol (bolts in any language)",
		Config: DefaultConfig,
		// The streams a subprocess emits are not known to Gale: the
		// topology declares them in "outputs". Without outputs the bolt
		// declares no stream (a sink).
		OverridableOutputs: true,
		New:                func(c *Config) (bolt.Bolt, error) { return New(c) },
	}
}
