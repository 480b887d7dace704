package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// BenchmarkMultilangSplit measures tuples/s through a split-sentence bolt
// written in Go and the same bolt in Python behind the "shell" bolt type
// (examples/multilang/splitsentence.py, Storm's multilang protocol over
// pipes), in the same run. Each sentence yields 4 to 9 anchored word
// emits and one ack; the bolt is driven directly with a collector that
// counts, so the figures are the bolt's own cost, without the engine.
//
//	go test -run '^$' -bench MultilangSplit -benchtime 100000x ./bench/
func BenchmarkMultilangSplit(b *testing.B) {
	impls := []struct {
		name string
		new  func(b *testing.B) bolt.Bolt
	}{
		{"go", func(*testing.B) bolt.Bolt { return bolt.Basic(goSplit) }},
		{"python-shell", pythonSplit},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			bo := impl.new(b)
			out := &multilangCounter{}
			tc := &topology.TaskContext{Component: &topology.Component{ID: "split",
				Streams: topology.Streams{"default": {"word"}}}, TaskID: 2}
			if err := bo.Prepare(context.Background(), tc, out); err != nil {
				b.Fatal(err)
			}
			defer bo.Cleanup()
			in := make([]tuple.Tuple, len(multilangSentences))
			size := 0
			for i, s := range multilangSentences {
				in[i] = tuple.Tuple{Values: tuple.Values{s}, Fields: tuple.Fields{"sentence"},
					Stream: tuple.DefaultStream, Component: "sentences", Task: 1}
				size += len(s)
			}
			b.SetBytes(int64(size / len(in)))
			b.ReportAllocs()
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				if err := bo.Execute(ctx, &in[i%len(in)]); err != nil {
					b.Fatal(err)
				}
			}
			deadline := time.Now().Add(5 * time.Minute)
			for out.acked.Load() < int64(b.N) {
				if time.Now().After(deadline) {
					b.Fatalf("acked %d of %d", out.acked.Load(), b.N)
				}
				time.Sleep(50 * time.Microsecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tuples/s")
			b.ReportMetric(float64(out.emitted.Load())/float64(b.N), "emits/tuple")
		})
	}
}

var multilangSentences = []string{
	"the cow jumped over the moon",
	"an apple a day keeps the doctor away",
	"four score and seven years ago",
	"snow white and the seven dwarfs",
	"i am at two with nature",
}

var goSplit = bolt.Func(func(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
	for _, w := range strings.Fields(t.String("sentence")) {
		out.Emit(tuple.Values{w})
	}
	return nil
})

func pythonSplit(b *testing.B) bolt.Bolt {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skipf("SKIP: python3 not installed: %v", err)
	}
	if out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		py = strings.TrimSpace(string(out))
	}
	script, _ := filepath.Abs(filepath.Join("..", "examples", "multilang", "splitsentence.py"))
	if _, err := os.Stat(script); err != nil {
		b.Fatal(err)
	}
	cfg := shell.DefaultConfig()
	cfg.Command = []string{py, script}
	cfg.MaxPending = 1000
	bo, err := shell.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return bo
}

// multilangCounter is a bolt.Collector that only counts.
type multilangCounter struct {
	emitted, acked, failed atomic.Int64
}

var _ bolt.Collector = (*multilangCounter)(nil)

func (c *multilangCounter) Emit(*tuple.Tuple, tuple.Values) { c.emitted.Add(1) }
func (c *multilangCounter) EmitTo(string, []*tuple.Tuple, tuple.Values) {
	c.emitted.Add(1)
}
func (c *multilangCounter) EmitDirect(int, string, []*tuple.Tuple, tuple.Values) {
	c.emitted.Add(1)
}
func (c *multilangCounter) Send(bolt.Message) []int   { c.emitted.Add(1); return nil }
func (c *multilangCounter) Ack(*tuple.Tuple)          { c.acked.Add(1) }
func (c *multilangCounter) Fail(*tuple.Tuple)         { c.failed.Add(1) }
func (c *multilangCounter) ResetTimeout(*tuple.Tuple) {}
func (c *multilangCounter) ReportError(err error)     { panic(err) }
