package stateful_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	boltin "github.com/gale-stream/gale/bolt/builtin"
	"github.com/gale-stream/gale/bolt/stateful"
	"github.com/gale-stream/gale/internal/kvlog"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

const (
	partitions = 3
	batches    = 30 // per partition
	records    = 40 // per batch
	maxPending = 4  // batches in flight per partition, as the Kafka spout's default
)

// key is record off's key of partition p: 23 keys, skewed.
func key(p, off int) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%d", p, off)
	n := h.Sum32() % 100
	if n < 40 {
		return "hot"
	}
	return "k" + strconv.Itoa(int(n%22))
}

// source is the durable side of a partitioned, batched source (what the
// Kafka spout's ledger is): per partition, the batches committed
// contiguously. It outlives the runtimes of the test.
type source struct {
	mu        sync.Mutex
	committed [partitions]int
	done      [partitions]map[int]bool
	acked     int
}

// partSpout sends the source's batches with SendBatch, at most maxPending
// of a partition in flight, each with the partition's committed point; it
// replays failed batches. A new one starts from the committed points.
type partSpout struct {
	src     *source
	out     spout.Collector
	next    [partitions]int
	pending [partitions]map[int]bool
	replay  []int
}

func bid(p, seq int) int { return p*batches + seq }

func (s *partSpout) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out = out
	s.src.mu.Lock()
	defer s.src.mu.Unlock()
	for p := range partitions {
		s.next[p] = s.src.committed[p]
		s.pending[p] = map[int]bool{}
	}
	return nil
}

func (s *partSpout) NextTuple(context.Context) error {
	s.src.mu.Lock()
	b := -1
	if len(s.replay) > 0 {
		b, s.replay = s.replay[0], s.replay[1:]
	} else {
		for p := range partitions {
			for s.next[p] < batches && s.src.done[p][s.next[p]] {
				s.next[p]++ // committed out of order before a restart: never sent again
			}
			if s.next[p] < batches && len(s.pending[p]) < maxPending {
				b = bid(p, s.next[p])
				s.next[p]++
				break
			}
		}
	}
	if b < 0 {
		all := true
		for p := range partitions {
			all = all && s.src.committed[p] == batches
		}
		s.src.mu.Unlock()
		if all {
			return spout.ErrStop
		}
		return nil
	}
	p, seq := b/batches, b%batches
	s.pending[p][seq] = true
	committed := s.src.committed[p]
	s.src.mu.Unlock()
	meta := &tuple.BatchMeta{ID: fmt.Sprintf("t/%05d/%012d", p, seq), Source: "t", Partition: int32(p), Seq: uint64(seq),
		Start: int64(seq * records), End: int64((seq + 1) * records), Records: records, Committed: uint64(committed)}
	msgs := make([]spout.Message, records)
	for i := range msgs {
		off := seq*records + i
		msgs[i] = spout.Message{Values: tuple.Values{key(p, off), off}, BatchID: meta.ID, ID: fmt.Sprintf("t/%d/%d", p, off)}
	}
	s.out.(spout.BatchSender).SendBatch(b, meta, msgs)
	return nil
}

func (s *partSpout) Ack(id any) {
	s.src.mu.Lock()
	defer s.src.mu.Unlock()
	p, seq := id.(int)/batches, id.(int)%batches
	delete(s.pending[p], seq)
	s.src.acked++
	s.src.done[p][seq] = true
	for s.src.done[p][s.src.committed[p]] {
		s.src.committed[p]++
	}
}

func (s *partSpout) Fail(id any) {
	s.src.mu.Lock()
	defer s.src.mu.Unlock()
	s.replay = append(s.replay, id.(int))
}

func (s *partSpout) Close() error { return nil }

// passBolt forwards every tuple anchored (two of them shuffle the batches'
// tuples, so that batches may finish out of order at the count).
type passBolt struct{ out bolt.Collector }

func (b *passBolt) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	b.out = out
	return nil
}

func (b *passBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	b.out.Emit(t, t.Values)
	b.out.Ack(t)
	return nil
}

func (b *passBolt) Cleanup() error { return nil }

// written is what the flaky sink wrote: per batch, its lines (like an
// object named after the batch, replaced when written again).
type written struct {
	mu       sync.Mutex
	batches  map[string][]string
	rewrites int
	differ   []string
	rng      *rand.Rand
}

// flakySink writes a batch's {key, count} lines, or fails the batch at
// random (a backend error): the batch is replayed, the counts were
// applied already.
type flakySink struct {
	w   *written
	out bolt.Collector
	buf map[uint64][]*tuple.Tuple
}

func (s *flakySink) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	s.out, s.buf = out, map[uint64][]*tuple.Tuple{}
	return nil
}

func (s *flakySink) Execute(_ context.Context, t *tuple.Tuple) error {
	s.buf[t.Attempt()] = append(s.buf[t.Attempt()], t)
	return nil
}

