package schedule

import (
	"fmt"
	"slices"
	"testing"
)

// benchInput builds W workers and T topologies of C components x P tasks
// each (a spout and bolts, no acker), with no worker or slot limit.
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

// benchCompute times Compute on in, and reports the tasks moved from
// in.Previous.
func benchCompute(b *testing.B, cfg Config, in Input) {
	b.Helper()
	b.ReportAllocs()
	var a *Assignment
	for b.Loop() {
		var err error
		if a, err = Compute(cfg, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(a.Tasks)), "tasks")
	if u := len(a.Unassigned()); u > 0 {
		b.ReportMetric(float64(u), "unassigned")
	}
	if in.Previous != nil {
		b.ReportMetric(float64(len(Diff(in.Previous, a))), "moved")
	}
}

// BenchmarkCompute: 100 workers, 50 topologies of 20 components x 8 tasks
// (8000 tasks): a first computation, a recomputation with nothing
// changed, a join and a leave; and the same with slot limits that leave
// 10% of the tasks unassigned, and with "topology.workers" 10.
func BenchmarkCompute(b *testing.B) {
	cfg := DefaultConfig()
	for _, sz := range []struct{ W, T, C, P int }{{100, 50, 20, 8}, {20, 10, 5, 4}} {
		name := fmt.Sprintf("%dw-%dt-%dc-%dp", sz.W, sz.T, sz.C, sz.P)
		in := benchInput(sz.W, sz.T, sz.C, sz.P)
		base, err := Compute(cfg, in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/fresh", func(b *testing.B) { benchCompute(b, cfg, in) })
		b.Run(name+"/unchanged", func(b *testing.B) {
			in := in
			in.Previous = base
			benchCompute(b, cfg, in)
		})
		b.Run(name+"/join", func(b *testing.B) {
			in := in
			in.Workers = append(slices.Clone(in.Workers), Worker{Name: "newcomer"})
			in.Previous = base
			benchCompute(b, cfg, in)
		})
		b.Run(name+"/leave", func(b *testing.B) {
			in := in
			in.Workers = in.Workers[1:]
			in.Previous = base
			benchCompute(b, cfg, in)
		})
		b.Run(name+"/slots-short", func(b *testing.B) {
			in := in
			in.Workers = slices.Clone(in.Workers)
			per := sz.T * sz.C * sz.P * 9 / 10 / sz.W
			for i := range in.Workers {
				in.Workers[i].Slots = per
			}
			benchCompute(b, cfg, in)
		})
		b.Run(name+"/worker-limit-10", func(b *testing.B) {
			in := in
			in.Topologies = slices.Clone(in.Topologies)
			for i := range in.Topologies {
				in.Topologies[i].Workers = 10
			}
			benchCompute(b, cfg, in)
		})
	}
}
