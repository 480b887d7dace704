package topology

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/gale-stream/gale/tuple"
)

// Kind tells spouts from bolts.
type Kind int

const (
	// KindSpout is a component that emits tuples from a source.
	KindSpout Kind = iota + 1
	// KindBolt is a component that consumes streams.
	KindBolt
)

func (k Kind) String() string {
	switch k {
	case KindSpout:
		return "spout"
	case KindBolt:
		return "bolt"
	}
	return "unknown"
}

// Grouping decides which task(s) of a consuming bolt receive each tuple of
// a stream.
type Grouping string

// The groupings, with Storm's meaning.
const (
	// Shuffle spreads tuples evenly and randomly over the consumer's tasks.
	Shuffle Grouping = "shuffle"
	// FieldsGrouping sends tuples with equal values of the grouping fields
	// to the same task (a stable hash).
	FieldsGrouping Grouping = "fields"
	// All sends every tuple to every task.
	All Grouping = "all"
	// Global sends every tuple to the task with the lowest id.
	Global Grouping = "global"
	// Direct lets the emitter choose the task (EmitDirect); the stream must
	// be declared direct.
	Direct Grouping = "direct"
	// LocalOrShuffle prefers tasks in the emitter's worker, else shuffles.
	LocalOrShuffle Grouping = "local_or_shuffle"
	// None means "don't care"; it behaves as Shuffle.
	None Grouping = "none"
	// PartialKey is the two-choices grouping: each key goes to the less
	// loaded of two candidate tasks, which balances skewed keys.
	PartialKey Grouping = "partial_key"
	// BatchGrouping sends every tuple of one batch (same tuple BatchID) to
	// the same task, chosen by a stable hash of the batch id; tuples outside
	// batches are shuffled. Sinks that write a batch as one object read
	// with it. A bolt that reads a spout alone with it gets each batch on a
	// task in the spout task's own worker when it has some there (the hash
	// chooses among those): batches then do not cross between workers.
	BatchGrouping Grouping = "batch"
)

// Groupings lists every grouping name, in the order of the docs.
var Groupings = []Grouping{Shuffle, FieldsGrouping, All, Global, Direct, LocalOrShuffle, None, PartialKey, BatchGrouping}

// NeedsFields reports whether g takes a list of fields.
func (g Grouping) NeedsFields() bool { return g == FieldsGrouping || g == PartialKey }

// Streams maps stream ids to the fields of their tuples.
type Streams map[string]tuple.Fields

// Topology is a validated or to-be-validated graph of spouts and bolts.
//
// A Topology returned by Decode or Builder.Build is valid against the
// Catalog it was checked with: every component's Type is known, its Config
// is decoded into Component.Settings, and Component.Streams holds its
// output streams.
type Topology struct {
	// Name identifies the topology in a cluster.
	Name string `json:"name"`
	// Config holds topology-wide settings; see Settings for the keys Gale
	// knows. Other keys are passed to components untouched.
	Config map[string]any `json:"config,omitempty"`
	// Spouts and Bolts are the components, in declaration order.
	Spouts []*Component `json:"spouts"`
	Bolts  []*Component `json:"bolts,omitempty"`

	// Settings is Config decoded; set by validation.
	Settings Settings `json:"-"`
	// Notes are remarks of validation that are not errors: each Storm
	// setting name read as one of Gale's (StormAliases), with the Gale
	// name. gale validate prints them.
	Notes []string `json:"-"`

	// catalog is what the topology was validated against (Catalog).
	catalog Catalog
}

// Catalog returns the catalog the topology was last validated against by
// Decode, Builder.Build or Validate — the registry that knows how to build
// its components — or nil when it was never validated successfully.
func (t *Topology) Catalog() Catalog { return t.catalog }

// Component is one spout or bolt of a topology.
type Component struct {
	// ID names the component uniquely within the topology.
	ID string `json:"id"`
	// Type names a registered component type.
	Type string `json:"type"`
	// Parallelism is the number of tasks; defaults to Autoscale.Min when
	// the component has an autoscaling policy, else to 1.
	Parallelism int `json:"parallelism,omitempty"`
	// Config is the type-specific configuration, decoded by the type.
	Config json.RawMessage `json:"config,omitempty"`
	// Inputs lists the streams a bolt consumes; spouts have none.
	Inputs []Input `json:"inputs,omitempty"`
	// Outputs overrides the type's output streams where the type allows it.
	Outputs Streams `json:"outputs,omitempty"`
	// DirectOutputs lists the streams of Outputs declared direct (Storm's
	// declareStream(id, true, fields)): in JSON, {"fields": [...],
	// "direct": true} in place of the list of fields. Only the direct
	// grouping reads them, and an emit on them names its task.
	DirectOutputs []string `json:"-"`
	// Tick asks the engine to send the component a tick tuple at this
	// interval (bolts only); zero means none.
	Tick Duration `json:"tick,omitempty"`
	// Autoscale, when set, lets a cluster change Parallelism within the
	// policy's bounds as the load asks; nil means a fixed parallelism.
	// Validation fills its defaults.
	Autoscale *Autoscale `json:"autoscale,omitempty"`

	// Kind is set by validation.
	Kind Kind `json:"-"`
	// Settings is Config decoded into the type's config struct (a pointer),
	// or nil when the type takes no config; set by validation.
	Settings any `json:"-"`
	// Streams are the component's output streams; set by validation.
	Streams Streams `json:"-"`
	// DirectStreams lists the output streams declared direct.
	DirectStreams []string `json:"-"`
}

