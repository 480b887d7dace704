package schedule

import (
	"fmt"
	"testing"
)

// benchInput builds W workers and T topologies of C components x P tasks
// each (no acker), with no worker limit and no slot limit.
func benchInput(W, T, C, P int) Input {
	var in Input
	for w := range W {
		in.Workers = append(in.Workers, Worker{Name: fmt.Sprintf("worker-%03d", w)})
	}
	for t := range T {
		tp := Topology{Name: fmt.Sprintf("topo-%02d", t)}
		for c := range C {
			kind := KindBolt
			if c == 0 {
				kind = KindSpout
			}
			tp.Components = append(tp.Components, Component{ID: fmt.Sprintf("comp-%02d", c), Kind: kind, Parallelism: P})
		}
		in.Topologies = append(in.Topologies, tp)
	}
	return in
}

func BenchmarkCompute(b *testing.B) {
	cfg := DefaultConfig()
	b.Run("fresh/100w-50t-20c-8p", func(b *testing.B) {
		in := benchInput(100, 50, 20, 8)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Compute(cfg, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
