package tuple

import (
	"fmt"
	"testing"
	"time"
)

func TestTuple_Accessors(t *testing.T) {
	tp := &Tuple{Values: Values{"fox", []byte("jumps"), 3, nil}, Fields: Fields{"word", "raw", "n", "none"}}
	cases := []struct {
		field string
		want  string
	}{
		{"word", "fox"}, {"raw", "jumps"}, {"n", "3"}, {"none", ""}, {"missing", ""},
	}
	for _, c := range cases {
		if got := tp.String(c.field); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.field, got, c.want)
		}
	}
	if tp.Value(-1) != nil || tp.Value(4) != nil || tp.Value(2) != 3 {
		t.Error("Value out of range must be nil")
	}
	if tp.Len() != 4 || tp.Fields.Index("n") != 2 || tp.Fields.Contains("x") {
		t.Error("Len/Index/Contains")
	}
	if tp.IsTick() {
		t.Error("a data tuple is not a tick")
	}
	tick := &Tuple{Stream: TickStream, Component: SystemComponent}
	if !tick.IsTick() {
		t.Error("tick not recognised")
	}
	if AsString(time.Duration(1500)*time.Millisecond) != "1.5s" || fmt.Sprint(Fields{"a", "b"}) != "[a b]" {
		t.Error("AsString of a Stringer / Fields.String")
	}
}
