package builtin_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/spout"
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

// The lines spout emits a file's lines with their numbers as message ids
// and stops at the end of the file once every line is acked.
func ExampleLines() {
	dir, _ := os.MkdirTemp("", "lines")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "in.txt")
	_ = os.WriteFile(path, []byte("first\nsecond\n"), 0o600)

	cfg := builtin.NewLinesConfig()
	cfg.Path = path
	l, err := builtin.NewLines(cfg)
	if err != nil {
		panic(err)
	}
	out := &galetest.SpoutCollector{}
	ctx := context.Background()
	if err := l.Open(ctx, nil, out); err != nil {
		panic(err)
	}
	defer l.Close()
	for {
		err := l.NextTuple(ctx)
		if errors.Is(err, spout.ErrStop) {
			break
		}
		for _, e := range out.Emitted[len(out.Emitted)-1:] {
			l.Ack(e.MsgID) // as the engine would, once the tree completes
		}
	}
	for _, e := range out.Emitted {
		fmt.Println(e.MsgID, e.Values)
	}
	// Output:
	// 1 [first]
	// 2 [second]
}
