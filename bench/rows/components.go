package rows

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Sentences are the word-count input, the same ten, in the same order, as
// bench/storm's Shared.SENTENCES.
var Sentences = []string{
	"the cow jumped over the moon",
	"an apple a day keeps the doctor away",
	"four score and seven years ago",
	"snow white and the seven dwarfs",
	"i am at two with nature",
	"the quick brown fox",
	"jumps over the lazy dog",
	"to be or not to be",
	"all that glitters is not gold",
	"a stitch in time saves nine",
}

// counters are one run's figures, written by the tasks and read by the
// driver at the edges of the window. Each task owns its counter (no
// sharing of cache lines between tasks), like Storm's LongAdders.
type counters struct {
	start     time.Time // the zero of the spout's emit times
	emitted   atomic.Int64
	acked     atomic.Int64
	failed    atomic.Int64
	latency   hist
	executedM atomic.Pointer[[]*padded] // the last bolt's tasks
}

// padded is an int64 on a cache line of its own.
type padded struct {
	n atomic.Int64
	_ [56]byte
}

func (c *counters) newTaskCounter() *padded {
	p := &padded{}
	for {
		old := c.executedM.Load()
		var next []*padded
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, p)
		if c.executedM.CompareAndSwap(old, &next) {
			return p
		}
	}
}

func (c *counters) executed() int64 {
	var n int64
	if ps := c.executedM.Load(); ps != nil {
		for _, p := range *ps {
			n += p.n.Load()
		}
	}
	return n
}

// attempt is a spout message id: which sentence, and when this attempt of
// its tree was emitted (for the emit-to-ack latency, as on the Storm side).
type attempt struct {
	idx int32
	at  time.Duration
}

// sentenceSpout emits the sentences in a cycle. When reliable, each tuple
// carries an attempt as message id, and failed sentences are emitted again
// (with a new attempt) before new ones.
type sentenceSpout struct {
	c        *counters
	reliable bool
	out      spout.Collector
	vals     []tuple.Values
	next     int
	replay   []int32
}

func (s *sentenceSpout) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out = out
	for _, t := range Sentences {
		s.vals = append(s.vals, tuple.Values{t})
	}
	return nil
}

func (s *sentenceSpout) NextTuple(context.Context) error {
	if !s.reliable {
		s.out.Emit(s.vals[s.next], nil)
		s.next = (s.next + 1) % len(s.vals)
		s.c.emitted.Add(1)
		return nil
	}
	var idx int32
	if n := len(s.replay); n > 0 {
		idx = s.replay[0]
		s.replay = s.replay[1:]
	} else {
		idx = int32(s.next)
		s.next = (s.next + 1) % len(s.vals)
	}
	s.out.Emit(s.vals[idx], attempt{idx: idx, at: time.Since(s.c.start)})
	s.c.emitted.Add(1)
	return nil
}

func (s *sentenceSpout) Ack(id any) {
	a := id.(attempt)
	s.c.latency.record(time.Since(s.c.start) - a.at)
	s.c.acked.Add(1)
}

func (s *sentenceSpout) Fail(id any) {
	s.replay = append(s.replay, id.(attempt).idx)
	s.c.failed.Add(1)
}

func (s *sentenceSpout) Close() error { return nil }

// constSpout emits the same one-field tuple forever, untracked.
type constSpout struct {
	c    *counters
	out  spout.Collector
	vals tuple.Values
}

func (s *constSpout) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out, s.vals = out, tuple.Values{"some data"}
	return nil
}

func (s *constSpout) NextTuple(context.Context) error {
	s.out.Emit(s.vals, nil)
	s.c.emitted.Add(1)
	return nil
}

func (s *constSpout) Ack(any)      {}
func (s *constSpout) Fail(any)     {}
func (s *constSpout) Close() error { return nil }

// noopBolt counts its inputs and does nothing else.
type noopBolt struct {
	c   *counters
	n   *padded
	out bolt.Collector
}

func (b *noopBolt) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	b.out, b.n = out, b.c.newTaskCounter()
	return nil
}

func (b *noopBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	b.out.Ack(t)
	b.n.n.Add(1)
	return nil
}

func (b *noopBolt) Cleanup() error { return nil }

// splitBolt emits each word of a sentence, anchored to it.
type splitBolt struct{ out bolt.Collector }

func (b *splitBolt) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	b.out = out
	return nil
}

func (b *splitBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	s := t.Values[0].(string)
	for len(s) > 0 {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			b.out.Emit(t, tuple.Values{s})
			break
		}
		if i > 0 {
			b.out.Emit(t, tuple.Values{s[:i]})
		}
		s = s[i+1:]
	}
	b.out.Ack(t)
	return nil
}

func (b *splitBolt) Cleanup() error { return nil }

// countBolt counts words in a map and emits nothing. With failEvery > 0 it
// fails every failEvery-th input it receives instead of acking it (a
// failure that replays the whole sentence, as on the Storm side).
type countBolt struct {
	c         *counters
	n         *padded
	failEvery int64
	seen      int64
	counts    map[string]int64
	out       bolt.Collector
}

func (b *countBolt) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	b.out, b.n, b.counts = out, b.c.newTaskCounter(), map[string]int64{}
	return nil
}

func (b *countBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	b.seen++
	if b.failEvery > 0 && b.seen%b.failEvery == b.failEvery-1 {
		b.out.Fail(t)
	} else {
		b.counts[t.Values[0].(string)]++
		b.out.Ack(t)
	}
	b.n.n.Add(1)
	return nil
}

func (b *countBolt) Cleanup() error { return nil }

// registryFor registers the row's component types, bound to c.
func registryFor(c *counters, failEvery int64) *registry.Registry {
	r := registry.New()
	r.MustRegister(registry.Spout[registry.NoConfig]{
		Name: "sentences", Outputs: registry.Emits("sentence"),
		New: func(*registry.NoConfig) (spout.Spout, error) {
			return &sentenceSpout{c: c, reliable: true}, nil
		},
	})
	r.MustRegister(registry.Spout[registry.NoConfig]{
		Name: "sentences-unreliable", Outputs: registry.Emits("sentence"),
		New: func(*registry.NoConfig) (spout.Spout, error) {
			return &sentenceSpout{c: c}, nil
		},
	})
	r.MustRegister(registry.Spout[registry.NoConfig]{
		Name: "const", Outputs: registry.Emits("value"),
		New: func(*registry.NoConfig) (spout.Spout, error) { return &constSpout{c: c}, nil },
	})
	r.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "noop",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return &noopBolt{c: c}, nil },
	})
	r.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "split", Outputs: registry.Emits("word"),
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return &splitBolt{}, nil },
	})
	r.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "count",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return &countBolt{c: c, failEvery: failEvery}, nil },
	})
	return r
}
