package registry

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sync"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
)

// Type is a component type ready to register: a [Spout] or a [Bolt] of
// some config type. Only those two implement it.
type Type interface {
	// entry checks the type and returns what the registry keeps of it.
	entry() (*entry, error)
}

// entry is a registered type: its description, and the factory of its
// kind (the other is nil).
type entry struct {
	ct       topology.ComponentType
	newSpout func(settings any) (spout.Spout, error)
	newBolt  func(settings any) (bolt.Bolt, error)
}

// NoConfig is the config type of a component type that takes no config:
// a topology that gives one a non-empty "config" is refused.
type NoConfig struct{}

// Spout describes a spout type whose config is a C.
type Spout[C any] struct {
	// Name is what topologies write in a component's "type": lowercase
	// letters, digits, '_', '.' or '-', starting with a letter.
	Name string
	// Doc is a one-line description shown by `gale types`.
	Doc string
	// Config returns a new config holding the defaults; nil means a zero
	// C. The component's JSON "config" is decoded into it strictly
	// (unknown fields and wrong types are errors naming their JSON path),
	// then its `Validate() error` method, if *C has one, is called.
	Config func() *C
	// Outputs declares the streams the spout emits (see [Emits] and
	// [Declare]); the zero value emits nothing.
	Outputs Outputs
	// OverridableOutputs lets a topology replace the declared streams with
	// its own "outputs" (a multilang spout, whose program decides).
	OverridableOutputs bool
	// Resizable says that the spout implements spout.Resizer: its tasks
	// share the work anew while they run, so that a change of its
	// parallelism keeps them running (topology.Elastic).
	Resizable bool
	// New builds one instance per task from the component's decoded
	// config. Every task of a component gets the same *C: treat it as
	// read-only.
	New func(c *C) (spout.Spout, error)
}

// Bolt describes a bolt type whose config is a C.
type Bolt[C any] struct {
	// Name, Doc, Config, Outputs and OverridableOutputs are as for [Spout].
	Name               string
	Doc                string
	Config             func() *C
	Outputs            Outputs
	OverridableOutputs bool
	// DirectStreams lists the output streams that are direct (the bolt
	// sends on them with EmitDirect only).
	DirectStreams []string
	// New builds one instance per task, as for [Spout].
	New func(c *C) (bolt.Bolt, error)
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)

func (s Spout[C]) entry() (*entry, error) {
	ct, err := componentType[C](topology.KindSpout, s.Name, s.Doc, s.Config, s.Outputs, s.New != nil)
	if err != nil {
		return nil, err
	}
	ct.OverridableOutputs = s.OverridableOutputs
	ct.Resizable = s.Resizable
	newFn := s.New
	return &entry{ct: *ct, newSpout: func(settings any) (spout.Spout, error) {
		c, err := configOf(s.Name, s.Config, settings)
		if err != nil {
			return nil, err
		}
		return newFn(c)
	}}, nil
}

func (b Bolt[C]) entry() (*entry, error) {
	ct, err := componentType[C](topology.KindBolt, b.Name, b.Doc, b.Config, b.Outputs, b.New != nil)
	if err != nil {
		return nil, err
	}
	ct.OverridableOutputs = b.OverridableOutputs
	ct.DirectStreams = slices.Clone(b.DirectStreams)
	newFn := b.New
	return &entry{ct: *ct, newBolt: func(settings any) (bolt.Bolt, error) {
		c, err := configOf(b.Name, b.Config, settings)
		if err != nil {
			return nil, err
		}
		return newFn(c)
	}}, nil
}

// componentType checks a type's description and turns it into the
// topology package's.
func componentType[C any](kind topology.Kind, name, doc string, config func() *C, out Outputs, hasNew bool) (*topology.ComponentType, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("register %s type %q: %w", kind, name, ErrBadName)
	}
	if !hasNew {
		return nil, fmt.Errorf("register %s type %q: %w", kind, name, ErrNoFactory)
	}
	want := reflect.TypeFor[C]()
	if out.config != nil && out.config != want {
		return nil, fmt.Errorf("register %s type %q: outputs declared for config %v, the type's is %v: %w",
			kind, name, out.config, want, ErrConfigType)
	}
	ct := &topology.ComponentType{Kind: kind, Name: name, Doc: doc, Outputs: out.declare}
	if want != reflect.TypeFor[NoConfig]() {
		ct.NewConfig = func() any {
			if config == nil {
				return new(C)
			}
			return config()
		}
	}
	return ct, nil
}

