package grouping

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

var targets = []int{4, 5, 6, 7}

func mustNew(t *testing.T, g topology.Grouping, idx, local []int) Grouper {
	t.Helper()
	gr, err := New(g, targets, idx, local)
	if err != nil {
		t.Fatal(err)
	}
	return gr
}

func TestFields_EqualKeysOneTaskAndEvenSpread(t *testing.T) {
	g := mustNew(t, topology.FieldsGrouping, []int{1}, nil)
	where := map[string]int{}
	load := map[int]int{}
	for i := range 40000 {
		key := "k" + strconv.Itoa(i%4000)
		got := g.Choose(nil, tuple.Values{i, key})
		if len(got) != 1 {
			t.Fatalf("fields chose %v", got)
		}
		if prev, ok := where[key]; ok && prev != got[0] {
			t.Fatalf("key %q went to %d and %d", key, prev, got[0])
		}
		where[key] = got[0]
		load[got[0]]++
	}
	for _, task := range targets {
		if load[task] < 40000/4*85/100 || load[task] > 40000/4*115/100 {
			t.Errorf("task %d got %d of 40000", task, load[task])
		}
	}
}

func TestHash_Golden(t *testing.T) {
	// FNV-1a 64 over the canonical encoding, computed by hand here so an
	// accidental change of the encoding (which would move keys between the
	// workers of a mixed-version cluster) fails this test.
	fnv := func(bs ...[]byte) uint64 {
		h := uint64(14695981039346656037)
		for _, b := range bs {
			for _, c := range b {
				h = (h ^ uint64(c)) * 1099511628211
			}
		}
		return h
	}
	le := func(v uint64) []byte {
		b := make([]byte, 8)
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		return b
	}
	cases := []struct {
		v    tuple.Values
		want uint64
	}{
		{tuple.Values{"fox"}, fnv([]byte{'s'}, le(3), []byte("fox"))},
		{tuple.Values{[]byte("fox")}, fnv([]byte{'s'}, le(3), []byte("fox"))},
		{tuple.Values{int64(-2)}, fnv([]byte{'i'}, le(uint64(math.MaxUint64-1)))},
		{tuple.Values{int32(-2)}, fnv([]byte{'i'}, le(uint64(math.MaxUint64-1)))},
		{tuple.Values{uint16(7)}, fnv([]byte{'u'}, le(7))},
		{tuple.Values{1.5}, fnv([]byte{'f'}, le(math.Float64bits(1.5)))},
		{tuple.Values{true, nil}, fnv([]byte{'b', 1}, []byte{'n'})},
		{tuple.Values{"a", "bc"}, fnv([]byte{'s'}, le(1), []byte("a"), []byte{'s'}, le(2), []byte("bc"))},
	}
	for _, c := range cases {
		idx := make([]int, len(c.v))
		for i := range idx {
			idx[i] = i
		}
		if got := Hash(c.v, idx); got != c.want {
			t.Errorf("Hash(%#v) = %x, want %x", c.v, got, c.want)
		}
	}
	// lengths keep ("ab","c") and ("a","bc") apart
	if Hash(tuple.Values{"ab", "c"}, []int{0, 1}) == Hash(tuple.Values{"a", "bc"}, []int{0, 1}) {
		t.Error("concatenation collision")
	}
}

func TestAll_ReachesEveryTask(t *testing.T) {
	got := mustNew(t, topology.All, nil, nil).Choose(nil, nil)
	if len(got) != len(targets) {
		t.Fatalf("all chose %v", got)
	}
	for i := range targets {
		if got[i] != targets[i] {
			t.Fatalf("all chose %v, want %v", got, targets)
		}
	}
}

func TestGlobal_LowestTask(t *testing.T) {
	g, err := New(topology.Global, []int{9, 3, 5}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if got := g.Choose(nil, nil); len(got) != 1 || got[0] != 3 {
			t.Fatalf("global chose %v, want [3]", got)
		}
	}
}

func TestShuffle_Even(t *testing.T) {
	for _, g := range []topology.Grouping{topology.Shuffle, topology.None} {
		gr := mustNew(t, g, nil, nil)
		load := map[int]int{}
		for range 10000 {
			load[gr.Choose(nil, nil)[0]]++
		}
		for _, task := range targets {
			// round robin over a shuffled order: exact to within one round
			if load[task] < 2499 || load[task] > 2501 {
				t.Errorf("%s: task %d got %d of 10000", g, task, load[task])
			}
		}
	}
}

func TestLocalOrShuffle_StaysLocal(t *testing.T) {
	gr := mustNew(t, topology.LocalOrShuffle, nil, []int{6})
	for range 100 {
		if got := gr.Choose(nil, nil); got[0] != 6 {
			t.Fatalf("local_or_shuffle chose %v, want the local task 6", got)
		}
	}
	gr = mustNew(t, topology.LocalOrShuffle, nil, nil)
	seen := map[int]bool{}
	for range 100 {
		seen[gr.Choose(nil, nil)[0]] = true
	}
	if len(seen) != len(targets) {
		t.Errorf("without local tasks it used %v, want all targets", seen)
	}
}

func TestPartialKey_BalancesSkew(t *testing.T) {
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.2, 1, 10000)
	pk := mustNew(t, topology.PartialKey, []int{0}, nil)
	fg := mustNew(t, topology.FieldsGrouping, []int{0}, nil)
	pkLoad, fgLoad := map[int]int{}, map[int]int{}
	for range 100000 {
		v := tuple.Values{"key" + strconv.FormatUint(zipf.Uint64(), 10)}
		pkLoad[pk.Choose(nil, v)[0]]++
		fgLoad[fg.Choose(nil, v)[0]]++
	}
	maxOf := func(m map[int]int) int {
		x := 0
		for _, v := range m {
			x = max(x, v)
		}
		return x
	}
	if maxOf(pkLoad) >= maxOf(fgLoad) {
		t.Errorf("partial key max load %d, fields max load %d: want partial key lower", maxOf(pkLoad), maxOf(fgLoad))
	}
	if maxOf(pkLoad) > 100000/4*115/100 {
		t.Errorf("partial key max load %d of 100000 over 4 tasks: poorly balanced", maxOf(pkLoad))
	}
}

