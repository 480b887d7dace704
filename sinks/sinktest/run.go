package sinktest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// The source's data: Batches batches of Records records, batch b on
// partition b%2 of the source (its seq there b/2, offsets contiguous per
// partition). Record g (g = b*Records+i, unique over partitions) has
// tuple id ID(source, g), value Line(g) and timestamp Time(g).
const (
	Batches = 12
	Records = 40
)

// MaxPending is the runs' topology.max.spout.pending: at most this many
// batches are in flight.
const MaxPending = 3

// Line is the value of record g: a compact JSON document.
func Line(g int) string { return fmt.Sprintf(`{"n":%d,"user":"u%d"}`, g, g%7) }

// Base is the timestamp of record 0; record g is g minutes later, so the
// records cross midnight at g = 240 (hourly and daily buckets both split).
var Base = time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)

// Time is the timestamp of record g.
func Time(g int) time.Time { return Base.Add(time.Duration(g) * time.Minute) }

// ID is the tuple id of record g of source, as the source emits it (the
// flaky bolt's child, which reaches the sink, is ID(source, g) + "/0").
func ID(source string, g int) string {
	b, i := g/Records, g%Records
	return fmt.Sprintf("%s/%d/%d", source, b%2, (b/2)*Records+i)
}

// batchOf returns the plan of batch b of source.
func batchOf(source string, b int) *tuple.BatchMeta {
	p, seq := int32(b%2), b/2
	return &tuple.BatchMeta{ID: fmt.Sprintf("%s/%05d/%012d", source, p, seq), Source: source, Partition: p,
		Seq: uint64(seq), Start: int64(seq * Records), End: int64((seq + 1) * Records), Records: Records}
}

// chaos are the records a chaos run fails once: four batches replay.
var chaos = []int{5, 77, 80, 479}

// run is one run of the test topology: src -> flaky (2 tasks, shuffle) ->
// the sink under test (2 tasks, batch grouping).
type run struct {
	// source is the source's name (its topic).
	source string
	// failOnce are records whose first attempt the flaky bolt fails.
	failOnce []int
	// writeFails is the number of writes that fail first (retried).
	writeFails int64
	// wrap, if set, decorates each task's Writer.
	wrap func(sinks.Writer) sinks.Writer
	// during, if set, is called on its own goroutine while the topology
	// runs; the run waits for it.
	during func(r *run)

	// while and after the run
	sent        atomic.Int64 // batches the source sent (replays included)
	spoutFails  atomic.Int64 // batches that failed and replayed
	sinkRetries int64
	mu          sync.Mutex // guards bolts
	bolts       []*sinks.Bolt
}

// held returns the tuples the sink tasks hold (buffered or being written)
// and the batches they are writing.
func (r *run) held() (tuples, writing int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bolts {
		tuples += b.Stats().HeldTuples.Load()
		writing += b.Stats().Inflight.Load()
	}
	return tuples, writing
}

// start runs the topology named name with typ configured by config to its
// end, within two minutes.
func start[C any](t testing.TB, r *run, name string, typ registry.Bolt[C], config string) {
	t.Helper()
	if r.source == "" {
		r.source = "ev"
	}
	reg := registry.New()
	var failOnce sync.Map
	for _, g := range r.failOnce {
		failOnce.Store(ID(r.source, g), false)
	}
	reg.MustRegister(registry.Spout[registry.NoConfig]{Name: "src", Outputs: registry.Emits("value", "timestamp"),
		New: func(*registry.NoConfig) (spout.Spout, error) {
			return &source{topic: r.source, sent: &r.sent, fails: &r.spoutFails}, nil
		},
	}, registry.Bolt[registry.NoConfig]{Name: "flaky", Outputs: registry.PassThrough(),
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return &flaky{failOnce: &failOnce}, nil },
	})
	fails := &atomic.Int64{}
	fails.Store(r.writeFails)
	realNew := typ.New
	typ.New = func(c *C) (bolt.Bolt, error) {
		bb, err := realNew(c)
		if err != nil {
			return nil, err
		}
		b, ok := bb.(*sinks.Bolt)
		if !ok {
			return nil, fmt.Errorf("sinktest: %s makes a %T, not a *sinks.Bolt", typ.Name, bb)
		}
		b.WrapWriter(func(w sinks.Writer) sinks.Writer {
			if r.wrap != nil {
				w = r.wrap(w)
			}
			return failing(w, fails)
		})
		r.mu.Lock()
		r.bolts = append(r.bolts, b)
		r.mu.Unlock()
		return b, nil
	}
	reg.MustRegister(typ)
	js := fmt.Sprintf(`{"name": %q, "config": {"topology.max.spout.pending": %d},
	  "spouts": [{"id": "src", "type": "src"}],
	  "bolts": [
	    {"id": "flaky", "type": "flaky", "parallelism": 2, "inputs": [{"component": "src"}]},
	    {"id": "sink", "type": %q, "parallelism": 2, "inputs": [{"component": "flaky", "grouping": "batch"}],
	     "config": %s}]}`, name, MaxPending, typ.Name, config)
	topo, err := topology.Decode([]byte(js), reg)
	if err != nil {
		t.Fatalf("sinktest: the test topology with config %s: %v", config, err)
	}
	rt, err := local.New(topo, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var during sync.WaitGroup
	if r.during != nil {
		during.Add(1)
		go func() {
			defer during.Done()
			r.during(r)
		}()
	}
	err = rt.Run(ctx)
	during.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the topology did not finish within two minutes")
	}
	for _, b := range r.bolts {
		r.sinkRetries += b.Stats().Retries.Load()
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
	if records != Batches*Records || retries != r.sinkRetries {
		t.Fatalf("the sink tasks' status says %d records (written and dead-lettered) and %d retries; the run wrote %d with %d retries",
			records, retries, Batches*Records, r.sinkRetries)
	}
}

