package hdfs_test

import (
	"bytes"
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
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/hdfs"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// batchSource sends n batches of recs records with SendBatch and replays
// failed batches.
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

// flaky passes tuples on; it fails the first attempt of every record whose
// id is in failOnce.
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

// failingWriter fails the first n writes, then writes through.
type failingWriter struct {
	sinks.Writer
	n *atomic.Int64
}

func (w *failingWriter) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	if w.n.Add(-1) >= 0 {
		return 0, errors.New("backend unavailable (injected)")
	}
	return w.Writer.WriteBatch(ctx, b)
}

type run struct {
	dir         string
	failOnce    []string
	writeFails  int64
	spoutFails  atomic.Int64
	sinkRetries int64
}

// start runs the topology src -> flaky -> hdfs sink (2 tasks, hourly
// partitions) to the end.
func (r *run) start(t *testing.T, nn string, batches, recs int) {
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
	failures := &atomic.Int64{}
	failures.Store(r.writeFails)
	reg.MustRegisterBolt(sinks.SinkType("hdfs_test_sink", "hdfs_sink with injected write failures", hdfs.NewConfig,
		func(c *hdfs.Config) *sinks.Common { return &c.Common },
		func(c *hdfs.Config) (*sinks.Bolt, error) {
			opts := c.Options("hdfs", func(context.Context, *topology.TaskContext) (sinks.Writer, error) {
				return &failingWriter{Writer: c.Writer(), n: failures}, nil
			})
			b := sinks.NewBolt(opts)
			mu.Lock()
			bolts = append(bolts, b)
			mu.Unlock()
			return b, nil
		}))
	js := fmt.Sprintf(`{"name": "sinktest", "config": {"topology.max.spout.pending": 3},
	  "spouts": [{"id": "src", "type": "src"}],
	  "bolts": [
	    {"id": "flaky", "type": "flaky", "parallelism": 2, "inputs": [{"component": "src"}]},
	    {"id": "hdfs", "type": "hdfs_test_sink", "parallelism": 2, "inputs": [{"component": "flaky", "grouping": "batch"}],
	     "config": {"namenode": %q, "dir": %q, "field": "value", "time_partition": "hour", "timeout_ms": 10000,
	                "min_backoff_ms": 5, "max_backoff_ms": 20, "dead_letter_dir": %q}}]}`, nn, r.dir, t.TempDir())
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

// TestTopologyReplaysAreIdentical: a run with failed tuples (batch
// replays) and failed writes (retries) leaves in HDFS exactly the files of
// a clean run, byte for byte, compared through the sink's Inventory; every
// record is in them once, in its hour, in offset order; no temporary file
// is left.
func TestTopologyReplaysAreIdentical(t *testing.T) {
	const batches, recs = 12, 40
	raw := rawClient(t)
	nn := testenv.HDFSNameNode(t)
	base := testDir(t, raw)
	clean := &run{dir: base + "/clean"}
	clean.start(t, nn, batches, recs)
	chaos := &run{dir: base + "/chaos", failOnce: []string{"ev/0/5", "ev/1/77", "ev/0/80", "ev/1/479"}, writeFails: 5}
	chaos.start(t, nn, batches, recs)

	if clean.spoutFails.Load() != 0 || clean.sinkRetries != 0 {
		t.Fatalf("the clean run had %d failed batches and %d write retries", clean.spoutFails.Load(), clean.sinkRetries)
	}
	if chaos.spoutFails.Load() < 4 || chaos.sinkRetries < 5 {
		t.Fatalf("the chaos run had %d failed batches and %d retries; the test injects 4 and 5", chaos.spoutFails.Load(), chaos.sinkRetries)
	}

	ctx := context.Background()
	inventory := func(dir string) (*hdfs.Writer, []string) {
		c := hdfs.NewConfig()
		c.NameNode, c.Dir, c.TimePartition, c.Field = nn, dir, sinks.PartitionHour, "value"
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		w := c.Writer()
		t.Cleanup(func() { w.Close() })
		names, err := w.Objects(ctx, "sinktest")
		if err != nil {
			t.Fatal(err)
		}
		if tmps := temporaries(listAll(t, raw, dir)); len(tmps) != 0 {
			t.Errorf("%s: temporary files left: %v", dir, tmps)
		}
		return w, names
	}
	wa, a := inventory(clean.dir)
	wb, b := inventory(chaos.dir)
	if len(a) == 0 {
		t.Fatal("the clean run wrote nothing")
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("the runs wrote different files:\nclean %v\nchaos %v", a, b)
	}
	seen := map[int]int{}
	for _, name := range a {
		da, err := wa.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		db, err := wb.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between the clean and the chaos run (%d vs %d bytes)", name, len(da), len(db))
		}
		if !strings.HasPrefix(name, "sinktest/ev/dt=") || !strings.HasSuffix(name, ".jsonl.lz4") {
			t.Errorf("unexpected name %s", name)
		}
		if m, ok := sinks.ParseName(name, ".jsonl.lz4"); !ok || m.Source != "ev" {
			t.Errorf("%s does not parse back to a batch", name)
		}
		content, err := wa.Read(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		last := -1
		for _, line := range sinks.SplitLines(content) {
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
