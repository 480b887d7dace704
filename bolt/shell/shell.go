package shell

import (
	"fmt"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/multilang"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
)

// TypeName is the name topologies use: "type": "shell".
const TypeName = "shell"

// Config is the JSON config of a shell bolt.
type Config struct {
	// Command is the program and its arguments, e.g.
	// ["python3", "examples/multilang/splitsentence.py"]. Required.
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
	// Heartbeat is the interval of heartbeat tuples (default 1s).
	Heartbeat topology.Duration `json:"heartbeat,omitempty"`
	// HeartbeatTimeout kills a subprocess that sends nothing, not even the
	// sync answering a heartbeat, for this long (default 30s; Storm's
	// topology.subprocess.timeout.secs). The handshake may take up to
	// max(heartbeat_timeout, 10s).
	HeartbeatTimeout topology.Duration `json:"heartbeat_timeout,omitempty"`
	// MaxPending caps the tuples accepted and not yet acked or failed by
	// the subprocess (default 100). Execute blocks at the cap, which slows
	// the upstream components down.
	MaxPending int `json:"max_pending,omitempty"`
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
		Heartbeat:        topology.Duration(multilang.DefaultHeartbeat),
		HeartbeatTimeout: topology.Duration(multilang.DefaultHeartbeatTimeout),
		MaxPending:       multilang.DefaultMaxPending,
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
		Heartbeat:        time.Duration(c.Heartbeat),
		HeartbeatTimeout: time.Duration(c.HeartbeatTimeout),
		MaxPending:       c.MaxPending,
		BackoffMin:       time.Duration(c.RestartBackoff.Min),
		BackoffMax:       time.Duration(c.RestartBackoff.Max),
		StopGrace:        time.Duration(c.StopGrace),
	}
}

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
