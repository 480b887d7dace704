package shell

import (
	"fmt"
	"time"

	"github.com/gale-stream/gale/internal/multilang"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
)

// TypeName is the name topologies use: "type": "shell".
const TypeName = "shell"

// Config is the JSON config of a shell spout.
type Config struct {
	// Command is the program and its arguments, e.g.
	// ["python3", "examples/multilang/sentences.py"]. Required.
	Command []string `json:"command"`
	// Dir is the working directory of the subprocess (default: Gale's).
	// A relative command path is relative to it.
	Dir string `json:"dir,omitempty"`
	// Env adds variables to the subprocess's environment, replacing those
	// of the same name.
	Env map[string]string `json:"env,omitempty"`
	// Conf is merged into the "conf" the subprocess receives in the
	// handshake, over the topology's config.
	Conf map[string]any `json:"conf,omitempty"`
	// HeartbeatTimeout kills a subprocess that does not answer a command
	// (next, ack, fail) with sync within this long (default 30s; Storm's
	// topology.subprocess.timeout.secs). The handshake may take up to
	// max(heartbeat_timeout, 10s).
	// Spouts need no heartbeat tuples: every command is answered.
	HeartbeatTimeout topology.Duration `json:"heartbeat_timeout,omitempty"`
	// RestartBackoff bounds the delay before restarting a crashed
	// subprocess (default 100ms doubling up to 10s).
	RestartBackoff Backoff `json:"restart_backoff"`
	// StopGrace is how long Cleanup waits after SIGTERM before SIGKILL
	// (default 1s).
	StopGrace topology.Duration `json:"stop_grace,omitempty"`
}

// Backoff bounds an exponential backoff.
type Backoff struct {
	Min topology.Duration `json:"min,omitempty"`
	Max topology.Duration `json:"max,omitempty"`
}

// DefaultConfig returns a Config holding the defaults (and no command).
func DefaultConfig() *Config {
	return &Config{
		HeartbeatTimeout: topology.Duration(multilang.DefaultHeartbeatTimeout),
		RestartBackoff: Backoff{
			Min: topology.Duration(multilang.DefaultBackoffMin),
			Max: topology.Duration(multilang.DefaultBackoffMax),
		},
		StopGrace: topology.Duration(multilang.DefaultStopGrace),
	}
}

// Validate checks the config.
func (c *Config) Validate() error {
	o := c.options()
	return o.Validate()
}

func (c *Config) options() multilang.Options {
	return multilang.Options{
		Command:          c.Command,
		Dir:              c.Dir,
		Env:              c.Env,
		Conf:             c.Conf,
		HeartbeatTimeout: time.Duration(c.HeartbeatTimeout),
		BackoffMin:       time.Duration(c.RestartBackoff.Min),
		BackoffMax:       time.Duration(c.RestartBackoff.Max),
		StopGrace:        time.Duration(c.StopGrace),
	}
}

// Bolt is a shell spout: a subprocess speaking Storm's multilang protocol.
// See the package documentation.
type Spout = multilang.Spout

var _ spout.Spout = (*Spout)(nil)

// New returns a shell spout for cfg. The subprocess starts in Open.
func New(cfg *Config) (*Spout, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: no config", ErrConfig)
	}
	return multilang.NewSpout(cfg.options())
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
