package topology

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Builder declares a topology in Go, the way Storm's TopologyBuilder does:
//
//	b := topology.NewBuilder("wordcount")
//	b.SetConfig(topology.ConfigAckers, 2)
//	b.Spout("sentences", "generator", 1).Config(generatorConfig)
//	b.Bolt("split", "split", 2).ShuffleGrouping("sentences")
//	b.Bolt("count", "count", 2).FieldsGrouping("split", "word").Tick(time.Second)
//	topo, err := b.Build(reg) // reg: a registry.Registry with the types
//
// Declaring never fails: Build checks everything at once, like Decode,
// and returns the same *Errors, with paths such as "bolts[1].inputs[0]"
// that count spouts and bolts in declaration order.
//
// A Builder is not safe for concurrent use.
type Builder struct {
	name   string
	config map[string]any
	spouts []*declarer
	bolts  []*declarer
}

// NewBuilder starts a topology called name.
func NewBuilder(name string) *Builder {
	return &Builder{name: name}
}

// SetConfig sets a topology config key, e.g. ConfigWorkers or a key of
// the user's own.
func (b *Builder) SetConfig(key string, value any) *Builder {
	if b.config == nil {
		b.config = map[string]any{}
	}
	b.config[key] = value
	return b
}

// Spout declares a spout of the registered type typ with parallelism
// tasks (0 means 1, or the Min of its Autoscale policy).
func (b *Builder) Spout(id, typ string, parallelism int) *SpoutDeclarer {
	d := &declarer{c: Component{ID: id, Type: typ, Parallelism: parallelism}}
	b.spouts = append(b.spouts, d)
	return &SpoutDeclarer{d: d}
}

// Bolt declares a bolt of the registered type typ with parallelism tasks
// (0 means 1, or the Min of its Autoscale policy). Subscribe it to
// streams with the grouping methods of the returned BoltDeclarer.
func (b *Builder) Bolt(id, typ string, parallelism int) *BoltDeclarer {
	d := &declarer{c: Component{ID: id, Type: typ, Parallelism: parallelism}}
	b.bolts = append(b.bolts, d)
	return &BoltDeclarer{d: d}
}

