//go:build ceph

package ceph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/engine"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// batchSource sends n batches of recs records with SendBatch and replays
// failed batches (as in sinks/bolt_test.go).
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
		ts := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(off) * time.Minute).UnixMilli()
		msgs[i] = spout.Message{BatchID: meta.ID, ID: fmt.Sprintf("ev/%d/%d", p, off),
			Values: tuple.Values{fmt.Sprintf(`{"n": %d, "user": "u%d"}`, off, off%7), ts}}
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

// flaky passes tuples on; it fails the first attempt of the records whose
// ids are in failOnce (so their batches replay).
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
	sinks.Writer
	n *atomic.Int64
}

func (w *failingWriter) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	if w.n.Add(-1) >= 0 {
		return 0, errors.New("ceph cluster unavailable (injected)")
	}
	return w.Writer.WriteBatch(ctx, b)
}

type e2eRun struct {
	pool, ns    string
	failOnce    []string
	writeFails  int64
	spoutFails  atomic.Int64
	sinkRetries int64
}

// start runs the topology src -> flaky -> ceph_sink into r's namespace.
func (r *e2eRun) start(t *testing.T, batches, recs int) {
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
	// the real ceph_sink type (its config decoding and validation, its
	// bolt); New also keeps the bolts for their stats and, when failures
	// are asked for, wraps the writer each task opens
	var bolts []*sinks.Bolt
	var mu sync.Mutex
	var fails atomic.Int64
	fails.Store(r.writeFails)
	typ := Type()
	realNew := typ.New
	typ.New = func(settings any) (bolt.Bolt, error) {
		var b *sinks.Bolt
		if r.writeFails == 0 {
			bb, err := realNew(settings)
			if err != nil {
				return nil, err
			}
			b = bb.(*sinks.Bolt)
		} else {
			c := settings.(*Config)
			b = sinks.NewBolt(c.Options("ceph", func(ctx context.Context, _ *topology.TaskContext) (sinks.Writer, error) {
				w, err := c.Open(ctx)
				if err != nil {
					return nil, err
				}
				return &failingWriter{Writer: w, n: &fails}, nil
			}))
		}
		mu.Lock()
		bolts = append(bolts, b)
		mu.Unlock()
		return b, nil
	}
	reg.MustRegisterBolt(typ)
	js := fmt.Sprintf(`{"name": "cephtest", "config": {"topology.max.spout.pending": 3},
	  "spouts": [{"id": "src", "type": "src"}],
	  "bolts": [
	    {"id": "flaky", "type": "flaky", "parallelism": 2, "inputs": [{"component": "src"}]},
	    {"id": "archive", "type": "ceph_sink", "parallelism": 2, "inputs": [{"component": "flaky", "grouping": "batch"}],
	     "config": {"conf_file": %q, "pool": %q, "namespace": %q, "prefix": "gale", "field": "value",
	                "time_partition": "hour", "min_backoff_ms": 5, "max_backoff_ms": 20, "dead_letter_dir": %q}}]}`,
		testenv.CephConf(t), r.pool, r.ns, filepath.Join(t.TempDir(), "dlq"))
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
}

// TestCephSinkReplaysAreIdentical: a run with failed tuples (batch
// replays) and failed writes (retries) leaves exactly the objects of a
// clean run, byte for byte, as the Inventory reads them; every record is
// in them once.
func TestCephSinkReplaysAreIdentical(t *testing.T) {
	const batches, recs = 12, 40
	conn := adminConn(t)
	pool := tempPool(t, conn)
	clean := &e2eRun{pool: pool, ns: "clean"}
	clean.start(t, batches, recs)
	chaos := &e2eRun{pool: pool, ns: "chaos", failOnce: []string{"ev/0/5", "ev/1/77", "ev/0/80", "ev/1/479"}, writeFails: 5}
	chaos.start(t, batches, recs)

	if clean.spoutFails.Load() != 0 || clean.sinkRetries != 0 {
		t.Fatalf("the clean run had %d failed batches and %d write retries", clean.spoutFails.Load(), clean.sinkRetries)
	}
	if chaos.spoutFails.Load() < 4 || chaos.sinkRetries < 5 {
		t.Fatalf("the chaos run had %d failed batches and %d retries; the test injects 4 and 5", chaos.spoutFails.Load(), chaos.sinkRetries)
	}

	inventory := func(ns string) (*Writer, []string, map[string][]byte) {
		c := testConfig(t, pool, ns)
		c.Prefix, c.TimePartition = "gale", sinks.PartitionHour
		w := openWriter(t, c)
		var inv sinks.Inventory = w
		names, err := inv.Objects(context.Background(), "cephtest")
		if err != nil {
			t.Fatal(err)
		}
		content := map[string][]byte{}
		for _, n := range names {
			if content[n], err = inv.Read(context.Background(), n); err != nil {
				t.Fatal(err)
			}
		}
		return w, names, content
	}
	wa, namesA, a := inventory("clean")
	wb, namesB, b := inventory("chaos")
	if len(namesA) == 0 {
		t.Fatal("the clean run wrote nothing")
	}
	t.Logf("%d objects; chaos run: %d failed batches, %d write retries", len(namesA), chaos.spoutFails.Load(), chaos.sinkRetries)
	if !slices.Equal(namesA, namesB) {
		t.Fatalf("the runs wrote different objects:\nclean %v\nchaos %v", namesA, namesB)
	}
	if !maps.EqualFunc(a, b, bytes.Equal) {
		for n := range a {
			if !bytes.Equal(a[n], b[n]) {
				t.Errorf("%s: content differs between the clean and the chaos run (%d vs %d bytes)", n, len(a[n]), len(b[n]))
			}
		}
	}
	// the stored bytes too (the names are equal, so the lz4 frames are);
	// and nothing but these objects (no parts, no leftovers)
	rawA, rawB := rawObjects(t, wa), rawObjects(t, wb)
	if !maps.EqualFunc(rawA, rawB, bytes.Equal) || len(rawA) != len(namesA) {
		t.Fatalf("stored objects differ: clean %d objects, chaos %d, inventory %d", len(rawA), len(rawB), len(namesA))
	}

	// every record once, in the right hour, in offset order; the xattrs
	// name the batch the object's name encodes
	seen := map[int]int{}
	for _, name := range namesA {
		if !strings.HasPrefix(name, "gale/cephtest/ev/dt=2026-11-27/hh=") || !strings.HasSuffix(name, ".jsonl.lz4") {
			t.Errorf("unexpected object %s", name)
			continue
		}
		m, ok := sinks.ParseName(name, ".jsonl.lz4")
		if attrs := xattrs(t, wa, name); !ok || attrs[XattrBatch] != m.ID {
			t.Errorf("%s: %s=%q, the name says %q", name, XattrBatch, attrs[XattrBatch], m.ID)
		}
		last := -1
		for _, line := range sinks.SplitLines(a[name]) {
			var n int
			if _, err := fmt.Sscanf(string(line), `{"n":%d,`, &n); err != nil {
				t.Fatalf("%s: line %q", name, line)
			}
			hour := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute).Format("dt=2006-01-02/hh=15")
			if !strings.Contains(name, hour) {
				t.Errorf("record %d in %s, want hour %s", n, name, hour)
			}
			if n <= last {
				t.Errorf("%s: record %d after %d", name, n, last)
			}
			last = n
			seen[n]++
		}
	}
	for n := range batches * recs {
		if seen[n] != 1 {
			t.Errorf("record %d written %d times", n, seen[n])
		}
	}
}
