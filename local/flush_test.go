package local_test

import (
	"context"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// blockingSpout emits tuples 0 and 1 in one NextTuple call, then blocks
// in the next until the sink has seen both trees' tuples (as a spout
// reading a blocking source would), then stops.
type blockingSpout struct {
	out     spout.Collector
	calls   int
	arrived <-chan struct{}
}

func (s *blockingSpout) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out = out
	return nil
}

func (s *blockingSpout) NextTuple(ctx context.Context) error {
	s.calls++
	switch s.calls {
	case 1:
		s.out.Emit(tuple.Values{int64(0)}, 0)
		s.out.Emit(tuple.Values{int64(1)}, 1)
		return nil
	case 2:
		select { // blocks, holding the loop (no idle flush)
		case <-s.arrived:
		case <-ctx.Done():
		}
		return nil
	}
	return spout.ErrStop
}

func (*blockingSpout) Ack(any)      {}
func (*blockingSpout) Fail(any)     {}
func (*blockingSpout) Close() error { return nil }

// flushTopology: spout --> relay (re-emits, anchored; its Execute of
// tuple 1 blocks until the sink saw tuple 0's child) --> sink.
func flushTopology(t *testing.T, flushMillis int) (*topology.Topology, chan struct{}) {
	t.Helper()
	arrived := make(chan struct{})
	sinkSaw := make(chan struct{}, 2)
	reg := registry.New()
	reg.MustRegister(registry.Spout[registry.NoConfig]{Name: "blocking", Outputs: registry.Emits("n"), New: func(*registry.NoConfig) (spout.Spout, error) {
		return &blockingSpout{arrived: arrived}, nil
	}})
	reg.MustRegister(registry.Bolt[registry.NoConfig]{Name: "relay", Outputs: registry.PassThrough(), New: func(*registry.NoConfig) (bolt.Bolt, error) {
		return bolt.Basic(bolt.Func(func(ctx context.Context, in *tuple.Tuple, out bolt.BasicCollector) error {
			out.Emit(in.Values)
			if in.Values[0] == int64(1) {
				select { // a slow Execute: tuple 0's child must leave meanwhile
				case <-sinkSaw:
				case <-ctx.Done():
				}
			}
			return nil
		})), nil
	}})
	reg.MustRegister(registry.Bolt[registry.NoConfig]{Name: "sink", New: func(*registry.NoConfig) (bolt.Bolt, error) {
		seen := 0
		return bolt.Basic(bolt.Func(func(context.Context, *tuple.Tuple, bolt.BasicCollector) error {
			seen++
			sinkSaw <- struct{}{}
			if seen == 2 {
				close(arrived)
			}
			return nil
		})), nil
	}})
	b := topology.NewBuilder("flush")
	b.SetConfig(topology.ConfigFlushInterval, flushMillis)
	b.Spout("src", "blocking", 1)
	b.Bolt("relay", "relay", 1).ShuffleGrouping("src")
	b.Bolt("sink", "sink", 1).ShuffleGrouping("relay")
	topo, err := b.Build(reg)
	if err != nil {
		t.Fatal(err)
	}
	return topo, arrived
}

// TestTimerFlush: with the default flush interval, tuples a blocked spout
// or a slow bolt left in partial batches are sent anyway, so both trees
// complete; with the interval at 0 the same topology holds them (the
// spout waits for tuples that are still in its own buffer).
func TestTimerFlush(t *testing.T) {
	topo, arrived := flushTopology(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stats, err := local.Run(ctx, topo, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	default:
		t.Fatalf("the sink did not see both tuples before the run ended (ctx: %v)", ctx.Err())
	}
	if acked := stats.Component("src").Acked; acked != 2 {
		t.Errorf("spout acked %d trees, want 2", acked)
	}

	off, arrivedOff := flushTopology(t, 0)
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = local.Run(ctx, off, local.Options{DrainTimeout: 100 * time.Millisecond})
	select {
	case <-arrivedOff:
		t.Error("with topology.batch.flush.interval.millis 0 the blocked spout's tuples arrived: this test no longer shows the timer flush at work")
	default:
	}
}
