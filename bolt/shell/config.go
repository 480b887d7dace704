package shell

import (
	"fmt"
	"time"

	"github.com/gale-stream/gale/internal/multilang"
	"github.com/gale-stream/gale/topology"
)

// Config is the JSON config of a shell bolt: its subprocess's (Process)
// and the bolt's own.
type Config struct {
	Process
	// Heartbeat is the interval of heartbeat tuples (default 1s).
	Heartbeat topology.Duration `json:"heartbeat,omitempty"`
	// MaxPending caps the tuples waiting to be written to the subprocess
	// (default 100): Storm's topology.shellbolt.max.pending, with its
	// meaning. Execute blocks at the cap, which slows the upstream
	// components down. Tuples written and not yet acked do not count (a
	// bolt that acks on ticks keeps receiving tuples and ticks); the
	// spouts' topology.max.spout.pending bounds them.
	MaxPending int `json:"max_pending,omitempty"`
}

// DefaultConfig returns a Config holding the defaults (and no command).
// MaxPending is left zero, which means the topology's
// topology.shellbolt.max.pending, or else 100.
func DefaultConfig() *Config {
	return &Config{
		Process:   DefaultProcess(),
		Heartbeat: topology.Duration(multilang.DefaultHeartbeat),
	}
}

var _ topology.SettingsUser = (*Config)(nil)

// UseTopologySettings takes heartbeat_timeout and max_pending from the
// topology's Storm settings topology.subprocess.timeout.secs and
// topology.shellbolt.max.pending when the config does not set them; a
// config that sets a different value is an error.
func (c *Config) UseTopologySettings(s topology.Settings) error {
	if err := c.Process.UseTopologySettings(s); err != nil {
		return err
	}
	if s.ShellBoltMaxPending > 0 {
		switch c.MaxPending {
		case 0:
			c.MaxPending = s.ShellBoltMaxPending
		case s.ShellBoltMaxPending:
		default:
			return &topology.FieldError{Path: "max_pending", Err: topology.ErrInvalid,
				Msg: fmt.Sprintf("%d differs from config[%q] (%d), Storm's name for it: give one, or the same value",
					c.MaxPending, topology.ConfigShellBoltMaxPending, s.ShellBoltMaxPending)}
		}
	}
	return c.Validate()
}

// Validate checks the config.
func (c *Config) Validate() error {
	o := c.options()
	return o.Validate()
}

func (c *Config) options() multilang.Options {
	o := c.Process.Options()
	o.Heartbeat = time.Duration(c.Heartbeat)
	o.MaxPending = c.MaxPending
	return o
}

// Process is the part of the config that shell bolts and shell spouts
// (package spout/shell) share: what to run, when it is taken for hung,
// and how it is stopped and restarted.
type Process struct {
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
	// HeartbeatTimeout kills a subprocess taken for hung (default: the
	// topology's Storm setting topology.subprocess.timeout.secs, or else
	// 30s): a bolt's that sends
	// nothing for this long, not even the sync answering a heartbeat; a
	// spout's that does not answer a command (next, ack, fail) with sync
	// within it. The handshake may take up to max(heartbeat_timeout, 10s).
	HeartbeatTimeout topology.Duration `json:"heartbeat_timeout,omitempty"`
	// RestartBackoff bounds the delay before restarting a crashed
	// subprocess (default 100ms doubling up to 10s).
	RestartBackoff Backoff `json:"restart_backoff"`
	// StopGrace is how long Cleanup (a spout's Close) waits after SIGTERM
	// before SIGKILL (default 1s).
	StopGrace topology.Duration `json:"stop_grace,omitempty"`
}

// Backoff bounds an exponential backoff.
type Backoff struct {
	Min topology.Duration `json:"min,omitempty"`
	Max topology.Duration `json:"max,omitempty"`
}

// DefaultProcess returns a Process holding the defaults (and no command).
// HeartbeatTimeout is left zero, which means the topology's
// topology.subprocess.timeout.secs, or else 30s.
func DefaultProcess() Process {
	return Process{
		RestartBackoff: Backoff{
			Min: topology.Duration(multilang.DefaultBackoffMin),
			Max: topology.Duration(multilang.DefaultBackoffMax),
		},
		StopGrace: topology.Duration(multilang.DefaultStopGrace),
	}
}

// UseTopologySettings takes heartbeat_timeout from the topology's Storm
// setting topology.subprocess.timeout.secs when p does not set it; a
// different value set in p is an error.
func (p *Process) UseTopologySettings(s topology.Settings) error {
	if s.SubprocessTimeout <= 0 {
		return nil
	}
	switch time.Duration(p.HeartbeatTimeout) {
	case 0:
		p.HeartbeatTimeout = topology.Duration(s.SubprocessTimeout)
	case s.SubprocessTimeout:
	default:
		return &topology.FieldError{Path: "heartbeat_timeout", Err: topology.ErrInvalid,
			Msg: fmt.Sprintf("%s differs from config[%q] (%s), Storm's name for it: give one, or the same value",
				time.Duration(p.HeartbeatTimeout), topology.ConfigSubprocessTimeout, s.SubprocessTimeout)}
	}
	o := p.Options()
	return o.Validate() // heartbeat must stay below the timeout
}

// Validate checks p.
func (p *Process) Validate() error {
	o := p.Options()
	return o.Validate()
}

// Options returns the settings of Gale's multilang implementation
// (package internal/multilang) for p: package spout/shell builds its
// spouts from them. A program has no use for it.
func (p *Process) Options() multilang.Options {
	return multilang.Options{
		Command:          p.Command,
		Dir:              p.Dir,
		Env:              p.Env,
		Conf:             p.Conf,
		HeartbeatTimeout: time.Duration(p.HeartbeatTimeout),
		BackoffMin:       time.Duration(p.RestartBackoff.Min),
		BackoffMax:       time.Duration(p.RestartBackoff.Max),
		StopGrace:        time.Duration(p.StopGrace),
	}
}
