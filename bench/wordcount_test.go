package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/bench/rows"
	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// The same sentences as bench/storm's topology.
var sentences = rows.Sentences

// sentenceSpout cycles through sentences until it has emitted n.
type sentenceSpout struct {
	n, i     int
	reliable bool
	out      spout.Collector
	vals     []tuple.Values
}

func (s *sentenceSpout) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out = out
	for _, t := range sentences {
		s.vals = append(s.vals, tuple.Values{t})
	}
	return nil
}

func (s *sentenceSpout) NextTuple(context.Context) error {
	if s.i >= s.n {
		return spout.ErrStop
	}
	v := s.vals[s.i%len(s.vals)]
	if s.reliable {
		s.out.Emit(v, s.i)
	} else {
		s.out.Emit(v, nil)
	}
	s.i++
	return nil
}

func (s *sentenceSpout) Ack(any)      {}
func (s *sentenceSpout) Fail(any)     {}
func (s *sentenceSpout) Close() error { return nil }

type splitBolt struct{}

func (splitBolt) Prepare(context.Context, *topology.TaskContext) error { return nil }
func (splitBolt) Cleanup() error                                       { return nil }
func (splitBolt) Execute(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
	s := t.Values[0].(string)
	for len(s) > 0 {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			out.Emit(tuple.Values{s})
			break
		}
		if i > 0 {
			out.Emit(tuple.Values{s[:i]})
		}
		s = s[i+1:]
	}
	return nil
}

type countBolt struct{ counts map[string]int64 }

func (c *countBolt) Prepare(context.Context, *topology.TaskContext) error {
	c.counts = map[string]int64{}
	return nil
}
func (c *countBolt) Cleanup() error { return nil }
func (c *countBolt) Execute(_ context.Context, t *tuple.Tuple, _ bolt.BasicCollector) error {
	c.counts[t.Values[0].(string)]++
	return nil
}

func benchRegistry(n int, reliable bool) *registry.Registry {
	r := registry.New()
	r.MustRegister(registry.Spout[registry.NoConfig]{
		Name: "sentences", Outputs: registry.Emits("sentence"),
		New: func(*registry.NoConfig) (spout.Spout, error) { return &sentenceSpout{n: n, reliable: reliable}, nil },
	})
	r.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "split", Outputs: registry.Emits("word"),
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return bolt.Basic(splitBolt{}), nil },
	})
	r.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "count",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return bolt.Basic(&countBolt{}), nil },
	})
	return r
}

const wordCountTopology = `{"name": "bench-wordcount", "config": {
    "topology.acker.executors": %ACKERS%, "topology.max.spout.pending": %PENDING%},
  "spouts": [{"id": "spout", "type": "sentences"}],
  "bolts": [
    {"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "spout", "grouping": "shuffle"}]},
    {"id": "count", "type": "count", "parallelism": 2, "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}]}`

// runWordCount runs n sentences through the word-count shape and returns
// the runtime's final stats and the wall time.
func runWordCount(tb testing.TB, n int, acked bool, pending string) (local.Stats, time.Duration) {
	ackers := "0"
	if acked {
		ackers = "1"
	}
	js := strings.NewReplacer("%ACKERS%", ackers, "%PENDING%", pending).Replace(wordCountTopology)
	reg := benchRegistry(n, acked)
	topo, err := topology.Decode([]byte(js), reg)
	if err != nil {
		tb.Fatal(err)
	}
	rt, err := local.New(topo, local.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	if err := rt.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return rt.Stats(), time.Since(start)
}

// BenchmarkWordCount reports sentences/s emitted by the spout (the figure
// Storm's baseline reports), words/s through count, and with acking the
// complete latency percentiles. b.N is the number of sentences.
func BenchmarkWordCount(b *testing.B) {
	for _, bc := range []struct {
		name    string
		acked   bool
		pending string
	}{
		{"unacked", false, "0"},
		{"acked/pending=1000", true, "1000"},
		{"acked/pending=5000", true, "5000"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			st, wall := runWordCount(b, b.N, bc.acked, bc.pending)
			spout := st.Component("spout")
			words := st.Component("count").Executed
			b.ReportMetric(float64(spout.Emitted)/wall.Seconds(), "sentences/s")
			b.ReportMetric(float64(words)/wall.Seconds(), "words/s")
			if bc.acked {
				b.ReportMetric(float64(spout.Acked)/wall.Seconds(), "acked/s")
				b.ReportMetric(float64(spout.CompleteP50)/1e6, "p50-ms")
				b.ReportMetric(float64(spout.CompleteP99)/1e6, "p99-ms")
			}
		})
	}
}
