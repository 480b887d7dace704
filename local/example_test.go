package local_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Run a topology written in JSON, with the built-in generator and count
// types and a bolt of our own, to its end, and read its stats.
func ExampleRun() {
	reg := all.Registry()
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name:    "shout",
		Outputs: registry.Emits("word"),
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(_ context.Context, t *tuple.Tuple, out bolt.BasicCollector) error {
				for _, w := range strings.Fields(t.String("sentence")) {
					out.Emit(tuple.Values{strings.ToUpper(w)})
				}
				return nil
			})), nil
		},
	})
	topo, err := topology.Decode([]byte(`{
	  "name": "shouting",
	  "spouts": [{"id": "sentences", "type": "generator",
	              "config": {"count": 100, "sentences": ["the cow jumped over the moon"]}}],
	  "bolts": [
	    {"id": "shout", "type": "shout", "parallelism": 2, "inputs": [{"component": "sentences"}]},
	    {"id": "count", "type": "count", "parallelism": 2, "config": {"field": "word"},
	     "inputs": [{"component": "shout", "grouping": "fields", "fields": ["word"]}]}
	  ]}`), reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	stats, err := local.Run(context.Background(), topo, local.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sentences acked:", stats.Component("sentences").Acked)
	fmt.Println("words counted:", stats.Component("count").Executed)
	// Output:
	// sentences acked: 100
	// words counted: 600
}

// A Runtime that is watched while it runs: its stats can be read, and its
// spouts paused, from any goroutine.
func ExampleNew() {
	topo, err := topology.Decode([]byte(`{"name": "watched",
	  "spouts": [{"id": "s", "type": "generator", "config": {"count": 1000}}],
	  "bolts": [{"id": "b", "type": "noop", "inputs": [{"component": "s"}]}]}`), all.Registry())
	if err != nil {
		fmt.Println(err)
		return
	}
	rt, err := local.New(topo, local.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("tasks:", rt.Tasks())
	if err := rt.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	st := rt.Stats()
	fmt.Println("acked:", st.Component("s").Acked, "executed:", st.Component("b").Executed)
	// Output:
	// tasks: map[b:[1] s:[2]]
	// acked: 1000 executed: 1000
}
