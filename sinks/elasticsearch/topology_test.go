package elasticsearch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
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

// t0 is the time of offset 0; 480 records a minute apart span two days.
var t0 = time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)

func line(off int) string { return fmt.Sprintf(`{"n":%d,"user":"u%d"}`, off, off%7) }

// batchSource sends n batches of recs records with SendBatch and replays
// the failed ones (as the kafka spout does).
type batchSource struct {
	n, recs int
	next    int
	replay  []int
	pending map[int]bool
	out     spout.Collector
	fails   *atomic.Int64
}

func (s *batchSource) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out, s.pending = out, map[int]bool{}
	return nil
}

func (s *batchSource) NextTuple(context.Context) error {
	var b int
	switch {
	case len(s.replay) > 0:
		b, s.replay = s.replay[0], s.replay[1:]
	case s.next < s.n:
		b = s.next
		s.next++
	case len(s.pending) == 0:
		return spout.ErrStop
	default:
		return nil
	}
	p := int32(b % 2)
	meta := &tuple.BatchMeta{ID: fmt.Sprintf("ev/%05d/%012d", p, b), Source: "ev", Partition: p, Seq: uint64(b),
		Start: int64(b * s.recs), End: int64((b + 1) * s.recs), Records: s.recs}
	msgs := make([]spout.Message, s.recs)
	for i := range msgs {
		off := b*s.recs + i
		ts := t0.Add(time.Duration(off) * time.Minute).UnixMilli()
		msgs[i] = spout.Message{BatchID: meta.ID, ID: fmt.Sprintf("ev/%d/%d", p, off), Values: tuple.Values{line(off), ts}}
	}
	s.pending[b] = true
	s.out.(spout.BatchSender).SendBatch(b, meta, msgs)
	return nil
}

func (s *batchSource) Ack(id any) { delete(s.pending, id.(int)) }
func (s *batchSource) Fail(id any) {
	s.fails.Add(1)
	s.replay = append(s.replay, id.(int))
}
func (s *batchSource) Close() error { return nil }

// flaky passes tuples on; it fails the first attempt of the listed ids.
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

// failingWriter fails the first n writes (shared by the tasks), then
// writes through.
type failingWriter struct {
	*Writer
	n *atomic.Int64
}

func (w *failingWriter) WriteBatchRejecting(ctx context.Context, b *sinks.Batch) (int64, []sinks.Rejection, error) {
	if w.n.Add(-1) >= 0 {
		return 0, nil, errors.New("backend unavailable (injected)")
	}
	return w.Writer.WriteBatchRejecting(ctx, b)
}

type run struct {
	index       string // the pattern
	failOnce    []string
	writeFails  int64
	spoutFails  atomic.Int64
	sinkRetries int64
	writer      *Writer // to read the documents back
}

