package builtin

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// DefaultSentences is the generator's default list of sentences.
var DefaultSentences = []string{
	"the cow jumped over the moon",
	"an apple a day keeps the doctor away",
	"four score and seven years ago",
	"snow white and the seven dwarfs",
	"i am at two with nature",
	"the quick brown fox jumps over the lazy dog",
	"to be or not to be that is the question",
	"all that glitters is not gold",
	"a journey of a thousand miles begins with a single step",
	"the early bird catches the worm",
}

// GeneratorConfig configures the "generator" spout.
type GeneratorConfig struct {
	// Sentences are the values to choose from (default DefaultSentences).
	Sentences []string `json:"sentences"`
	// Seed selects the sequence: the same seed gives the same tuples.
	Seed int64 `json:"seed"`
	// Count is the number of tuples emitted by all the component's tasks
	// together; 0 means unlimited.
	Count uint64 `json:"count"`
	// Rate caps the tuples per second of each task (replays included);
	// 0 means as fast as the topology takes them.
	Rate float64 `json:"rate"`
	// Reliable emits with message ids so that tuple trees are tracked and
	// failed tuples replayed (default true).
	Reliable bool `json:"reliable"`
	// Field names the emitted field (default "sentence").
	Field string `json:"field"`
}

// NewGeneratorConfig returns the defaults.
func NewGeneratorConfig() *GeneratorConfig {
	return &GeneratorConfig{
		Sentences: slices.Clone(DefaultSentences),
		Reliable:  true,
		Field:     "sentence",
	}
}

// Validate checks the settings.
func (c *GeneratorConfig) Validate() error {
	switch {
	case len(c.Sentences) == 0:
		return fmt.Errorf("%w: sentences: want at least one sentence", ErrInvalidConfig)
	case c.Field == "":
		return fmt.Errorf("%w: field: want a field name", ErrInvalidConfig)
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("%w: rate: want a number of tuples per second >= 0, got %v", ErrInvalidConfig, c.Rate)
	}
	return nil
}

// Sentence returns the value of tuple number i (0-based over the whole
// component): a pure function of (Seed, i) and the list of sentences.
func (c *GeneratorConfig) Sentence(i uint64) string {
	h := mix64(uint64(c.Seed)*0x9e3779b97f4a7c15 ^ mix64(i+0x632be59bd9b4e019))
	return c.Sentences[h%uint64(len(c.Sentences))]
}

// TupleID returns the deterministic tuple id of tuple number i, "gen/i".
func TupleID(i uint64) string { return "gen/" + strconv.FormatUint(i, 10) }

// mix64 is splitmix64's finalizer: a cheap, well-spread 64-bit hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// GeneratorType is the "generator" spout type.
func GeneratorType() registry.Spout[GeneratorConfig] {
	return registry.Spout[GeneratorConfig]{
		Name:   "generator",
		Doc:    "emits sentences chosen deterministically from (seed, tuple number); replays re-emit identical values",
		Config: NewGeneratorConfig,
		Outputs: registry.Declare(func(c *GeneratorConfig, _ []tuple.Fields) (topology.Streams, error) {
			return topology.Streams{tuple.DefaultStream: {c.Field}}, nil
		}),
		New: func(c *GeneratorConfig) (spout.Spout, error) { return NewGenerator(c) },
	}
}

// Generator is the "generator" spout. Task k of a component with n tasks
// emits the tuple numbers i ≡ k (mod n), in increasing order, each with
// message id i (a uint64) and tuple id "gen/i". Failed ids are emitted
// again, in the order they failed, before any new tuple.
type Generator struct {
	cfg GeneratorConfig
	out spout.Collector
	now func() time.Time // the clock, replaced by tests

	next    uint64              // next new tuple number of this task
	step    uint64              // number of tasks
	pending map[uint64]struct{} // emitted, neither acked nor failed
	replay  []uint64            // failed ids, to emit first
	tokens  float64             // rate limiter's bucket
	last    time.Time           // when tokens was last refilled

	emitted, acked, failed, replayed atomic.Uint64
}

var (
	_ spout.Spout = (*Generator)(nil)
)

// NewGenerator returns a generator spout for cfg, which is validated.
func NewGenerator(cfg *GeneratorConfig) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: *cfg, now: time.Now, step: 1, pending: map[uint64]struct{}{}}
	g.cfg.Sentences = slices.Clone(cfg.Sentences)
	return g, nil
}

