package bolt_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// A BasicBolt that upper-cases words, and a full Bolt that collects them,
// run in-process on the built-in generator spout's sentences.
func Example() {
	reg := all.Registry() // the built-in types, plus ours
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name:    "upper",
		Outputs: registry.Emits("word"),
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
				out.Emit(tuple.Values{strings.ToUpper(t.String("word"))})
				return nil
			})), nil
		},
	})
	seen := &collector{words: map[string]bool{}}
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "collect",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return seen, nil },
	})

	b := topology.NewBuilder("shouting")
	b.Spout("sentences", "generator", 1).Config(map[string]any{
		"count": 3, "sentences": []string{"the quick brown fox"}})
	b.Bolt("split", "split", 2).ShuffleGrouping("sentences")
	b.Bolt("upper", "upper", 2).ShuffleGrouping("split")
	b.Bolt("collect", "collect", 1).GlobalGrouping("upper")
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
	fmt.Println(seen.sorted())
	fmt.Println("sentences acked:", stats.Component("sentences").Acked)
	// Output:
	// [BROWN FOX QUICK THE]
	// sentences acked: 3
}

// collector is a full Bolt: it acks each input itself.
type collector struct {
	out   bolt.Collector
	mu    sync.Mutex
	words map[string]bool
}

func (c *collector) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	c.out = out
	return nil
}

func (c *collector) Execute(_ context.Context, t *tuple.Tuple) error {
	c.mu.Lock()
	c.words[t.String("word")] = true
	c.mu.Unlock()
	c.out.Ack(t)
	return nil
}

func (c *collector) Cleanup() error { return nil }

func (c *collector) sorted() []string {
	var w []string
	for k := range c.words {
		w = append(w, k)
	}
	sort.Strings(w)
	return w
}