// configOf returns the decoded settings as the type's config. The
// settings of a type without config are nil, and so are those of a
// component nobody decoded (built by hand): the defaults apply.
func configOf[C any](name string, defaults func() *C, settings any) (*C, error) {
	switch c := settings.(type) {
	case *C:
		if c != nil {
			return c, nil
		}
	case nil:
	default:
		return nil, fmt.Errorf("type %q: settings of type %T, want *%v: %w", name, settings, reflect.TypeFor[C](), ErrConfigType)
	}
	if defaults != nil {
		return defaults(), nil
	}
	return new(C), nil
}

// Registry is a set of component types. It is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex // guards the maps below
	spouts map[string]*entry
	bolts  map[string]*entry
}

var _ topology.Catalog = (*Registry)(nil)

// New returns an empty registry.
func New() *Registry {
	return &Registry{spouts: map[string]*entry{}, bolts: map[string]*entry{}}
}

// Default is the process-wide registry that a program embedding Gale
// registers its own types into before it hands over to cli.Main. Libraries
// never register into it by themselves; package registry/all adds the
// built-in types to a registry of your choice.
var Default = New()

// Register adds types (spouts and bolts, in any order). A bad or duplicate
// name, a missing New, or Outputs declared for another config type is an
// error; the types before the bad one stay registered.
func (r *Registry) Register(types ...Type) error {
	for _, t := range types {
		e, err := t.entry()
		if err != nil {
			return err
		}
		if err := r.add(e); err != nil {
			return err
		}
	}
	return nil
}

func (r *Registry) add(e *entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.bolts
	if e.ct.Kind == topology.KindSpout {
		m = r.spouts
	}
	if _, dup := m[e.ct.Name]; dup {
		return fmt.Errorf("register %s type %q: %w", e.ct.Kind, e.ct.Name, ErrDuplicate)
	}
	m[e.ct.Name] = e
	return nil
}

// MustRegister is Register that panics on error, for main and init
// functions.
func (r *Registry) MustRegister(types ...Type) {
	if err := r.Register(types...); err != nil {
		panic(err)
	}
}

// Register adds types to Default.
func Register(types ...Type) error { return Default.Register(types...) }

// MustRegister adds types to Default and panics on error.
func MustRegister(types ...Type) { Default.MustRegister(types...) }

func (r *Registry) get(kind topology.Kind, name string) *entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if kind == topology.KindSpout {
		return r.spouts[name]
	}
	return r.bolts[name]
}

// ComponentType implements topology.Catalog.
func (r *Registry) ComponentType(kind topology.Kind, name string) (*topology.ComponentType, bool) {
	if e := r.get(kind, name); e != nil {
		ct := e.ct
		return &ct, true
	}
	return nil, false
}

// TypeNames implements topology.Catalog.
func (r *Registry) TypeNames(kind topology.Kind) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.bolts
	if kind == topology.KindSpout {
		m = r.spouts
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Clone returns a new registry holding the same types, for tests and
// programs that add their own types without touching the original.
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

// Filter returns a new registry holding the types for which keep is true:
// a worker that refuses some types (gale worker --deny-types shell) runs
// topologies from the filtered one, so those types cannot be built.
func (r *Registry) Filter(keep func(kind topology.Kind, name string) bool) *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := New()
	for k, v := range r.spouts {
		if keep(topology.KindSpout, k) {
			c.spouts[k] = v
		}
	}
	for k, v := range r.bolts {
		if keep(topology.KindBolt, k) {
			c.bolts[k] = v
		}
	}
	return c
}

// NewSpout builds a spout of the component's type from its settings.
func (r *Registry) NewSpout(c *topology.Component) (spout.Spout, error) {
	e := r.get(topology.KindSpout, c.Type)
	if e == nil {
		return nil, fmt.Errorf("component %q: spout type %q: %w", c.ID, c.Type, ErrUnknownType)
	}
	s, err := e.newSpout(c.Settings)
	if err != nil {
		return nil, fmt.Errorf("component %q: new %s spout: %w", c.ID, c.Type, err)
	}
	return s, nil
}

// NewBolt builds a bolt of the component's type from its settings.
func (r *Registry) NewBolt(c *topology.Component) (bolt.Bolt, error) {
	e := r.get(topology.KindBolt, c.Type)
	if e == nil {
		return nil, fmt.Errorf("component %q: bolt type %q: %w", c.ID, c.Type, ErrUnknownType)
	}
	b, err := e.newBolt(c.Settings)
	if err != nil {
		return nil, fmt.Errorf("component %q: new %s bolt: %w", c.ID, c.Type, err)
	}
	return b, nil
}

// Describe returns t as a catalog describes it (name, doc, config
// decoding, outputs), or the error Register would give: for tests of a
// type's config and outputs without a registry.
func Describe(t Type) (*topology.ComponentType, error) {
	e, err := t.entry()
	if err != nil {
		return nil, err
	}
	ct := e.ct
	return &ct, nil
}
