package schedule

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// byteReader hands out bytes, then zeros.
type byteReader struct{ b []byte }

func (r *byteReader) next(n int) int {
	if len(r.b) == 0 {
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v % n
}

// fuzzInput decodes a small input from bytes: any byte string is valid.
func fuzzInput(data []byte) (Config, Input) {
	r := &byteReader{data}
	cfg := Config{DefaultSlots: r.next(6)}
	var in Input
	for i := range 1 + r.next(8) {
		in.Workers = append(in.Workers, Worker{Name: fmt.Sprintf("w%d", i), Slots: r.next(7)})
	}
	for i := range 1 + r.next(4) {
		tp := Topology{Name: fmt.Sprintf("t%d", i), Workers: r.next(6)}
		for c := range 1 + r.next(4) {
			tp.Components = append(tp.Components, Component{ID: fmt.Sprintf("c%d", c), Kind: KindBolt, Parallelism: r.next(8),
				Elastic: r.next(3) == 0})
		}
		if n := r.next(4); n > 0 {
			tp.Components = append(tp.Components, Component{ID: AckerID, Kind: KindAcker, Parallelism: n})
		}
		in.Topologies = append(in.Topologies, tp)
	}
	return cfg, in
}

// FuzzCompute feeds Compute random small inputs and, as Previous, any
// JSON (what the cluster store decodes): the result must satisfy the
// hard rules, be locally balanced, not depend on input order, and be
// stable when recomputed.
func FuzzCompute(f *testing.F) {
	f.Add([]byte{3, 4, 0, 0, 0, 0, 2, 0, 3, 5, 5, 5, 1}, []byte(`null`))
	f.Add([]byte{1, 7, 2, 3, 1, 2, 3, 4, 5, 6, 7, 3, 2, 6, 6, 6, 6}, []byte(`{"tasks":[{"topology":"t0","component":"c0","index":0,"worker":"w1"}]}`))
	f.Add([]byte{0, 2, 0, 0, 1, 1, 3, 7, 7, 7, 7}, []byte(`{"tasks":[{"topology":"t0","component":"c0","index":0,"worker":"w0"},{"topology":"t0","component":"c0","index":0,"worker":"w1"}],"restricted":[{"topology":"t0","workers":["w1","zz"]}]}`))
	f.Fuzz(func(t *testing.T, data, prevJSON []byte) {
		cfg, in := fuzzInput(data)
		var prev Assignment
		if json.Unmarshal(prevJSON, &prev) == nil {
			in.Previous = &prev
		}
		a, err := Compute(cfg, in)
		if err != nil {
			t.Fatalf("Compute: %v", err)
		}
		if err := checkValid(cfg, in, a); err != nil {
			t.Fatal(err)
		}
		if err := checkLocallyBalanced(cfg, in, a); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(len(data)), uint64(len(prevJSON))))
		if b := mustCompute(t, cfg, shuffled(rng, in)); !reflect.DeepEqual(a, b) {
			t.Fatalf("a permuted input gives another assignment: %v", Diff(a, b))
		}
		in.Previous = a
		if d := Diff(a, mustCompute(t, cfg, in)); len(d) != 0 {
			t.Fatalf("recomputing moved %v", d)
		}
	})
}
