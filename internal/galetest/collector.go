package galetest

import (
	"sync"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/tuple"
)

// Emitted is one tuple a fake collector received.
type Emitted struct {
	Stream     string
	Values     tuple.Values
	Anchors    []*tuple.Tuple // bolts only
	MsgID      any            // spouts only
	DirectTask int
	ID         string
	BatchID    string
}

// BoltCollector records what a bolt emits, acks and fails. It is safe
// for concurrent use.
type BoltCollector struct {
	mu      sync.Mutex // guards the fields below
	Emitted []Emitted
	Acked   []*tuple.Tuple
	Failed  []*tuple.Tuple
	Errors  []error
	Resets  int
	// TaskIDs is what Send returns when NeedTaskIDs is set.
	TaskIDs []int
}

var _ bolt.Collector = (*BoltCollector)(nil)

func (c *BoltCollector) Emit(anchor *tuple.Tuple, values tuple.Values) {
	var anchors []*tuple.Tuple
	if anchor != nil {
		anchors = []*tuple.Tuple{anchor}
	}
	c.Send(bolt.Message{Anchors: anchors, Values: values})
}

func (c *BoltCollector) EmitTo(stream string, anchors []*tuple.Tuple, values tuple.Values) {
	c.Send(bolt.Message{Stream: stream, Anchors: anchors, Values: values})
}

func (c *BoltCollector) EmitDirect(task int, stream string, anchors []*tuple.Tuple, values tuple.Values) {
	c.Send(bolt.Message{Stream: stream, Anchors: anchors, Values: values, DirectTask: task})
}

func (c *BoltCollector) Send(m bolt.Message) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.Stream == "" {
		m.Stream = tuple.DefaultStream
	}
	c.Emitted = append(c.Emitted, Emitted{Stream: m.Stream, Values: m.Values,
		Anchors: append([]*tuple.Tuple(nil), m.Anchors...), DirectTask: m.DirectTask, ID: m.ID})
	if m.NeedTaskIDs {
		return append([]int(nil), c.TaskIDs...)
	}
	return nil
}

func (c *BoltCollector) Ack(t *tuple.Tuple) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Acked = append(c.Acked, t)
}

func (c *BoltCollector) Fail(t *tuple.Tuple) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Failed = append(c.Failed, t)
}

func (c *BoltCollector) ResetTimeout(*tuple.Tuple) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Resets++
}

func (c *BoltCollector) ReportError(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Errors = append(c.Errors, err)
}

// Snapshot returns copies of the recorded emits, acks, fails and errors.
func (c *BoltCollector) Snapshot() (emitted []Emitted, acked, failed []*tuple.Tuple, errs []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Emitted(nil), c.Emitted...), append([]*tuple.Tuple(nil), c.Acked...),
		append([]*tuple.Tuple(nil), c.Failed...), append([]error(nil), c.Errors...)
}

// SpoutCollector records what a spout emits. It is safe for concurrent use.
type SpoutCollector struct {
	mu      sync.Mutex // guards the fields below
	Emitted []Emitted
	Errors  []error
	TaskIDs []int
	Trees   int // SendTree calls
}

var (
	_ spout.Collector  = (*SpoutCollector)(nil)
	_ spout.TreeSender = (*SpoutCollector)(nil)
)

// SendTree records every message, each with msgID, and counts the tree.
func (c *SpoutCollector) SendTree(msgID any, msgs []spout.Message) {
	for _, m := range msgs {
		m.MsgID = msgID
		c.Send(m)
	}
	c.mu.Lock()
	c.Trees++
	c.mu.Unlock()
}

func (c *SpoutCollector) Emit(values tuple.Values, msgID any) {
	c.Send(spout.Message{Values: values, MsgID: msgID})
}

func (c *SpoutCollector) EmitTo(stream string, values tuple.Values, msgID any) {
	c.Send(spout.Message{Stream: stream, Values: values, MsgID: msgID})
}

func (c *SpoutCollector) EmitDirect(task int, stream string, values tuple.Values, msgID any) {
	c.Send(spout.Message{Stream: stream, Values: values, MsgID: msgID, DirectTask: task})
}

func (c *SpoutCollector) Send(m spout.Message) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.Stream == "" {
		m.Stream = tuple.DefaultStream
	}
	c.Emitted = append(c.Emitted, Emitted{Stream: m.Stream, Values: m.Values, MsgID: m.MsgID,
		DirectTask: m.DirectTask, ID: m.ID, BatchID: m.BatchID})
	if m.NeedTaskIDs {
		return append([]int(nil), c.TaskIDs...)
	}
	return nil
}

func (c *SpoutCollector) ReportError(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Errors = append(c.Errors, err)
}

// Snapshot returns copies of the recorded emits and errors.
func (c *SpoutCollector) Snapshot() ([]Emitted, []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Emitted(nil), c.Emitted...), append([]error(nil), c.Errors...)
}
