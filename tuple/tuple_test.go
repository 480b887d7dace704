package tuple

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
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

// compareIDsRef is CompareIDs as first written, on strconv.ParseUint.
func compareIDsRef(a, b string) int {
	for a != "" || b != "" {
		var sa, sb string
		sa, a, _ = strings.Cut(a, "/")
		sb, b, _ = strings.Cut(b, "/")
		na, errA := strconv.ParseUint(sa, 10, 64)
		nb, errB := strconv.ParseUint(sb, 10, 64)
		c := strings.Compare(sa, sb)
		if errA == nil && errB == nil {
			c = cmp.Compare(na, nb)
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func TestCompareIDs_AsParseUint(t *testing.T) {
	segs := []string{"", "0", "00", "7", "007", "9", "10", "a", "-1", "+1", "1a", "18446744073709551615",
		"18446744073709551616", "99999999999999999999", "018446744073709551615", "events", "Z"}
	var ids []string
	for _, x := range segs {
		for _, y := range segs {
			ids = append(ids, x, x+"/"+y, "t/"+x+"/"+y)
		}
	}
	for _, a := range ids {
		for _, b := range ids {
			if got, want := CompareIDs(a, b), compareIDsRef(a, b); got != want {
				t.Fatalf("CompareIDs(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func FuzzCompareIDs(f *testing.F) {
	f.Add("t/3/9", "t/3/10")
	f.Add("18446744073709551616", "1")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := CompareIDs(a, b), compareIDsRef(a, b); got != want {
			t.Fatalf("CompareIDs(%q, %q) = %d, want %d", a, b, got, want)
		}
	})
}

func BenchmarkCompareIDs(b *testing.B) {
	x, y := "events/00002/000000000007/12", "events/00002/000000000007/13"
	for b.Loop() {
		CompareIDs(x, y)
	}
}