// source sends the batches with SendBatch and replays failed ones.
type source struct {
	topic   string
	next    int
	replay  []int
	pending map[int]bool
	out     spout.Collector
	sent    *atomic.Int64
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
	meta := batchOf(s.topic, b)
	msgs := make([]spout.Message, Records)
	for i := range msgs {
		g := b*Records + i
		msgs[i] = spout.Message{BatchID: meta.ID, ID: ID(s.topic, g), Values: tuple.Values{Line(g), Time(g).UnixMilli()}}
	}
	s.pending[b] = true
	s.sent.Add(1)
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
	return intercept(w, func() error {
		if n.Add(-1) >= 0 {
			return ErrInjected
		}
		return nil
	})
}

// intercept wraps w so that each write first asks before: a non-nil error
// fails the write without reaching the backend. It keeps w's
// RejectingWriter side.
func intercept(w sinks.Writer, before func() error) sinks.Writer {
	f := &interceptWriter{Writer: w, before: before}
	if rw, ok := w.(sinks.RejectingWriter); ok {
		return &interceptRejecting{interceptWriter: f, rw: rw}
	}
	return f
}

type interceptWriter struct {
	sinks.Writer
	before func() error
}

func (f *interceptWriter) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	if err := f.before(); err != nil {
		return 0, err
	}
	return f.Writer.WriteBatch(ctx, b)
}

type interceptRejecting struct {
	*interceptWriter
	rw sinks.RejectingWriter
}

func (f *interceptRejecting) WriteBatchRejecting(ctx context.Context, b *sinks.Batch) (int64, []sinks.Rejection, error) {
	if err := f.before(); err != nil {
		return 0, nil, err
	}
	return f.rw.WriteBatchRejecting(ctx, b)
}

// rejecting refuses the records whose offset ends in 7, like a search
// index refusing documents that clash with its mapping: they go to the
// dead-letter files.
type rejecting struct{ sinks.Writer }

func (r rejecting) WriteBatchRejecting(ctx context.Context, b *sinks.Batch) (int64, []sinks.Rejection, error) {
	var keep []sinks.Record
	var rej []sinks.Rejection
	for _, rec := range b.Records {
		if rejected(rec.ID) {
			rej = append(rej, sinks.Rejection{ID: rec.ID, Error: "mapper_parsing_exception: field [n] of type [long] (injected)"})
			continue
		}
		keep = append(keep, rec)
	}
	nb := *b
	nb.Records = keep
	var n int64
	var err error
	if rw, ok := r.Writer.(sinks.RejectingWriter); ok {
		var more []sinks.Rejection
		n, more, err = rw.WriteBatchRejecting(ctx, &nb)
		rej = append(rej, more...)
	} else {
		n, err = r.Writer.WriteBatch(ctx, &nb)
	}
	return n, rej, err
}

// rejected tells the records the rejecting writer refuses: the flaky
// bolt's children ("<source>/<partition>/<offset>/0") whose offset ends in 7.
func rejected(id string) bool { return len(id) > 3 && id[len(id)-3:] == "7/0" }

// Run runs the suite's topology once, with typ configured by config (its
// whole JSON config) and each task's Writer wrapped by wrap (nil: none),
// for a backend's own scenarios (a full disk, a backend stopped for a
// while). It returns the sink's write retries.
func Run[C any](t testing.TB, typ registry.Bolt[C], config string, wrap func(sinks.Writer) sinks.Writer) (retries int64) {
	t.Helper()
	r := &run{wrap: wrap}
	start(t, r, topologyName, typ, config)
	return r.sinkRetries
}

// Count counts the records of the suite's source that lines hold: record
// number -> times seen.
func Count(lines [][]byte) (map[int]int, error) {
	seen := map[int]int{}
	for _, line := range lines {
		var n int
		if _, err := fmt.Sscanf(string(line), `{"n":%d,`, &n); err != nil {
			return nil, fmt.Errorf("line %q is not one of the source's records", line)
		}
		seen[n]++
	}
	return seen, nil
}