// Build validates the declared topology against cat (see
// Topology.Validate) and returns it. The Builder can be changed and built
// again afterwards; topologies built earlier do not change.
func (b *Builder) Build(cat Catalog) (*Topology, error) {
	t := &Topology{Name: b.name, Config: maps.Clone(b.config)}
	m := &marks{}
	var errs errList
	for _, list := range []struct {
		name  string
		decls []*declarer
		into  *[]*Component
	}{{"spouts", b.spouts, &t.Spouts}, {"bolts", b.bolts, &t.Bolts}} {
		for i, d := range list.decls {
			c := d.c.clone()
			*list.into = append(*list.into, c)
			if d.configErr != nil {
				errs.add(indexPath(list.name, i)+".config", ErrInvalid, "cannot encode config as JSON: %v", d.configErr)
				m.mark(c).config = true
			}
		}
	}
	t.validate(cat, m, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return t, nil
}

// declarer holds what is declared about one component.
type declarer struct {
	c         Component
	configErr error
}

func (d *declarer) setConfig(cfg any) {
	d.configErr = nil
	switch v := cfg.(type) {
	case nil:
		d.c.Config = nil
	case json.RawMessage:
		d.c.Config = slices.Clone(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			d.configErr = err
			d.c.Config = nil
			return
		}
		d.c.Config = raw
	}
}

// clone copies c deeply enough that changing one does not change the
// other.
func (c *Component) clone() *Component {
	out := *c
	out.Config = slices.Clone(c.Config)
	out.Inputs = slices.Clone(c.Inputs)
	for i := range out.Inputs {
		out.Inputs[i].Fields = slices.Clone(out.Inputs[i].Fields)
	}
	if c.Outputs != nil {
		out.Outputs = cloneStreams(c.Outputs)
	}
	if c.Autoscale != nil {
		a := *c.Autoscale
		out.Autoscale = &a
	}
	out.Streams = nil
	out.DirectStreams = nil
	out.Settings = nil
	return &out
}

// SpoutDeclarer completes the declaration of a spout.
type SpoutDeclarer struct{ d *declarer }

// Config sets the spout's config: a json.RawMessage as is, any other value
// marshalled to JSON (a struct of the type's config, or a map).
func (s *SpoutDeclarer) Config(cfg any) *SpoutDeclarer {
	s.d.setConfig(cfg)
	return s
}

// Outputs replaces the streams declared by the spout's type, for types
// that allow it (ComponentType.OverridableOutputs).
func (s *SpoutDeclarer) Outputs(streams Streams) *SpoutDeclarer {
	s.d.c.Outputs = cloneStreams(streams)
	return s
}

// Autoscale gives the spout an autoscaling policy (see Autoscale); zero
// fields other than Max take their defaults. The spout's parallelism must
// lie within the policy's bounds; 0 means a.Min.
func (s *SpoutDeclarer) Autoscale(a Autoscale) *SpoutDeclarer {
	s.d.c.Autoscale = &a
	return s
}

// BoltDeclarer completes the declaration of a bolt: its config and the
// streams it reads. Each grouping method adds one input; the ...Stream
// variants read a stream other than the default one.
type BoltDeclarer struct{ d *declarer }

// Config sets the bolt's config: a json.RawMessage as is, any other value
// marshalled to JSON.
func (b *BoltDeclarer) Config(cfg any) *BoltDeclarer {
	b.d.setConfig(cfg)
	return b
}

// Outputs replaces the streams declared by the bolt's type, for types
// that allow it (ComponentType.OverridableOutputs).
func (b *BoltDeclarer) Outputs(streams Streams) *BoltDeclarer {
	b.d.c.Outputs = cloneStreams(streams)
	return b
}

// Tick asks for a tick tuple every interval.
func (b *BoltDeclarer) Tick(every time.Duration) *BoltDeclarer {
	b.d.c.Tick = Duration(every)
	return b
}

// Autoscale gives the bolt an autoscaling policy (see Autoscale); zero
// fields other than Max take their defaults. The bolt's parallelism must
// lie within the policy's bounds; 0 means a.Min.
func (b *BoltDeclarer) Autoscale(a Autoscale) *BoltDeclarer {
	b.d.c.Autoscale = &a
	return b
}

// Input adds an input as is; empty Stream and Grouping take their defaults.
func (b *BoltDeclarer) Input(in Input) *BoltDeclarer {
	in.Fields = slices.Clone(in.Fields)
	b.d.c.Inputs = append(b.d.c.Inputs, in)
	return b
}

func (b *BoltDeclarer) input(component, stream string, g Grouping, fields []string) *BoltDeclarer {
	return b.Input(Input{Component: component, Stream: stream, Grouping: g, Fields: fields})
}

// ShuffleGrouping reads the default stream of component, spreading tuples
// randomly and evenly over the bolt's tasks.
func (b *BoltDeclarer) ShuffleGrouping(component string) *BoltDeclarer {
	return b.input(component, "", Shuffle, nil)
}

// ShuffleGroupingStream is ShuffleGrouping on the given stream.
func (b *BoltDeclarer) ShuffleGroupingStream(component, stream string) *BoltDeclarer {
	return b.input(component, stream, Shuffle, nil)
}

// FieldsGrouping reads the default stream of component, sending tuples with
// equal values of fields to the same task.
func (b *BoltDeclarer) FieldsGrouping(component string, fields ...string) *BoltDeclarer {
	return b.input(component, "", FieldsGrouping, fields)
}

// FieldsGroupingStream is FieldsGrouping on the given stream.
func (b *BoltDeclarer) FieldsGroupingStream(component, stream string, fields ...string) *BoltDeclarer {
	return b.input(component, stream, FieldsGrouping, fields)
}

// PartialKeyGrouping reads the default stream of component, sending each
// key of fields to the less loaded of two candidate tasks.
func (b *BoltDeclarer) PartialKeyGrouping(component string, fields ...string) *BoltDeclarer {
	return b.input(component, "", PartialKey, fields)
}

// PartialKeyGroupingStream is PartialKeyGrouping on the given stream.
func (b *BoltDeclarer) PartialKeyGroupingStream(component, stream string, fields ...string) *BoltDeclarer {
	return b.input(component, stream, PartialKey, fields)
}

// BatchGrouping reads the default stream of component, sending all tuples
// of one batch to the same task.
func (b *BoltDeclarer) BatchGrouping(component string) *BoltDeclarer {
	return b.input(component, "", BatchGrouping, nil)
}

// BatchGroupingStream is BatchGrouping on the given stream.
func (b *BoltDeclarer) BatchGroupingStream(component, stream string) *BoltDeclarer {
	return b.input(component, stream, BatchGrouping, nil)
}

// AllGrouping reads the default stream of component, sending every tuple
// to every task.
func (b *BoltDeclarer) AllGrouping(component string) *BoltDeclarer {
	return b.input(component, "", All, nil)
}

// AllGroupingStream is AllGrouping on the given stream.
func (b *BoltDeclarer) AllGroupingStream(component, stream string) *BoltDeclarer {
	return b.input(component, stream, All, nil)
}

// GlobalGrouping reads the default stream of component, sending every tuple
// to the task with the lowest id.
func (b *BoltDeclarer) GlobalGrouping(component string) *BoltDeclarer {
	return b.input(component, "", Global, nil)
}

// GlobalGroupingStream is GlobalGrouping on the given stream.
func (b *BoltDeclarer) GlobalGroupingStream(component, stream string) *BoltDeclarer {
	return b.input(component, stream, Global, nil)
}

// DirectGrouping reads the default stream of component, which must be
// declared direct: the emitter chooses the task.
func (b *BoltDeclarer) DirectGrouping(component string) *BoltDeclarer {
	return b.input(component, "", Direct, nil)
}

// DirectGroupingStream is DirectGrouping on the given stream.
func (b *BoltDeclarer) DirectGroupingStream(component, stream string) *BoltDeclarer {
	return b.input(component, stream, Direct, nil)
}

// LocalOrShuffleGrouping reads the default stream of component, preferring
// tasks in the emitter's worker.
func (b *BoltDeclarer) LocalOrShuffleGrouping(component string) *BoltDeclarer {
	return b.input(component, "", LocalOrShuffle, nil)
}

// LocalOrShuffleGroupingStream is LocalOrShuffleGrouping on the given
// stream.
func (b *BoltDeclarer) LocalOrShuffleGroupingStream(component, stream string) *BoltDeclarer {
	return b.input(component, stream, LocalOrShuffle, nil)
}

// NoneGrouping reads the default stream of component without caring which
// task gets a tuple (it behaves as ShuffleGrouping).
func (b *BoltDeclarer) NoneGrouping(component string) *BoltDeclarer {
	return b.input(component, "", None, nil)
}

// NoneGroupingStream is NoneGrouping on the given stream.
func (b *BoltDeclarer) NoneGroupingStream(component, stream string) *BoltDeclarer {
	return b.input(component, stream, None, nil)
}
