package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// pacedSpout emits at a fixed rate the way a spout reading a blocking
// source does: NextTuple sleeps until the next tuple is due, then emits
// every tuple due by then. Each tuple's message id is its emit time; Ack
// records emit-to-ack (complete) latency. Like any spout's callbacks, Ack
// runs between NextTuple calls, so a spout that blocks delays its own
// acks: the sink also records emit-to-delivery latency.
type pacedSpout struct {
	rate    float64
	n, i    int
	start   time.Time
	out     spout.Collector
	mu      *sync.Mutex
	latency *[]time.Duration
}

func (s *pacedSpout) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out, s.start = out, time.Now()
	return nil
}

func (s *pacedSpout) NextTuple(ctx context.Context) error {
	if s.i >= s.n {
		return spout.ErrStop
	}
	due := s.start.Add(time.Duration(float64(s.i) / s.rate * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil
		}
	}
	now := time.Now()
	for emitted := 0; s.i < s.n && emitted < 1000; emitted++ {
		if s.start.Add(time.Duration(float64(s.i) / s.rate * float64(time.Second))).After(now) {
			break
		}
		now := time.Now()
		s.out.Emit(tuple.Values{"a log line of some length", now.UnixNano()}, now)
		s.i++
	}
	return nil
}

func (s *pacedSpout) Ack(id any) {
	d := time.Since(id.(time.Time))
	s.mu.Lock()
	*s.latency = append(*s.latency, d)
	s.mu.Unlock()
}

func (*pacedSpout) Fail(any)     {}
func (*pacedSpout) Close() error { return nil }

// BenchmarkLowRateLatency: complete latency (spout emit to ack callback)
// of a spout that emits at 10, 1,000 and 100,000 tuples/s through
// spout -> relay x2 -> sink x2, with the timer flush off (the baseline:
// a partial batch leaves when it fills or its task idles) and at the
// default 1 ms (topology.batch.flush.interval.millis).
func BenchmarkLowRateLatency(b *testing.B) {
	for _, rate := range []int{10, 1000, 100000} {
		for _, flush := range []int{0, 1} {
			b.Run(fmt.Sprintf("rate=%d/flush=%dms", rate, flush), func(b *testing.B) {
				seconds := 3.0
				if rate == 10 {
					seconds = 8 // 80 tuples: the baseline holds them until 64 accumulate
				}
				var complete, deliver []time.Duration
				for range b.N {
					c, d := pacedRun(b, rate, int(float64(rate)*seconds), flush)
					complete, deliver = append(complete, c...), append(deliver, d...)
				}
				q := func(all []time.Duration, p float64) float64 {
					return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / 1e6
				}
				slices.Sort(complete)
				slices.Sort(deliver)
				b.ReportMetric(q(deliver, 0.50), "deliver-p50-ms")
				b.ReportMetric(q(deliver, 0.99), "deliver-p99-ms")
				b.ReportMetric(q(complete, 0.50), "complete-p50-ms")
				b.ReportMetric(q(complete, 0.99), "complete-p99-ms")
				b.ReportMetric(float64(len(complete)), "acked")
			})
		}
	}
}

// pacedRun runs the topology once; it returns the complete latencies
// (spout) and the delivery latencies (sink).
func pacedRun(b *testing.B, rate, n, flushMillis int) (complete, deliver []time.Duration) {
	var mu sync.Mutex
	var latency []time.Duration
	reg := registry.New()
	reg.MustRegister(registry.Spout[registry.NoConfig]{Name: "paced", Outputs: registry.Emits("line", "emitted"),
		New: func(*registry.NoConfig) (spout.Spout, error) {
			return &pacedSpout{rate: float64(rate), n: n, mu: &mu, latency: &latency}, nil
		}})
	reg.MustRegister(registry.Bolt[registry.NoConfig]{Name: "relay", Outputs: registry.PassThrough(),
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, in *tuple.Tuple, out bolt.BasicCollector) error {
				out.Emit(in.Values)
				return nil
			})), nil
		}})
	reg.MustRegister(registry.Bolt[registry.NoConfig]{Name: "sink",
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, in *tuple.Tuple, _ bolt.BasicCollector) error {
				d := time.Since(time.Unix(0, in.Values[1].(int64)))
				mu.Lock()
				deliver = append(deliver, d)
				mu.Unlock()
				return nil
			})), nil
		}})
	tb := topology.NewBuilder("bench-latency")
	tb.SetConfig(topology.ConfigFlushInterval, flushMillis)
	tb.SetConfig(topology.ConfigMaxSpoutPending, 100000)
	tb.Spout("src", "paced", 1)
	tb.Bolt("relay", "relay", 2).ShuffleGrouping("src")
	tb.Bolt("sink", "sink", 2).ShuffleGrouping("relay")
	topo, err := tb.Build(reg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := local.Run(context.Background(), topo, local.Options{}); err != nil {
		b.Fatal(err)
	}
	if len(latency) != n || len(deliver) != n {
		b.Fatalf("%d trees acked and %d tuples delivered, want %d", len(latency), len(deliver), n)
	}
	return latency, deliver
}
