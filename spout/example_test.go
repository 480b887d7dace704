package spout_test

import (
	"context"
	"fmt"

	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// numbers emits 1..n reliably and replays what fails, until all are acked.
type numbers struct {
	n, next int
	replay  []int
	pending map[int]bool
	fails   int
	out     spout.Collector
}

func (s *numbers) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out, s.pending = out, map[int]bool{}
	return nil
}

func (s *numbers) NextTuple(context.Context) error {
	var v int
	switch {
	case len(s.replay) > 0:
		v, s.replay = s.replay[0], s.replay[1:]
	case s.next < s.n:
		s.next++
		v = s.next
	case len(s.pending) == 0:
		return spout.ErrStop // everything acked: done
	default:
		return nil // waiting for acks
	}
	s.pending[v] = true
	s.out.Emit(tuple.Values{v}, v) // the value is its own message id
	return nil
}

func (s *numbers) Ack(id any) { delete(s.pending, id.(int)) }

func (s *numbers) Fail(id any) {
	s.fails++
	s.replay = append(s.replay, id.(int))
}

func (s *numbers) Close() error { return nil }

// A reliable spout: the built-in "fail" bolt fails half of the tuples the
// first time it sees them; the spout replays them until every one is acked.
func Example() {
	reg := all.Registry()
	src := &numbers{n: 100}
	reg.MustRegister(registry.Spout[registry.NoConfig]{
		Name:    "numbers",
		Outputs: registry.Emits("n"),
		New:     func(*registry.NoConfig) (spout.Spout, error) { return src, nil },
	})
	b := topology.NewBuilder("replays")
	b.Spout("numbers", "numbers", 1)
	b.Bolt("chaos", "fail", 1).Config(map[string]any{"ratio": 0.5}).ShuffleGrouping("numbers")
	topo, err := b.Build(reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	stats, err := local.Run(context.Background(), topo, local.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sp := stats.Component("numbers")
	fmt.Println("acked:", sp.Acked, "replays match fails:", int(sp.Failed) == src.fails && src.fails > 0)
	// Output: acked: 100 replays match fails: true
}
