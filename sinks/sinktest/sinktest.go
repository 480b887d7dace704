// Package sinktest runs a sink type in a real topology for the tests of
// every sink: a batch source, a bolt that fails some tuples (their batches
// replay), and the sink under test, whose first writes can be made to fail
// (retries). Each sink's test compares what a clean run and such a chaos
// run left in its backend.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/engine"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// The source's data: Batches batches of Records records, batch b on
// partition b%2 of topic Source (its seq there b/2, offsets contiguous per
// partition). Record g (g = b*Records+i, unique over partitions) has tuple
// id "<source>/<partition>/<offset>", value Line(g) and timestamp Time(g).
const (
	Batches = 12
	Records = 40
)

// Line is the value of record g: a compact JSON document.
func Line(g int) string { return fmt.Sprintf(`{"n":%d,"user":"u%d"}`, g, g%7) }

// Base is the timestamp of record 0; record g is g minutes later.
var Base = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// Time is the timestamp of record g.
func Time(g int) time.Time { return Base.Add(time.Duration(g) * time.Minute) }

// ID is the tuple id of record g of source.
func ID(source string, g int) string {
	b, i := g/Records, g%Records
	return fmt.Sprintf("%s/%d/%d", source, b%2, (b/2)*Records+i)
}

// Run is one run of the test topology.
type Run struct {
	// Source is the source topic name (default "ev").
	Source string
	// FailOnce are records (g) whose first attempt the middle bolt fails.
	FailOnce []int
	// WriteFails is the number of writes that fail first (retried).
	WriteFails int64
	// Wrap, if set, decorates each task's Writer (e.g. faster retries).
	Wrap func(sinks.Writer) sinks.Writer
	// Base, if set, replaces the package's Base as the time of record 0.
	Base time.Time

	// After Start: the batches that failed (and replayed), and the
	// sink's write retries.
	SpoutFails  atomic.Int64
	SinkRetries int64
}

// Chaos are the FailOnce records of a chaos run: four batches replay.
var Chaos = []int{5, 77, 80, 479}

// Start runs src -> flaky (2 tasks) -> the sink (typ, 2 tasks, batch
// grouping, config) of topology name to its end, within a minute.
func (r *Run) Start(t testing.TB, name string, typ registry.BoltType, config string) {
	t.Helper()
	if r.Source == "" {
		r.Source = "ev"
	}
	if r.Base.IsZero() {
		r.Base = Base
	}
	reg := registry.New()
	var failOnce sync.Map
	for _, g := range r.FailOnce {
		failOnce.Store(ID(r.Source, g), false)
	}
	reg.MustRegisterSpout(registry.SpoutType{
		ComponentType: topology.ComponentType{Name: "src", Outputs: registry.Fixed(topology.Streams{"default": {"value", "timestamp"}})},
		New: func(any) (spout.Spout, error) {
			return &source{topic: r.Source, base: r.Base, fails: &r.SpoutFails}, nil
		},
	})
	reg.MustRegisterBolt(registry.BoltType{
		ComponentType: topology.ComponentType{Name: "flaky", Outputs: registry.PassThrough()},
		New:           func(any) (bolt.Bolt, error) { return &flaky{failOnce: &failOnce}, nil },
	})
	var bolts []*sinks.Bolt
	var mu sync.Mutex
	fails := &atomic.Int64{}
	fails.Store(r.WriteFails)
	realNew := typ.New
	typ.New = func(settings any) (bolt.Bolt, error) {
		bb, err := realNew(settings)
		if err != nil {
			return nil, err
		}
		b, ok := bb.(*sinks.Bolt)
		if !ok {
			return nil, fmt.Errorf("sinktest: %s makes a %T, not a *sinks.Bolt", typ.Name, bb)
		}
		b.WrapWriter(func(w sinks.Writer) sinks.Writer {
			if r.Wrap != nil {
				w = r.Wrap(w)
			}
			return failing(w, fails)
		})
		mu.Lock()
		bolts = append(bolts, b)
		mu.Unlock()
		return b, nil
	}
	reg.MustRegisterBolt(typ)
	js := fmt.Sprintf(`{"name": %q, "config": {"topology.max.spout.pending": 3},
	  "spouts": [{"id": "src", "type": "src"}],
	  "bolts": [
	    {"id": "flaky", "type": "flaky", "parallelism": 2, "inputs": [{"component": "src"}]},
	    {"id": "sink", "type": %q, "parallelism": 2, "inputs": [{"component": "flaky", "grouping": "batch"}],
	     "config": %s}]}`, name, typ.Name, config)
	topo, err := topology.Decode([]byte(js), reg)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := engine.New(topo, engine.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rt.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the topology did not finish within a minute")
	}
	for _, b := range bolts {
		r.SinkRetries += b.Stats().Retries.Load()
	}
	// the sink tasks report their writes in the runtime's stats (the
	// monitor and /metrics read them there)
	var records, retries int64
	for _, ts := range rt.Stats().Tasks {
		if ts.Component == "sink" {
			if ts.Status == nil || ts.Status.Sink == nil {
				t.Fatalf("sink task %d reports no status", ts.Task)
			}
			records += ts.Status.Sink.Records + ts.Status.Sink.Rejected // written, or dead-lettered
			retries += ts.Status.Sink.Retries
		}
	}
	if records != Batches*Records || retries != r.SinkRetries {
		t.Fatalf("the sink tasks' status says %d records (written and dead-lettered) and %d retries; the run wrote %d with %d retries", records, retries, Batches*Records, r.SinkRetries)
	}
}

