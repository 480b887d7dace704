package multilang

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Options.
const (
	DefaultHeartbeat        = time.Second
	DefaultHeartbeatTimeout = 30 * time.Second
	DefaultMaxPending       = 100
	DefaultBackoffMin       = 100 * time.Millisecond
	DefaultBackoffMax       = 10 * time.Second
	// DefaultStopGrace is how long Cleanup/Close waits after closing the
	// subprocess's stdin and sending SIGTERM before it sends SIGKILL.
	DefaultStopGrace = time.Second
)

// Options configure a shell bolt or spout. bolt/shell and spout/shell
// build them from their JSON configs.
type Options struct {
	// Command, Dir and Env say what to run; see Spec.
	Command []string
	Dir     string
	Env     map[string]string
	// Conf is merged into the "conf" of the handshake.
	Conf map[string]any
	// Heartbeat is how often a bolt sends a heartbeat tuple (spouts do not
	// send heartbeats: every command they send is answered by a sync).
	Heartbeat time.Duration
	// HeartbeatTimeout is how long the subprocess may stay silent (bolt:
	// send nothing at all; spout: not answer a command with sync) before
	// it is killed as hung. The handshake may take longer, up to the
	// larger of HeartbeatTimeout and MinHandshakeTimeout, so that slow
	// interpreters can start.
	HeartbeatTimeout time.Duration
	// MaxPending caps the tuples a bolt has accepted and not yet written
	// to the subprocess (Storm's topology.shellbolt.max.pending, the
	// capacity of ShellBolt's queue of pending writes); Execute blocks
	// when it is reached. Tuples written and not yet acked or failed do
	// not count: the upstream's max spout pending bounds them.
	MaxPending int
	// BackoffMin and BackoffMax bound the exponential backoff between
	// restarts of a crashed subprocess. The delay doubles after each
	// crash and falls back to BackoffMin once a subprocess has run for
	// BackoffMax.
	BackoffMin, BackoffMax time.Duration
	// StopGrace is how long Cleanup waits for the subprocess to exit after
	// closing its stdin and sending SIGTERM, before SIGKILL.
	StopGrace time.Duration
	// MaxMessageSize caps one message from the subprocess.
	MaxMessageSize int
	// Logger receives stderr lines and "log" commands; nil means the
	// task's logger.
	Logger *slog.Logger
	// Start starts the subprocess; nil means the package's Start. Tests
	// use it to run fakes.
	Start Starter
}

func (o *Options) setDefaults() {
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = min(DefaultHeartbeat, o.HeartbeatTimeout/2)
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.StopGrace <= 0 {
		o.StopGrace = DefaultStopGrace
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.Start == nil {
		o.Start = Start
	}
}

// Validate checks o. Zero durations and sizes mean their defaults.
func (o *Options) Validate() error {
	if len(o.Command) == 0 || o.Command[0] == "" {
		return fmt.Errorf("%w: command is required", ErrConfig)
	}
	if o.Heartbeat < 0 || o.HeartbeatTimeout < 0 || o.BackoffMin < 0 || o.BackoffMax < 0 || o.StopGrace < 0 {
		return fmt.Errorf("%w: durations must not be negative", ErrConfig)
	}
	if o.MaxPending < 0 {
		return fmt.Errorf("%w: max_pending must not be negative", ErrConfig)
	}
	hb, hbt := o.Heartbeat, o.HeartbeatTimeout
	if hbt == 0 {
		hbt = DefaultHeartbeatTimeout
	}
	if hb > 0 && hb >= hbt {
		return fmt.Errorf("%w: heartbeat (%v) must be shorter than heartbeat_timeout (%v)", ErrConfig, hb, hbt)
	}
	if o.BackoffMin > 0 && o.BackoffMax > 0 && o.BackoffMax < o.BackoffMin {
		return fmt.Errorf("%w: restart_backoff.max (%v) is below restart_backoff.min (%v)", ErrConfig, o.BackoffMax, o.BackoffMin)
	}
	return nil
}

// MinHandshakeTimeout is the least time a subprocess is given to answer
// the handshake.
const MinHandshakeTimeout = 10 * time.Second

func (o *Options) handshakeTimeout() time.Duration {
	return max(o.HeartbeatTimeout, MinHandshakeTimeout)
}

// backoff is the restart delay policy.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

// next returns the delay before the next restart of a process that ran
// for lived, and doubles the delay for the one after.
func (b *backoff) next(lived time.Duration) time.Duration {
	if b.cur == 0 || lived >= b.max {
		b.cur = b.min
	}
	d := b.cur
	b.cur = min(b.cur*2, b.max)
	return d
}