func (s *flakySink) FinishBatch(_ context.Context, b *bolt.Batch) error {
	ts := s.buf[b.Attempt]
	delete(s.buf, b.Attempt)
	s.w.mu.Lock()
	ok := !b.Failed && s.w.rng.IntN(5) != 0
	if ok && b.Owner {
		var lines []string
		for _, t := range ts {
			lines = append(lines, fmt.Sprintf("%s %s=%v", t.ID, t.Values[0], t.Values[1]))
		}
		slices.Sort(lines)
		if old, again := s.w.batches[b.Meta.ID]; again {
			s.w.rewrites++
			if !slices.Equal(old, lines) {
				s.w.differ = append(s.w.differ, b.Meta.ID)
			}
		}
		s.w.batches[b.Meta.ID] = lines
	}
	s.w.mu.Unlock()
	for _, t := range append(ts, b.End...) {
		if ok {
			s.out.Ack(t)
		} else {
			s.out.Fail(t)
		}
	}
	return nil
}

func (s *flakySink) Cleanup() error { return nil }

// TestStatefulCount_ExactlyOnce runs a stateful count (the built-in count
// with a file state store) behind two shuffling bolts, with a sink that
// fails a fifth of its batches, in three runtimes one after the other (the
// first two stopped in the middle, as a crash would: batches applied to
// the state but not committed are replayed by the next; the last with
// three count tasks instead of two). The counts in the
// store equal a recount of the source; every key's emitted counts are
// 1..n, each once; a batch written again holds the same lines.
func TestStatefulCount_ExactlyOnce(t *testing.T) {
	src := &source{}
	for p := range partitions {
		src.done[p] = map[int]bool{}
	}
	w := &written{batches: map[string][]string{}, rng: rand.New(rand.NewPCG(1, 2))}
	reg := registry.New()
	if err := boltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(registry.Spout[registry.NoConfig]{Name: "parts", Outputs: registry.Emits("key", "off"),
		New: func(*registry.NoConfig) (spout.Spout, error) { return &partSpout{src: src}, nil }})
	reg.MustRegister(registry.Bolt[registry.NoConfig]{Name: "pass", Outputs: registry.Emits("key", "off"),
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return &passBolt{}, nil }})
	reg.MustRegister(registry.Bolt[registry.NoConfig]{Name: "flaky",
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return &flakySink{w: w}, nil }})
	dir := t.TempDir()
	js := fmt.Sprintf(`{"name": "scount", "config": {"topology.message.timeout.secs": 5},
	  "spouts": [{"id": "src", "type": "parts"}],
	  "bolts": [
	    {"id": "pass", "type": "pass", "parallelism": 2, "inputs": [{"component": "src"}]},
	    {"id": "count", "type": "count", "parallelism": 2, "config": {"field": "key", "state": {"kind": "file", "dir": %q}},
	     "inputs": [{"component": "pass", "grouping": "fields", "fields": ["key"]}]},
	    {"id": "sink", "type": "flaky", "parallelism": 2, "inputs": [{"component": "count", "grouping": "batch"}]}]}`, dir)
	topo, err := topology.Decode([]byte(js), reg)
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 3; run++ {
		if run == 3 {
			// the count rescaled from 2 tasks to 3: keys move between
			// tasks, their marks with them
			if topo, err = topo.WithParallelism(map[string]int{"count": 3}); err != nil {
				t.Fatal(err)
			}
		}
		rt, err := local.New(topo, local.Options{DrainTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if run < 3 {
			// stop the runtime once a third more of the batches completed
			go func() {
				for ctx.Err() == nil {
					src.mu.Lock()
					n := src.acked
					src.mu.Unlock()
					if n >= run*partitions*batches/3 {
						cancel()
					}
					time.Sleep(time.Millisecond)
				}
			}()
		}
		err = rt.Run(ctx)
		stopped := ctx.Err()
		cancel()
		if run == 3 && (err != nil || stopped != nil) {
			t.Fatalf("last run: %v (%v)", err, stopped)
		}
		src.mu.Lock()
		t.Logf("run %d: %d batches acked so far, committed %v", run, src.acked, src.committed)
		src.mu.Unlock()
	}

	want := map[string]int64{}
	for p := range partitions {
		for off := range batches * records {
			want[key(p, off)]++
		}
	}
	l, err := kvlog.OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for k, n := range want {
		v, err := stateful.Get(context.Background(), l, "scount", "count", k)
		if err != nil {
			t.Fatal(err)
		}
		if string(v) != strconv.FormatInt(n, 10) {
			t.Errorf("key %s: the store holds %q, a recount gives %d", k, v, n)
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.batches) != partitions*batches {
		t.Errorf("%d batches written, want %d", len(w.batches), partitions*batches)
	}
	counts := map[string][]int64{}
	for _, lines := range w.batches {
		for _, line := range lines {
			kv := strings.Fields(line)[1]
			k, n, _ := strings.Cut(kv, "=")
			c, _ := strconv.ParseInt(n, 10, 64)
			counts[k] = append(counts[k], c)
		}
	}
	for k, n := range want {
		got := counts[k]
		slices.Sort(got)
		for i, c := range got {
			if c != int64(i+1) {
				t.Errorf("key %s: emitted counts %v..., want 1..%d each once", k, got[:min(len(got), i+3)], n)
				break
			}
		}
		if int64(len(got)) != n {
			t.Errorf("key %s: %d counts emitted, want %d", k, len(got), n)
		}
	}
	t.Logf("%d batches rewritten after a sink failure", w.rewrites)
	if w.rewrites == 0 {
		t.Error("no batch was written twice: the replays were not exercised")
	}
	if len(w.differ) > 0 {
		t.Errorf("batches written again with other lines: %v", w.differ)
	}
}