// CheckChaos fails the test unless clean ran without failures and chaos
// had the failures it was asked for.
func CheckChaos(t testing.TB, clean, chaos *Run) {
	t.Helper()
	if clean.SpoutFails.Load() != 0 || clean.SinkRetries != 0 {
		t.Fatalf("the clean run had %d failed batches and %d write retries", clean.SpoutFails.Load(), clean.SinkRetries)
	}
	if chaos.SpoutFails.Load() < int64(len(chaos.FailOnce)) || chaos.SinkRetries < chaos.WriteFails {
		t.Fatalf("the chaos run had %d failed batches and %d retries; it injects %d and %d",
			chaos.SpoutFails.Load(), chaos.SinkRetries, len(chaos.FailOnce), chaos.WriteFails)
	}
}

// source sends the batches with SendBatch and replays failed ones.
type source struct {
	topic   string
	base    time.Time
	next    int
	replay  []int
	pending map[int]bool
	out     spout.Collector
	fails   *atomic.Int64
}

func (s *source) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out, s.pending = out, map[int]bool{}
	return nil
}

func (s *source) NextTuple(context.Context) error {
	var b int
	switch {
	case len(s.replay) > 0:
		b, s.replay = s.replay[0], s.replay[1:]
	case s.next < Batches:
		b = s.next
		s.next++
	case len(s.pending) == 0:
		return spout.ErrStop
	default:
		return nil
	}
	p, seq := int32(b%2), b/2
	meta := &tuple.BatchMeta{ID: fmt.Sprintf("%s/%05d/%012d", s.topic, p, seq), Source: s.topic, Partition: p,
		Seq: uint64(seq), Start: int64(seq * Records), End: int64((seq + 1) * Records), Records: Records}
	msgs := make([]spout.Message, Records)
	for i := range msgs {
		g := b*Records + i
		msgs[i] = spout.Message{BatchID: meta.ID, ID: ID(s.topic, g), Values: tuple.Values{Line(g), s.base.Add(time.Duration(g) * time.Minute).UnixMilli()}}
	}
	s.pending[b] = true
	s.out.(spout.BatchSender).SendBatch(b, meta, msgs)
	return nil
}

func (s *source) Ack(id any) { delete(s.pending, id.(int)) }
func (s *source) Fail(id any) {
	s.fails.Add(1)
	s.replay = append(s.replay, id.(int))
}
func (s *source) Close() error { return nil }

