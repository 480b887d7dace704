package shell_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// A Python bolt speaking Storm's multilang protocol, driven directly (an
// engine does the same with "type": "shell" in a topology).
func ExampleNew() {
	cfg := shell.DefaultConfig()
	cfg.Command = []string{"python3", "../../examples/multilang/splitsentence.py"}
	b, err := shell.New(cfg)
	if err != nil {
		panic(err)
	}
	out := &galetest.BoltCollector{}
	tc := &topology.TaskContext{Component: &topology.Component{ID: "split",
		Streams: topology.Streams{"default": {"word"}}}, TaskID: 1}
	if err := b.Prepare(context.Background(), tc, out); err != nil {
		panic(err)
	}
	defer b.Cleanup()

	in := &tuple.Tuple{Values: tuple.Values{"the cow jumped"}, Stream: "default", Component: "sentences"}
	if err := b.Execute(context.Background(), in); err != nil {
		panic(err)
	}
	for { // emits and the ack arrive asynchronously
		if _, acked, _, _ := out.Snapshot(); len(acked) == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	emitted, _, _, _ := out.Snapshot()
	for _, e := range emitted {
		fmt.Println(e.Values[0], "anchored:", e.Anchors[0] == in)
	}
	// Output:
	// the anchored: true
	// cow anchored: true
	// jumped anchored: true
}