// Config returns a copy of the generator's settings.
func (g *Generator) Config() GeneratorConfig {
	c := g.cfg
	c.Sentences = slices.Clone(c.Sentences)
	return c
}

// Open sets the task's share of the tuple numbers from tc (nil means a
// single task).
func (g *Generator) Open(_ context.Context, tc *topology.TaskContext, out spout.Collector) error {
	g.out = out
	k, n := taskShare(tc)
	g.next, g.step = k, n
	g.tokens, g.last = 1, g.now()
	return nil
}

// taskShare returns the task's index and the number of tasks of its
// component.
func taskShare(tc *topology.TaskContext) (k, n uint64) {
	if tc == nil || tc.Component == nil || tc.Component.Parallelism <= 1 {
		return 0, 1
	}
	return uint64(tc.TaskIndex), uint64(tc.Component.Parallelism)
}

// NextTuple emits one tuple: a replay when one is due, else the next new
// tuple. After Count tuples, once nothing is pending, it returns an error
// wrapping spout.ErrStop.
func (g *Generator) NextTuple(context.Context) error {
	if len(g.replay) > 0 {
		if !g.take() {
			return nil
		}
		id := g.replay[0]
		g.replay = g.replay[1:]
		if len(g.replay) == 0 {
			g.replay = nil // let the backing array go
		}
		g.emit(id)
		g.replayed.Add(1)
		return nil
	}
	if g.cfg.Count > 0 && g.next >= g.cfg.Count {
		if len(g.pending) == 0 {
			return fmt.Errorf("generator: all %d tuples emitted and acked: %w", g.cfg.Count, spout.ErrStop)
		}
		return nil
	}
	if !g.take() {
		return nil
	}
	id := g.next
	g.next += g.step
	g.emit(id)
	g.emitted.Add(1)
	return nil
}

func (g *Generator) emit(id uint64) {
	m := spout.Message{Values: tuple.Values{g.cfg.Sentence(id)}, ID: TupleID(id)}
	if g.cfg.Reliable {
		m.MsgID = id
		g.pending[id] = struct{}{}
	}
	g.out.Send(m)
}

// take reports whether the rate limit allows one more tuple now: a token
// bucket refilled at Rate tokens per second from the elapsed time, holding
// at most max(1, Rate/10) tokens.
func (g *Generator) take() bool {
	if g.cfg.Rate == 0 {
		return true
	}
	now := g.now()
	if d := now.Sub(g.last); d > 0 {
		g.tokens = min(max(1, g.cfg.Rate/10), g.tokens+d.Seconds()*g.cfg.Rate)
		g.last = now
	}
	if g.tokens < 1 {
		return false
	}
	g.tokens--
	return true
}

// Ack forgets msgID: its tree completed.
func (g *Generator) Ack(msgID any) {
	id, ok := asUint64(msgID)
	if !ok {
		return
	}
	if _, ok := g.pending[id]; ok {
		delete(g.pending, id)
		g.acked.Add(1)
	}
}

// Fail queues msgID for replay.
func (g *Generator) Fail(msgID any) {
	id, ok := asUint64(msgID)
	if !ok {
		return
	}
	if _, ok := g.pending[id]; ok {
		delete(g.pending, id)
		g.replay = append(g.replay, id)
		g.failed.Add(1)
	}
}

// Close does nothing: the generator holds no resources.
func (g *Generator) Close() error { return nil }

// Emitted returns the number of new tuples emitted (replays excluded).
func (g *Generator) Emitted() uint64 { return g.emitted.Load() }

// Acked returns the number of message ids acked.
func (g *Generator) Acked() uint64 { return g.acked.Load() }

// Failed returns the number of message ids failed.
func (g *Generator) Failed() uint64 { return g.failed.Load() }

// Replayed returns the number of tuples emitted again after a failure.
func (g *Generator) Replayed() uint64 { return g.replayed.Load() }

// asUint64 reads a message id given back by the engine.
func asUint64(msgID any) (uint64, bool) {
	switch v := msgID.(type) {
	case uint64:
		return v, true
	case int:
		return uint64(v), v >= 0
	case int64:
		return uint64(v), v >= 0
	case uint:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case int32:
		return uint64(v), v >= 0
	}
	return 0, false
}