// flaky passes tuples on, failing the first attempt of those in failOnce.
type flaky struct {
	out      bolt.Collector
	failOnce *sync.Map
}

func (f *flaky) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	f.out = out
	return nil
}

func (f *flaky) Execute(_ context.Context, t *tuple.Tuple) error {
	if v, ok := f.failOnce.Load(t.ID); ok && !v.(bool) {
		f.failOnce.Store(t.ID, true)
		f.out.Fail(t)
		return nil
	}
	f.out.Emit(t, t.Values)
	f.out.Ack(t)
	return nil
}

func (f *flaky) Cleanup() error { return nil }

// ErrInjected is the error of an injected write failure.
var ErrInjected = errors.New("backend unavailable (injected)")

// failing wraps w so that the first n writes (shared by every task) fail,
// keeping w's RejectingWriter side.
func failing(w sinks.Writer, n *atomic.Int64) sinks.Writer {
	f := &failWriter{Writer: w, n: n}
	if rw, ok := w.(sinks.RejectingWriter); ok {
		return &failRejecting{failWriter: f, rw: rw}
	}
	return f
}

type failWriter struct {
	sinks.Writer
	n *atomic.Int64
}

func (f *failWriter) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	if f.n.Add(-1) >= 0 {
		return 0, ErrInjected
	}
	return f.Writer.WriteBatch(ctx, b)
}

type failRejecting struct {
	*failWriter
	rw sinks.RejectingWriter
}

func (f *failRejecting) WriteBatchRejecting(ctx context.Context, b *sinks.Batch) (int64, []sinks.Rejection, error) {
	if f.n.Add(-1) >= 0 {
		return 0, nil, ErrInjected
	}
	return f.rw.WriteBatchRejecting(ctx, b)
}

// CheckRecords checks what a sink wrote: objects (name -> decoded content, as
// written by a sink with field "value" and hourly time partitioning) hold
// every record of the source once, each in the object of its hour, in
// record order within an object.
func CheckRecords(t testing.TB, objects map[string][]byte) {
	t.Helper()
	seen := map[int]int{}
	for name, content := range objects {
		last := -1
		for _, line := range sinks.SplitLines(content) {
			var n int
			if _, err := fmt.Sscanf(string(line), `{"n":%d,`, &n); err != nil {
				t.Fatalf("%s: line %q", name, line)
			}
			if hour := Time(n).Format("dt=2006-01-02/hh=15"); !strings.Contains(name, hour) {
				t.Errorf("record %d in %s, want hour %s", n, name, hour)
			}
			if n <= last {
				t.Errorf("%s: record %d after %d", name, n, last)
			}
			last = n
			seen[n]++
		}
	}
	for n := range Batches * Records {
		if seen[n] != 1 {
			t.Errorf("record %d written %d times", n, seen[n])
		}
	}
}

// Batch returns batch seq of partition 3 of the topic "events", of the
// topology "topo", with one record per line (tuple ids
// "events/3/<offset>", offsets from seq*1000): the batches of the sinks'
// writer tests.
func Batch(seq uint64, lines []string) *sinks.Batch {
	m := &tuple.BatchMeta{ID: fmt.Sprintf("events/00003/%012d", seq), Source: "events", Partition: 3, Seq: seq,
		Start: int64(seq) * 1000, End: int64(seq)*1000 + int64(len(lines)), Records: len(lines)}
	b := &sinks.Batch{Topology: "topo", Meta: m}
	for i, l := range lines {
		b.Records = append(b.Records, sinks.Record{ID: fmt.Sprintf("events/3/%d", m.Start+int64(i)), Line: []byte(l)})
	}
	return b
}

// JSONLines returns n small JSON documents, {"n":i,"user":"u<i%7>"}.
func JSONLines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"n":%d,"user":"u%d"}`, i, i%7)
	}
	return out
}
