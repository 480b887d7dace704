package schedule

import (
	"fmt"
	"strings"

	"github.com/gale-stream/gale/topology"
)

// Kind tells spouts, bolts and ackers apart. The scheduler treats every
// kind alike; the kind only decides the numbering of task ids (acker
// tasks come last) and is carried for the reader.
type Kind string

// The component kinds.
const (
	KindSpout Kind = "spout"
	KindBolt  Kind = "bolt"
	KindAcker Kind = "acker"
)

// AckerID is the component id of a topology's acker tasks.
const AckerID = "__acker"

// Limits on the input, so that a corrupt or hostile input fails fast
// (ErrTooLarge) instead of exhausting memory.
const (
	MaxTasks   = 1 << 20
	MaxWorkers = 1 << 14
	// MaxCells bounds the flow problems: the (topology, worker) pairs the
	// topologies may use plus the (component, worker) pairs, about 100
	// bytes each. 100 workers and 50 topologies of 20 components use
	// 105,000.
	MaxCells = 1 << 21
)

// Config holds the cluster-wide scheduling settings.
type Config struct {
	// DefaultSlots is the slot limit of a worker whose Slots is zero: the
	// most tasks, of all topologies together, it may run. Zero means no
	// limit.
	DefaultSlots int
}

// DefaultConfig returns the default settings: no slot limit.
func DefaultConfig() Config { return Config{} }

// Validate reports a setting out of range.
func (c Config) Validate() error {
	if c.DefaultSlots < 0 {
		return fmt.Errorf("default slots %d: %w", c.DefaultSlots, ErrInvalidConfig)
	}
	return nil
}

// Worker is one live worker.
type Worker struct {
	// Name identifies the worker (its memberlist name); unique.
	Name string `json:"name"`
	// Slots is the most tasks the worker may run; zero means
	// Config.DefaultSlots.
	Slots int `json:"slots,omitempty"`
}

// Topology is one topology to run, reduced to what scheduling needs.
type Topology struct {
	// Name identifies the topology; unique.
	Name string `json:"name"`
	// Workers is "topology.workers": the most workers the topology's tasks
	// may use. Zero or less means no limit (every live worker).
	Workers int `json:"workers,omitempty"`
	// Components lists the spouts, bolts and the acker, in any order.
	Components []Component `json:"components"`
}

// Component is one spout, bolt or the acker of a topology.
type Component struct {
	// ID names the component within its topology; the acker's is AckerID.
	ID string `json:"id"`
	// Kind is KindSpout, KindBolt or KindAcker.
	Kind Kind `json:"kind"`
	// Parallelism is the number of tasks. Zero means 1 for a spout or a
	// bolt (as in the engine) and no task for the acker (acking off).
	Parallelism int `json:"parallelism,omitempty"`
	// Elastic: the component's tasks start and stop while the others run
	// (topology.Topology.Elastic), so moving one costs no pause: when a
	// worker must give up tasks, Compute moves these first.
	Elastic bool `json:"elastic,omitempty"`
}

// tasks returns the number of tasks of the component.
func (c Component) tasks() int {
	if c.Parallelism == 0 && c.Kind != KindAcker {
		return 1
	}
	return c.Parallelism
}

// Input is everything Compute reads.
type Input struct {
	// Workers are the live workers, in any order.
	Workers []Worker
	// Topologies are the topologies to run, in any order.
	Topologies []Topology
	// Previous is the assignment in force, or nil. Compute keeps its
	// placements where the rules allow; entries for workers, topologies,
	// components or task indexes that no longer exist are ignored.
	Previous *Assignment
}

// FromTopology reduces a validated topology to its scheduling input: its
// components with their parallelism, the acker with
// "topology.acker.executors" tasks, and "topology.workers" (Settings are
// set by validation; an unvalidated topology has no acker and no worker
// limit). Note that "topology.workers" defaults to 1, as in Storm: a
// topology that does not set it runs on one worker.
func FromTopology(t *topology.Topology) Topology {
	out := Topology{Name: t.Name, Workers: t.Settings.Workers}
	for _, c := range t.Spouts {
		out.Components = append(out.Components, Component{ID: c.ID, Kind: KindSpout, Parallelism: max(1, c.Parallelism),
			Elastic: t.Elastic(c.ID)})
	}
	for _, c := range t.Bolts {
		out.Components = append(out.Components, Component{ID: c.ID, Kind: KindBolt, Parallelism: max(1, c.Parallelism),
			Elastic: t.Elastic(c.ID)})
	}
	if t.Settings.Ackers > 0 {
		out.Components = append(out.Components, Component{ID: AckerID, Kind: KindAcker, Parallelism: t.Settings.Ackers})
	}
	return out
}

// validName reports whether s can name a worker, topology or component.
func validName(s string) bool { return s != "" && !strings.ContainsRune(s, 0) }