// The bounds and defaults of an Autoscale policy.
const (
	// MaxAutoscale is the largest Autoscale.Max.
	MaxAutoscale = 256
	// DefaultTargetCapacity is the default Autoscale.TargetCapacity.
	DefaultTargetCapacity = 0.7
	// DefaultScaleUpLagSeconds is the default Autoscale.ScaleUpLagSeconds
	// of spouts.
	DefaultScaleUpLagSeconds = 30.0
	// DefaultCooldown is the default Autoscale.Cooldown.
	DefaultCooldown = Duration(2 * time.Minute)
	// MinCooldown is the shortest Autoscale.Cooldown: the monitor needs
	// windows of load after a change before it judges the new parallelism.
	MinCooldown = Duration(10 * time.Second)
)

// Autoscale is a component's autoscaling policy: the bounds of its
// parallelism and the load it aims at. A zero field takes its default
// (WithDefaults), except Max, which is required.
type Autoscale struct {
	// Min is the fewest tasks, at least 1 (default 1).
	Min int `json:"min"`
	// Max is the most tasks: at least Min and at most MaxAutoscale.
	// Required.
	Max int `json:"max"`
	// TargetCapacity is the busy fraction of a task the scaler aims at,
	// in (0, 1] (default DefaultTargetCapacity): above it the component
	// scales up.
	TargetCapacity float64 `json:"target_capacity"`
	// ScaleUpLagSeconds is, for spouts, the lag (records behind the
	// source's end divided by the consume rate) that triggers a scale-up
	// while it is not shrinking; > 0, default DefaultScaleUpLagSeconds.
	// Bolts have no lag and take none.
	ScaleUpLagSeconds float64 `json:"scale_up_lag_seconds,omitempty"`
	// Cooldown is the time after a change of the component's parallelism
	// during which it does not change again, either way: at least
	// MinCooldown, default DefaultCooldown.
	Cooldown Duration `json:"cooldown"`
}

// WithDefaults returns a with its zero fields (other than Max) set to
// their defaults for a component of kind k: ScaleUpLagSeconds is only
// defaulted for spouts. It does not check anything; validation does.
func (a Autoscale) WithDefaults(k Kind) Autoscale {
	if a.Min == 0 {
		a.Min = 1
	}
	if a.TargetCapacity == 0 {
		a.TargetCapacity = DefaultTargetCapacity
	}
	if a.ScaleUpLagSeconds == 0 && k == KindSpout {
		a.ScaleUpLagSeconds = DefaultScaleUpLagSeconds
	}
	if a.Cooldown == 0 {
		a.Cooldown = DefaultCooldown
	}
	return a
}

// Input subscribes a bolt to one stream of another component.
type Input struct {
	// Component is the id of the emitting component.
	Component string `json:"component"`
	// Stream is the stream id; defaults to tuple.DefaultStream.
	Stream string `json:"stream,omitempty"`
	// Grouping decides which tasks get which tuples; defaults to Shuffle.
	Grouping Grouping `json:"grouping,omitempty"`
	// Fields are the grouping fields for FieldsGrouping and PartialKey.
	Fields []string `json:"fields,omitempty"`
}

