package builtin_test

import (
	"context"
	"fmt"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/spout/builtin"
)

// The generator's tuple i is a pure function of the seed and i, so a
// replay of a failed message id emits the same sentence again.
func ExampleGenerator() {
	cfg := builtin.NewGeneratorConfig()
	cfg.Sentences = []string{"red", "green", "blue"}
	cfg.Seed = 1
	cfg.Count = 3
	g, err := builtin.NewGenerator(cfg)
	if err != nil {
		panic(err)
	}
	out := &galetest.SpoutCollector{}
	ctx := context.Background()
	_ = g.Open(ctx, nil, out) // nil TaskContext: a single task
	for range 3 {
		_ = g.NextTuple(ctx)
	}
	g.Fail(uint64(1))
	_ = g.NextTuple(ctx) // replays message 1
	for _, e := range out.Emitted {
		fmt.Println(e.MsgID, e.ID, e.Values)
	}
	g.Ack(uint64(0))
	g.Ack(uint64(1))
	g.Ack(uint64(2))
	fmt.Println(g.NextTuple(ctx))
	// Output:
	// 0 gen/0 [red]
	// 1 gen/1 [blue]
	// 2 gen/2 [red]
	// 1 gen/1 [blue]
	// generator: all 3 tuples emitted and acked: spout: stop
}
