package shell

import (
	"fmt"

	boltshell "github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/internal/multilang"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
)

// TypeName is the name topologies use: "type": "shell".
const TypeName = "shell"

// Config is the JSON config of a shell spout: its subprocess's, the same
// as a shell bolt's (Process of package bolt/shell). A spout has no
// heartbeat tuples: every command it sends (next, ack, fail) is answered
// with sync, and heartbeat_timeout bounds the wait for it.
type Config struct {
	boltshell.Process
}

// DefaultConfig returns a Config holding the defaults (and no command).
func DefaultConfig() *Config {
	return &Config{Process: boltshell.DefaultProcess()}
}

// Spout is a shell spout: a subprocess speaking Storm's multilang
// protocol. See the package documentation.
type Spout = multilang.Spout

var _ spout.Spout = (*Spout)(nil)

// New returns a shell spout for cfg. The subprocess starts in Open.
func New(cfg *Config) (*Spout, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: no config", boltshell.ErrConfig)
	}
	return multilang.NewSpout(cfg.Options())
}

// Type is the "shell" spout type.
func Type() registry.Spout[Config] {
	return registry.Spout[Config]{
		Name:   TypeName,
		Doc:    "runs a subprocess speaking Apache Storm's multilang protocol (spouts in any language)",
		Config: DefaultConfig,
		// The streams a subprocess emits are not known to Gale: the
		// topology declares them in "outputs" (without, none).
		OverridableOutputs: true,
		New:                func(c *Config) (spout.Spout, error) { return New(c) },
	}
}
