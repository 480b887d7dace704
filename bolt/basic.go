package bolt

import (
	"context"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// BasicBolt is the easy kind of bolt: every emit is anchored to the input
// being executed, and the input is acked when Execute returns nil and
// failed when it returns an error. Wrap one with Basic to run it.
type BasicBolt interface {
	Prepare(ctx context.Context, tc *topology.TaskContext) error
	Execute(ctx context.Context, t *tuple.Tuple, out BasicCollector) error
	Cleanup() error
}

// BasicCollector emits anchored to the current input.
type BasicCollector interface {
	// Emit sends values on the default stream.
	Emit(values tuple.Values)
	// EmitTo sends values on stream.
	EmitTo(stream string, values tuple.Values)
	// EmitDirect sends values to one task of a direct stream.
	EmitDirect(task int, stream string, values tuple.Values)
	// ReportError records an error without failing the input.
	ReportError(err error)
}

// Basic adapts a BasicBolt to the Bolt interface.
func Basic(b BasicBolt) Bolt { return &basicAdapter{b: b} }

type basicAdapter struct {
	b   BasicBolt
	out Collector
	cur basicCollector
}

var _ Bolt = (*basicAdapter)(nil)

func (a *basicAdapter) Prepare(ctx context.Context, tc *topology.TaskContext, out Collector) error {
	a.out = out
	a.cur.out = out
	return a.b.Prepare(ctx, tc)
}

func (a *basicAdapter) Execute(ctx context.Context, t *tuple.Tuple) error {
	a.cur.in = t
	err := a.b.Execute(ctx, t, &a.cur)
	a.cur.in = nil
	if err != nil {
		return err // the engine reports it and fails t
	}
	a.out.Ack(t)
	return nil
}

func (a *basicAdapter) Cleanup() error { return a.b.Cleanup() }

type basicCollector struct {
	out     Collector
	in      *tuple.Tuple
	anchors [1]*tuple.Tuple
}

func (c *basicCollector) Emit(values tuple.Values) { c.out.Emit(c.in, values) }

func (c *basicCollector) EmitTo(stream string, values tuple.Values) {
	c.anchors[0] = c.in
	c.out.EmitTo(stream, c.anchors[:], values)
}

func (c *basicCollector) EmitDirect(task int, stream string, values tuple.Values) {
	c.anchors[0] = c.in
	c.out.EmitDirect(task, stream, c.anchors[:], values)
}

func (c *basicCollector) ReportError(err error) { c.out.ReportError(err) }

// Func is a BasicBolt made of one function, for small stateless bolts.
type Func func(ctx context.Context, t *tuple.Tuple, out BasicCollector) error

// Prepare does nothing.
func (Func) Prepare(context.Context, *topology.TaskContext) error { return nil }

// Execute calls f.
func (f Func) Execute(ctx context.Context, t *tuple.Tuple, out BasicCollector) error {
	return f(ctx, t, out)
}

// Cleanup does nothing.
func (Func) Cleanup() error { return nil }
