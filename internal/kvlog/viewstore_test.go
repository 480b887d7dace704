package kvlog

import (
	"slices"
	"testing"
)

// TestViewStore: the view's storage iterates over a snapshot, in key
// order, over a prefix or a range, and forgets deleted keys.
func TestViewStore(t *testing.T) {
	st, _ := viewStoreBuilder("t", 0)
	for _, k := range []string{"b/2", "a/1", "b/1", "c", "b/3"} {
		if err := st.Set(k, []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Delete("b/3"); err != nil {
		t.Fatal(err)
	}
	keys := func(it interface {
		Next() bool
		Key() []byte
	}) []string {
		var ks []string
		for it.Next() {
			ks = append(ks, string(it.Key()))
		}
		return ks
	}
	all, _ := st.Iterator()
	if got, want := keys(all), []string{"a/1", "b/1", "b/2", "c"}; !slices.Equal(got, want) {
		t.Errorf("all keys %v, want %v", got, want)
	}
	pre, _ := st.IteratorWithRange([]byte("b/"), nil)
	st.Set("b/0", []byte("later")) // not in the snapshot
	if got, want := keys(pre), []string{"b/1", "b/2"}; !slices.Equal(got, want) {
		t.Errorf("prefix b/: %v, want %v", got, want)
	}
	rng, _ := st.IteratorWithRange([]byte("a"), []byte("b/2"))
	if got, want := keys(rng), []string{"a/1", "b/0", "b/1"}; !slices.Equal(got, want) {
		t.Errorf("range [a, b/2): %v, want %v", got, want)
	}
	it, _ := st.Iterator()
	if !it.Seek([]byte("b/15")) || !it.Next() || string(it.Key()) != "b/2" {
		t.Errorf("seek b/15: at %q, want b/2", it.Key())
	}
	if v, _ := it.Value(); string(v) != "vb/2" {
		t.Errorf("value %q, want vb/2", v)
	}
	if v, _ := st.Get("b/3"); v != nil {
		t.Errorf("deleted key holds %q", v)
	}
	if ok, _ := st.Has("c"); !ok {
		t.Error("Has(c) = false")
	}
	if off, _ := st.GetOffset(-2); off != -2 {
		t.Errorf("offset %d before any, want the default", off)
	}
	st.SetOffset(7)
	if off, _ := st.GetOffset(-2); off != 7 {
		t.Errorf("offset %d, want 7", off)
	}
}
