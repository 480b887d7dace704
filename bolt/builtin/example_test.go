package builtin_test

import (
	"context"
	"fmt"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/bolt/builtin"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/tuple"
)

// Split emits one tuple per word, anchored to its input, then acks it.
func ExampleSplit() {
	s, err := builtin.NewSplit(builtin.NewSplitConfig())
	if err != nil {
		panic(err)
	}
	b := bolt.Basic(s)
	out := &galetest.BoltCollector{}
	ctx := context.Background()
	_ = b.Prepare(ctx, nil, out)
	in := &tuple.Tuple{Values: tuple.Values{"The Cow jumped over the moon."}, Fields: tuple.Fields{"sentence"}}
	_ = b.Execute(ctx, in)
	for _, e := range out.Emitted {
		fmt.Println(e.Values, e.Anchors[0] == in)
	}
	fmt.Println("acked:", len(out.Acked))
	// Output:
	// [the] true
	// [cow] true
	// [jumped] true
	// [over] true
	// [the] true
	// [moon] true
	// acked: 1
}

// Count keeps a count per key; with emit "update" it emits each new count.
func ExampleCount() {
	c, err := builtin.NewCount(builtin.NewCountConfig())
	if err != nil {
		panic(err)
	}
	out := &galetest.BoltCollector{}
	ctx := context.Background()
	_ = c.Prepare(ctx, nil, out)
	for _, w := range []string{"moon", "cow", "moon"} {
		_ = c.Execute(ctx, &tuple.Tuple{Values: tuple.Values{w}, Fields: tuple.Fields{"word"}})
	}
	for _, e := range out.Emitted {
		fmt.Println(e.Values)
	}
	fmt.Println(c.Counts())
	// Output:
	// [moon 1]
	// [cow 1]
	// [moon 2]
	// map[cow:1 moon:2]
}

// A filter with a regular expression, and a print bolt writing to stdout.
func ExampleFilter() {
	re := `^(warn|error)$`
	f, err := builtin.NewFilter(&builtin.FilterConfig{Field: "level", Regex: &re})
	if err != nil {
		panic(err)
	}
	p, err := builtin.NewPrint(builtin.NewPrintConfig(), nil) // stdout, text
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	filter, kept := bolt.Basic(f), &galetest.BoltCollector{}
	_ = filter.Prepare(ctx, nil, kept)
	_ = p.Prepare(ctx, nil, &galetest.BoltCollector{})
	fields := tuple.Fields{"level", "msg"}
	for _, v := range []tuple.Values{{"info", "up"}, {"error", "disk full"}, {"warn", "slow"}} {
		_ = filter.Execute(ctx, &tuple.Tuple{Values: v, Fields: fields, Component: "logs", Stream: "default"})
	}
	for _, e := range kept.Emitted {
		_ = p.Execute(ctx, &tuple.Tuple{Values: e.Values, Fields: fields, Component: "filter", Stream: e.Stream})
	}
	// Output:
	// filter default [error disk full]
	// filter default [warn slow]
}