func TestNew_Errors(t *testing.T) {
	if _, err := New("bogus", targets, nil, nil); !errors.Is(err, ErrUnknownGrouping) {
		t.Errorf("unknown grouping: %v", err)
	}
	if _, err := New(topology.FieldsGrouping, targets, nil, nil); !errors.Is(err, ErrNoFields) {
		t.Errorf("fields without fields: %v", err)
	}
	if _, err := New(topology.Shuffle, nil, nil, nil); !errors.Is(err, ErrNoTargets) {
		t.Errorf("no targets: %v", err)
	}
	if err := CheckDirect(targets, 5); err != nil {
		t.Errorf("direct to a target: %v", err)
	}
	if err := CheckDirect(targets, 9); !errors.Is(err, ErrNotTarget) {
		t.Errorf("direct to a non-target: %v", err)
	}
	if got := mustNew(t, topology.Direct, nil, nil).Choose(nil, nil); len(got) != 0 {
		t.Errorf("direct grouper chose %v", got)
	}
}

func BenchmarkGroupers(b *testing.B) {
	v := tuple.Values{"the quick brown fox", 42}
	for _, g := range []topology.Grouping{topology.Shuffle, topology.FieldsGrouping, topology.PartialKey, topology.All, topology.Global} {
		b.Run(string(g), func(b *testing.B) {
			gr, err := New(g, targets, []int{0}, nil)
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]int, 0, 8)
			b.ReportAllocs()
			for range b.N {
				dst = gr.Choose(dst[:0], v)
			}
		})
	}
}

func TestBatchGrouping(t *testing.T) {
	g, err := New(topology.BatchGrouping, []int{9, 3, 5}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bc, ok := g.(BatchChooser)
	if !ok {
		t.Fatal("the batch grouper is not a BatchChooser")
	}
	seen := map[int]bool{}
	for i := range 300 {
		id := fmt.Sprintf("topic/%05d/%012d", i%7, i)
		got := bc.ChooseBatch(nil, id)
		if len(got) != 1 || got[0] != BatchOwner([]int{3, 5, 9}, id) {
			t.Fatalf("ChooseBatch(%q) = %v, BatchOwner says %d", id, got, BatchOwner([]int{3, 5, 9}, id))
		}
		// the same batch always goes to the same task
		if again := bc.ChooseBatch(nil, id); again[0] != got[0] {
			t.Fatalf("batch %q went to %d, then to %d", id, got[0], again[0])
		}
		seen[got[0]] = true
	}
	if len(seen) != 3 {
		t.Errorf("300 batches reached tasks %v, want all of 3, 5, 9", seen)
	}
	// the same in every process and on every machine: a pinned value
	// (hash 13210225053398867858 % 4 = 2 -> the third task)
	if got := BatchOwner([]int{1, 2, 3, 4}, "events/00000/000000000000"); got != 3 {
		t.Fatalf("BatchOwner = %d, want 3 (the hash of batch ids changed)", got)
	}
	// tuples outside batches are shuffled over every task
	seen = map[int]bool{}
	for range 30 {
		for _, x := range g.Choose(nil, tuple.Values{"x"}) {
			seen[x] = true
		}
	}
	if len(seen) != 3 {
		t.Errorf("shuffled tuples reached %v", seen)
	}
}

// The batch grouping remembers the last batch's owner: a batch id seen
// again after another one, or a new one, must still get BatchOwner's task.
func TestBatch_MemoMatchesOwner(t *testing.T) {
	targets := []int{3, 4, 5, 6, 7}
	g, err := New(topology.BatchGrouping, targets, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bc := g.(BatchChooser)
	ids := []string{"a/1/1", "a/1/1", "a/1/2", "a/1/1", "b/0/9", "b/0/9", "a/1/2"}
	seen := map[int]bool{}
	for _, id := range ids {
		got := bc.ChooseBatch(nil, id)
		if want := BatchOwner(targets, id); len(got) != 1 || got[0] != want {
			t.Fatalf("ChooseBatch(%q) = %v, want [%d]", id, got, want)
		}
		seen[got[0]] = true
	}
	if len(seen) < 2 {
		t.Fatalf("every batch went to one task (%v): the ids do not test the memo", seen)
	}
}

// Given the emitter's local tasks, the batch grouping keeps every batch
// among them (BatchOwner over those), and shuffles tuples outside batches
// over all the targets.
func TestBatch_Local(t *testing.T) {
	targets, local := []int{3, 4, 5, 6}, []int{6, 4}
	g, err := New(topology.BatchGrouping, targets, nil, local)
	if err != nil {
		t.Fatal(err)
	}
	bc := g.(BatchChooser)
	for i := range 50 {
		id := fmt.Sprintf("t/%05d/%012d", i%3, i)
		got := bc.ChooseBatch(nil, id)
		if want := BatchOwner([]int{4, 6}, id); len(got) != 1 || got[0] != want {
			t.Fatalf("ChooseBatch(%q) = %v, want [%d] (a local task)", id, got, want)
		}
	}
	seen := map[int]bool{}
	for range 100 {
		for _, c := range g.Choose(nil, nil) {
			seen[c] = true
		}
	}
	if len(seen) != len(targets) {
		t.Errorf("tuples outside batches reached %v, want every target of %v", seen, targets)
	}
}
