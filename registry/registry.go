// Package registry holds the component types a Gale binary knows, the way
// database/sql holds drivers: built-in types register themselves in init,
// and a program that embeds Gale registers its own spouts and bolts before
// it runs a topology.
//
//	func init() {
//		registry.MustRegisterBolt(registry.BoltType{
//			ComponentType: topology.ComponentType{
//				Name:    "upper",
//				Doc:     "upper-cases the line field",
//				Outputs: registry.Fixed(topology.Streams{"default": {"line"}}),
//			},
//			New: func(any) (bolt.Bolt, error) { return bolt.Basic(upper{}), nil },
//		})
//	}
//
// Default is the process-wide registry that init functions fill; tests
// build their own with New (and Clone) so they share no mutable state.
package registry

import (
	"fmt"
	"regexp"
	"slices"
	"sync"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// SpoutType is a spout type: its description and its factory.
type SpoutType struct {
	topology.ComponentType
	// New builds one instance per task from the decoded settings (what
	// ComponentType.NewConfig returned, filled from JSON; nil when the type
	// takes no config).
	New func(settings any) (spout.Spout, error)
}

// BoltType is a bolt type: its description and its factory.
type BoltType struct {
	topology.ComponentType
	// New builds one instance per task; see SpoutType.New.
	New func(settings any) (bolt.Bolt, error)
}

// Registry is a set of component types. It is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex // guards the maps below
	spouts map[string]*SpoutType
	bolts  map[string]*BoltType
}

var _ topology.Catalog = (*Registry)(nil)

// New returns an empty registry.
func New() *Registry {
	return &Registry{spouts: map[string]*SpoutType{}, bolts: map[string]*BoltType{}}
}

// Default is the registry built-in types and init functions register into.
var Default = New()

var validName = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)

func checkType(ct *topology.ComponentType, hasNew bool) error {
	if !validName.MatchString(ct.Name) {
		return fmt.Errorf("register %s type %q: %w", ct.Kind, ct.Name, ErrBadName)
	}
	if !hasNew {
		return fmt.Errorf("register %s type %q: %w", ct.Kind, ct.Name, ErrNoFactory)
	}
	return nil
}

// RegisterSpout adds a spout type. A bad or duplicate name is an error.
func (r *Registry) RegisterSpout(t SpoutType) error {
	t.Kind = topology.KindSpout
	if err := checkType(&t.ComponentType, t.New != nil); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.spouts[t.Name]; dup {
		return fmt.Errorf("register spout type %q: %w", t.Name, ErrDuplicate)
	}
	r.spouts[t.Name] = &t
	return nil
}

// RegisterBolt adds a bolt type. A bad or duplicate name is an error.
func (r *Registry) RegisterBolt(t BoltType) error {
	t.Kind = topology.KindBolt
	if err := checkType(&t.ComponentType, t.New != nil); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.bolts[t.Name]; dup {
		return fmt.Errorf("register bolt type %q: %w", t.Name, ErrDuplicate)
	}
	r.bolts[t.Name] = &t
	return nil
}

// MustRegisterSpout is RegisterSpout that panics on error, for init
// functions.
func (r *Registry) MustRegisterSpout(t SpoutType) {
	if err := r.RegisterSpout(t); err != nil {
		panic(err)
	}
}

// MustRegisterBolt is RegisterBolt that panics on error, for init functions.
func (r *Registry) MustRegisterBolt(t BoltType) {
	if err := r.RegisterBolt(t); err != nil {
		panic(err)
	}
}

// Spout returns the spout type called name.
func (r *Registry) Spout(name string) (*SpoutType, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.spouts[name]
	return t, ok
}

// Bolt returns the bolt type called name.
func (r *Registry) Bolt(name string) (*BoltType, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.bolts[name]
	return t, ok
}

// ComponentType implements topology.Catalog.
func (r *Registry) ComponentType(kind topology.Kind, name string) (*topology.ComponentType, bool) {
	switch kind {
	case topology.KindSpout:
		if t, ok := r.Spout(name); ok {
			return &t.ComponentType, true
		}
	case topology.KindBolt:
		if t, ok := r.Bolt(name); ok {
			return &t.ComponentType, true
		}
	}
	return nil, false
}

// TypeNames implements topology.Catalog.
func (r *Registry) TypeNames(kind topology.Kind) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var names []string
	switch kind {
	case topology.KindSpout:
		for n := range r.spouts {
			names = append(names, n)
		}
	case topology.KindBolt:
		for n := range r.bolts {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Clone returns a new registry holding the same types, for tests that add
// their own types without touching Default.
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := New()
	for k, v := range r.spouts {
		c.spouts[k] = v
	}
	for k, v := range r.bolts {
		c.bolts[k] = v
	}
	return c
}

// NewSpout builds a spout of the component's type from its settings.
func (r *Registry) NewSpout(c *topology.Component) (spout.Spout, error) {
	t, ok := r.Spout(c.Type)
	if !ok {
		return nil, fmt.Errorf("component %q: spout type %q: %w", c.ID, c.Type, ErrUnknownType)
	}
	s, err := t.New(c.Settings)
	if err != nil {
		return nil, fmt.Errorf("component %q: new %s spout: %w", c.ID, c.Type, err)
	}
	return s, nil
}

// NewBolt builds a bolt of the component's type from its settings.
func (r *Registry) NewBolt(c *topology.Component) (bolt.Bolt, error) {
	t, ok := r.Bolt(c.Type)
	if !ok {
		return nil, fmt.Errorf("component %q: bolt type %q: %w", c.ID, c.Type, ErrUnknownType)
	}
	b, err := t.New(c.Settings)
	if err != nil {
		return nil, fmt.Errorf("component %q: new %s bolt: %w", c.ID, c.Type, err)
	}
	return b, nil
}

// RegisterSpout adds a spout type to Default.
func RegisterSpout(t SpoutType) error { return Default.RegisterSpout(t) }

// RegisterBolt adds a bolt type to Default.
func RegisterBolt(t BoltType) error { return Default.RegisterBolt(t) }

// MustRegisterSpout adds a spout type to Default and panics on error.
func MustRegisterSpout(t SpoutType) { Default.MustRegisterSpout(t) }

// MustRegisterBolt adds a bolt type to Default and panics on error.
func MustRegisterBolt(t BoltType) { Default.MustRegisterBolt(t) }

// Fixed returns an Outputs function that always declares streams.
func Fixed(streams topology.Streams) func(any, []tuple.Fields) (topology.Streams, error) {
	return func(any, []tuple.Fields) (topology.Streams, error) { return streams, nil }
}

// PassThrough returns an Outputs function declaring on the default stream
// the fields of the component's first input stream, for bolts that forward
// the tuples they receive (filters).
func PassThrough() func(any, []tuple.Fields) (topology.Streams, error) {
	return func(_ any, in []tuple.Fields) (topology.Streams, error) {
		if len(in) == 0 {
			return topology.Streams{}, nil
		}
		return topology.Streams{tuple.DefaultStream: in[0]}, nil
	}
}
