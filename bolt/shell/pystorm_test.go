package shell_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/multilang/multilangtest"
	"github.com/gale-stream/gale/tuple"
)

// TestBolt_PystormUnchanged runs a bolt written with pystorm, a real
// third-party Storm multilang library from the package index, unchanged.
func TestBolt_PystormUnchanged(t *testing.T) {
	py := multilangtest.PystormPython(t)
	h := start(t, config(py, "testdata/pystorm_split.py"), wordStreams)
	in := []*tuple.Tuple{sentence(0, "the cow jumped"), sentence(1, "over the moon")}
	h.execute(in...)
	galetest.Eventually(t, "2 acks", 15*time.Second, h.settled(2))
	em, acked, failed, errs := h.out.Snapshot()
	if len(failed) != 0 || len(errs) != 0 {
		t.Fatalf("failed %d errors %v", len(failed), errs)
	}
	if !slices.Equal(acked, in) {
		t.Errorf("acked %v", acked)
	}
	if got := words(em); !slices.Equal(got, []string{"the", "cow", "jumped", "over", "the", "moon"}) {
		t.Errorf("words %q", got)
	}
	for i, e := range em {
		if len(e.Anchors) != 1 || e.Anchors[0] != in[i/3] {
			t.Errorf("emit %d not anchored to its input", i)
		}
	}
}
