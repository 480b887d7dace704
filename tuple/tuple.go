// Package tuple holds the data that flows through a Gale topology: a
// [Tuple] is an ordered list of [Values] whose names ([Fields]) are declared
// by the stream it travels on.
//
// Tuples are passed between tasks of one process without serialisation, so
// a tuple's Values must not be modified once emitted: downstream tasks may
// share the same slice.
package tuple

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gale-stream/gale/internal/tuplestate"
)

// Reserved stream and component names.
const (
	// DefaultStream is the stream a component emits on when it names none.
	DefaultStream = "default"
	// TickStream carries the tick tuples the engine sends to a bolt that
	// asked for them (see [Tuple.IsTick]).
	TickStream = "__tick"
	// SystemComponent is the source component of tick tuples.
	SystemComponent = "__system"
	// BatchEndStream carries the engine's end-of-batch markers (see
	// [Tuple.IsBatchEnd]); bolts never see them in Execute.
	BatchEndStream = "__batch_end"
)

// BatchMeta describes a batch: the source range its records come from.
// The spout that cuts the batch sets it when it sends the batch (see
// spout.BatchSender); batch-aware bolts get it with the batch
// (bolt.BatchBolt). It must not be modified once sent.
type BatchMeta struct {
	// ID is the batch id, equal to the BatchID of the batch's tuples, for
	// example "topic/00003/000000000042".
	ID string `json:"id"`
	// Origin is the spout component that sent the batch (set by the engine).
	Origin string `json:"origin"`
	// Source names where the records come from, e.g. the Kafka topic.
	Source string `json:"source"`
	// Partition and Seq locate the batch in its source: the Seq-th batch
	// of the partition.
	Partition int32  `json:"partition"`
	Seq       uint64 `json:"seq"`
	// Start and End bound the source offsets of the batch: [Start, End).
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Records is the number of records the spout emitted for the batch
	// (the runtime's SendBatch sets it to the tuples it sent).
	Records int `json:"records"`
	// Committed is where the partition's committed batches end when the
	// spout sent this attempt: every batch with a Seq below it is
	// committed and never sent again. Bolts that apply batches in order
	// (package bolt/stateful) start there.
	Committed uint64 `json:"committed"`
}

// Fields names the values of the tuples on one stream, in order.
type Fields []string

// Index returns the position of name in f, or -1.
func (f Fields) Index(name string) int {
	return slices.Index(f, name)
}

// Contains reports whether f names the field name.
func (f Fields) Contains(name string) bool { return f.Index(name) >= 0 }

// String returns the fields as "[a b c]".
func (f Fields) String() string { return "[" + strings.Join(f, " ") + "]" }

// Values is the ordered content of a tuple.
type Values []any

// Tuple is one message received by a bolt.
//
// The exported fields are set by the engine; bolts read them. The Values
// slice is shared with other receivers of the same emit and must be
// treated as read-only. The engine's own state of the tuple (the tuple
// trees it belongs to, the edges emitted anchored to it, whether it was
// acked) is unexported: a bolt cannot corrupt acking.
type Tuple struct {
	// Values are the tuple's content, one per field of Fields.
	Values Values
	// Fields names Values; it is shared by every tuple of the stream.
	Fields Fields
	// Stream is the stream the tuple arrived on.
	Stream string
	// Component and Task identify the emitter.
	Component string
	Task      int

	// ID is a deterministic tuple id when the source gives one, for example
	// "topic/partition/offset" from the Kafka spout; empty otherwise.
	// A tuple emitted anchored to exactly one input that belongs to a batch
	// (BatchID set) inherits the BatchID and an ID derived from its input's:
	// "<input ID>/<k>" for the input's k-th child, so replays of a batch
	// carry the same ids all the way down. Outside batches IDs are not
	// derived, which keeps emits free of allocations.
	ID string
	// BatchID names the batch the tuple belongs to (see package sinks);
	// empty when the source does not cut batches.
	BatchID string

	// state is the engine's (package internal/tuplestate).
	state tuplestate.State
}

func init() {
	tuplestate.Of = func(t any) *tuplestate.State { return &t.(*Tuple).state }
}

// Len returns the number of values.
func (t *Tuple) Len() int { return len(t.Values) }

// Value returns the i-th value, or nil when out of range.
func (t *Tuple) Value(i int) any {
	if i < 0 || i >= len(t.Values) {
		return nil
	}
	return t.Values[i]
}

// ValueByField returns the value of the named field, or nil when the
// stream has no such field.
func (t *Tuple) ValueByField(name string) any {
	return t.Value(t.Fields.Index(name))
}

// String returns the value of field name formatted as a string: a string
// as is, []byte as text, anything else with fmt's %v. It returns "" when
// the field is missing.
func (t *Tuple) String(name string) string {
	return AsString(t.ValueByField(name))
}

// Tracked reports whether t belongs to a tuple tree (it descends from a
// spout tuple emitted with a message id, with acking on): acking or failing
// it then counts.
func (t *Tuple) Tracked() bool { return len(t.state.Anchors) > 0 }

// Attempt returns the root of the first tuple tree t belongs to, or 0 when
// t is not tracked. For a tuple of a batch it names the attempt of the
// batch (bolt.Batch.Attempt): a replay of the batch has another.
func (t *Tuple) Attempt() uint64 {
	if len(t.state.Anchors) == 0 {
		return 0
	}
	return t.state.Anchors[0].Root
}

// IsBatchEnd reports whether t is an end-of-batch marker: the engine's
// message, from one upstream task, that it sent its last tuple of a batch
// (its Values: the number of the batch's tuples it sent to this task, and
// the *BatchMeta).
func (t *Tuple) IsBatchEnd() bool { return t.Stream == BatchEndStream }

// IsTick reports whether t is a tick tuple sent by the engine.
func (t *Tuple) IsTick() bool {
	return t.Stream == TickStream && t.Component == SystemComponent
}

// AsString formats a value as text: a string as is, []byte as text, nil
// as "", anything else with fmt's %v.
func AsString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// CompareIDs orders tuple ids: segment by segment ("/"-separated), numeric
// segments by value, others as text. So "t/3/9" < "t/3/10", and a child
// "t/3/9/0" follows its parent's siblings before it.
func CompareIDs(a, b string) int {
	// the segments both share, text for text, compare equal: skip them
	// (the ids of one batch differ in their last segment only)
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if j := strings.LastIndexByte(a[:i], '/'); j >= 0 {
		a, b = a[j+1:], b[j+1:]
	}
	for a != "" || b != "" {
		var sa, sb string
		sa, a, _ = strings.Cut(a, "/")
		sb, b, _ = strings.Cut(b, "/")
		na, okA := parseDecimal(sa)
		nb, okB := parseDecimal(sb)
		var c int
		switch {
		case okA && okB:
			c = cmp.Compare(na, nb)
		default:
			c = strings.Compare(sa, sb)
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// parseDecimal is strconv.ParseUint(s, 10, 64) without its error value
// (which allocates: CompareIDs is called n log n times per sorted batch,
// on segments that are often not numbers).
func parseDecimal(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		if n > (math.MaxUint64-uint64(d))/10 {
			return 0, false // overflows: compared as text, as ParseUint's error made it
		}
		n = n*10 + uint64(d)
	}
	return n, true
}
