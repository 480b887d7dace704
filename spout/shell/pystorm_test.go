package shell_test

import (
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/multilang/multilangtest"
)

// TestSpout_PystormUnchanged runs a spout written with pystorm, a real
// third-party Storm multilang library from the package index, unchanged.
func TestSpout_PystormUnchanged(t *testing.T) {
	py := multilangtest.PystormPython(t)
	h, err := open(t, config(py, "testdata/pystorm_spout.py"))
	if err != nil {
		t.Fatal(err)
	}
	h.pump(3)
	em := h.emitted()
	if len(em) != 3 || em[0].Values[0] != "the cow" || em[0].MsgID == nil {
		t.Fatalf("emitted %+v", em)
	}
	h.s.Ack(em[0].MsgID)
	h.s.Fail(em[1].MsgID)
	if err := h.next(); err != nil {
		t.Fatal(err)
	}
	em = h.emitted()
	if len(em) != 4 || em[3].MsgID != em[1].MsgID {
		t.Fatalf("the failed tuple was not replayed with its id: %+v", em)
	}
	if !strings.Contains(h.logs.String(), "acked s0") {
		t.Errorf("pystorm's ack log missing; logs:\n%s", h.logs)
	}
	if _, errs := h.out.Snapshot(); len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
}