// Settings are the topology-wide settings Gale understands, decoded from
// Topology.Config. Their keys keep Storm's names.
type Settings struct {
	// Workers is the number of workers the topology wants in a cluster
	// ("topology.workers", default 1).
	Workers int
	// Ackers is the number of acker tasks ("topology.acker.executors",
	// default 1). Zero disables acking: spout tuples are acked as soon as
	// they are emitted.
	Ackers int
	// MessageTimeout fails a tuple tree not completed in time
	// ("topology.message.timeout.secs", default 30 s).
	MessageTimeout time.Duration
	// MaxSpoutPending caps the trees in flight per spout task
	// ("topology.max.spout.pending", default 1000; 0 means no cap).
	MaxSpoutPending int
	// Debug logs every emitted tuple ("topology.debug").
	Debug bool
	// BatchLocal keeps the batches of a spout read alone with the batch
	// grouping on the spout task's worker ("topology.batch.local", default
	// true; see BatchGrouping). False spreads them over every task of the
	// reader, wherever it runs.
	BatchLocal bool
	// RescaleInPlace changes the parallelism of elastic components while
	// the other tasks keep running ("topology.rescale.in.place", default
	// true; see Topology.Elastic). False pauses the spouts and restarts
	// every task for any change of parallelism.
	RescaleInPlace bool
	// QueueSize is the capacity of each task's input queue in tuples
	// ("topology.executor.receive.buffer.size", default 32768).
	QueueSize int
	// BatchSize is the number of tuples moved between tasks at once
	// ("topology.transfer.batch.size", default 64).
	BatchSize int
	// FlushInterval is the longest a tuple or an ack waits in a partial
	// batch before it is sent ("topology.batch.flush.interval.millis",
	// default 1 ms as in Storm; 0 sends a partial batch only when its task
	// has nothing more to do right now).
	FlushInterval time.Duration

	// Storm's names for component settings, given topology-wide (zero:
	// not given). A component's own setting must not differ.
	//
	// TickFreq is the "tick" of every bolt that has none
	// ("topology.tick.tuple.freq.secs").
	TickFreq time.Duration
	// SubprocessTimeout is the "heartbeat_timeout" of shell components
	// ("topology.subprocess.timeout.secs").
	SubprocessTimeout time.Duration
	// ShellBoltMaxPending is the "max_pending" of shell bolts
	// ("topology.shellbolt.max.pending").
	ShellBoltMaxPending int
}

// TaskContext tells a running task where it is. It is built by the engine
// and passed to Spout.Open and Bolt.Prepare.
type TaskContext struct {
	// Topology is the validated topology the task belongs to.
	Topology *Topology
	// Component is the task's component.
	Component *Component
	// TaskID is the task's topology-wide id (1-based, Storm's numbering:
	// tasks are numbered component by component in id order).
	TaskID int
	// TaskIndex is the task's index within its component, 0..Parallelism-1.
	TaskIndex int
	// ComponentTasks gives the task ids of every component, for EmitDirect.
	ComponentTasks map[string][]int
	// Logger logs with the topology, component and task as attributes.
	Logger *slog.Logger
	// Metric, when set by the runtime, adds value to the task's custom
	// metric name (a counter: shown with the task's stats, summed per
	// component). Use RecordMetric, which tolerates a nil Metric.
	Metric func(name string, value float64)
}

// RecordMetric adds value to the task's custom metric name; it does
// nothing when the runtime gives no metrics (tests).
func (tc *TaskContext) RecordMetric(name string, value float64) {
	if tc != nil && tc.Metric != nil {
		tc.Metric(name, value)
	}
}

// Duration is a time.Duration that reads JSON either as a string in Go's
// syntax ("1.5s", "200ms") or as a number of seconds.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads "1.5s" or 1.5 (seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	v, err := ParseDuration(b)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// WithParallelism returns a copy of the validated topology t in which the
// components named in p (by id) have the given parallelism: a rebalance.
// Nothing else changes, so the copy needs no new validation; it shares t's
// decoded settings (read-only) and remembers t's catalog. An unknown
// component, a parallelism below 1 or outside the component's Autoscale
// bounds is an error naming it.
func (t *Topology) WithParallelism(p map[string]int) (*Topology, error) {
	c := *t
	c.Spouts = make([]*Component, len(t.Spouts))
	c.Bolts = make([]*Component, len(t.Bolts))
	found := 0
	for _, list := range []struct{ from, to []*Component }{{t.Spouts, c.Spouts}, {t.Bolts, c.Bolts}} {
		for i, comp := range list.from {
			cc := *comp
			if comp.Autoscale != nil {
				a := *comp.Autoscale
				cc.Autoscale = &a
			}
			if n, ok := p[comp.ID]; ok {
				if n < 1 {
					return nil, fmt.Errorf("component %q: parallelism %d: %w: want at least 1", comp.ID, n, ErrInvalid)
				}
				if a := comp.Autoscale; a != nil && (n < a.Min || n > a.Max) {
					return nil, fmt.Errorf("component %q: parallelism %d: %w: outside autoscale [%d, %d]", comp.ID, n, ErrInvalid, a.Min, a.Max)
				}
				cc.Parallelism = n
				found++
			}
			list.to[i] = &cc
		}
	}
	total := c.Settings.Ackers
	for _, comp := range append(slices.Clone(c.Spouts), c.Bolts...) {
		total += comp.Parallelism
	}
	if total > MaxTasks {
		return nil, fmt.Errorf("topology %q: %d tasks: %w: a topology has at most %d", t.Name, total, ErrInvalid, MaxTasks)
	}
	if found != len(p) {
		for id := range p {
			if !slices.ContainsFunc(append(slices.Clone(t.Spouts), t.Bolts...), func(c *Component) bool { return c.ID == id }) {
				return nil, fmt.Errorf("topology %q has no component %q: %w", t.Name, id, ErrUnknownComponent)
			}
		}
	}
	return &c, nil
}