func (r *run) start(t *testing.T, url, dlq string, batches, recs int) {
	t.Helper()
	reg := registry.New()
	var failOnce sync.Map
	for _, id := range r.failOnce {
		failOnce.Store(id, false)
	}
	reg.MustRegisterSpout(registry.SpoutType{
		ComponentType: topology.ComponentType{Name: "src", Outputs: registry.Fixed(topology.Streams{"default": {"value", "timestamp"}})},
		New:           func(any) (spout.Spout, error) { return &batchSource{n: batches, recs: recs, fails: &r.spoutFails}, nil },
	})
	reg.MustRegisterBolt(registry.BoltType{
		ComponentType: topology.ComponentType{Name: "flaky", Outputs: registry.PassThrough()},
		New:           func(any) (bolt.Bolt, error) { return &flaky{failOnce: &failOnce}, nil },
	})
	var bolts []*sinks.Bolt
	var mu sync.Mutex
	fails := &atomic.Int64{}
	fails.Store(r.writeFails)
	// es_sink as registered, with the writer wrapped to inject failures
	reg.MustRegisterBolt(sinks.SinkType("test_es_sink", "es_sink with injected write failures", NewConfig,
		func(c *Config) *sinks.Common { return &c.Common },
		func(c *Config) (*sinks.Bolt, error) {
			opts := c.Options("es", func(context.Context, *topology.TaskContext) (sinks.Writer, error) {
				w, err := NewWriter(c)
				if err != nil {
					return nil, err
				}
				w.ItemBackoff = 5 * time.Millisecond
				return &failingWriter{Writer: w, n: fails}, nil
			})
			b := sinks.NewBolt(opts)
			mu.Lock()
			bolts = append(bolts, b)
			mu.Unlock()
			return b, nil
		}))
	js := fmt.Sprintf(`{"name": "estest", "config": {"topology.max.spout.pending": 3},
	  "spouts": [{"id": "src", "type": "src"}],
	  "bolts": [
	    {"id": "flaky", "type": "flaky", "parallelism": 2, "inputs": [{"component": "src"}]},
	    {"id": "search", "type": "test_es_sink", "parallelism": 2, "inputs": [{"component": "flaky", "grouping": "batch"}],
	     "config": {"urls": [%q], "index": %q, "field": "value", "bulk_max_docs": 25,
	                "min_backoff_ms": 5, "max_backoff_ms": 20, "dead_letter_dir": %q}}]}`, url, r.index, dlq)
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
		r.sinkRetries += b.Stats().Retries.Load()
	}
	c := NewConfig()
	c.URLs, c.Index = []string{url}, r.index
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.writer, err = NewWriter(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.writer.Close() })
}

// TestESSinkReplaysAreIdentical: a topology run with failed tuples (batch
// replays) and failed writes (retries) leaves exactly the documents of a
// clean run, id by id and byte for byte, each record once, in the index
// of its day.
func TestESSinkReplaysAreIdentical(t *testing.T) {
	const batches, recs = 12, 40
	prefix := uniqueIndex("topo")
	e := newES(t, prefix+"-*")
	dlq := filepath.Join(t.TempDir(), "dlq")
	clean := &run{index: prefix + "-clean-{2006.01.02}"}
	clean.start(t, e.url, dlq, batches, recs)
	chaos := &run{index: prefix + "-chaos-{2006.01.02}", failOnce: []string{"ev/0/5", "ev/1/77", "ev/0/80", "ev/1/479"}, writeFails: 5}
	chaos.start(t, e.url, dlq, batches, recs)

	if clean.spoutFails.Load() != 0 || clean.sinkRetries != 0 {
		t.Fatalf("the clean run had %d failed batches and %d write retries", clean.spoutFails.Load(), clean.sinkRetries)
	}
	if chaos.spoutFails.Load() < 4 || chaos.sinkRetries < 5 {
		t.Fatalf("the chaos run had %d failed batches and %d retries; the test injects 4 and 5", chaos.spoutFails.Load(), chaos.sinkRetries)
	}
	e.refresh(prefix + "-*")
	a, _ := documents(t, clean.writer)
	b, _ := documents(t, chaos.writer)
	if len(a) != batches*recs {
		t.Fatalf("the clean run wrote %d documents, want %d", len(a), batches*recs)
	}
	for id, src := range a {
		if !bytes.Equal(b[id], src) {
			t.Errorf("%s differs between the clean and the chaos run: %s vs %s", id, src, b[id])
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			t.Errorf("%s: only in the chaos run", id)
		}
	}
	for off := range batches * recs {
		id := fmt.Sprintf("ev/%d/%d/0", off/recs%2, off) // the child the flaky bolt emits
		if string(a[id]) != line(off) {
			t.Errorf("%s is %s, want %s", id, a[id], line(off))
		}
	}
	// the documents are in the index of their day: 20:00 + 480 minutes
	// crosses midnight at offset 240
	for _, run := range []string{"clean", "chaos"} {
		for _, c := range []struct {
			day  string
			want int
		}{{"2026.11.27", 240}, {"2026.11.28", 240}} {
			idx := fmt.Sprintf("%s-%s-%s", prefix, run, c.day)
			if got := e.count(idx); got != c.want {
				t.Errorf("%s holds %d documents, want %d", idx, got, c.want)
			}
		}
	}
}
