package sinks

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestLinesSum: the checksum of a batch's lines depends on which lines it
// holds and how many times each, not on their order or on how they were
// split into objects; AddContent splits as SplitLines does.
func TestLinesSum(t *testing.T) {
	sum := func(lines ...string) string {
		var s LinesSum
		for _, l := range lines {
			s.Add([]byte(l))
		}
		return s.Sum()
	}
	content := func(cs ...string) (string, int) {
		var s LinesSum
		for _, c := range cs {
			s.AddContent([]byte(c))
		}
		return s.Sum(), s.Len()
	}
	abc := sum("a", "b", "c")
	for _, tc := range []struct {
		name string
		got  string
		same bool
	}{
		{"another order", sum("c", "a", "b"), true},
		{"a line missing", sum("a", "b"), false},
		{"a line twice", sum("a", "b", "c", "c"), false},
		{"a line changed", sum("a", "b", "d"), false},
		{"lines joined", sum("ab", "c"), false},
		{"an empty line more", sum("a", "b", "c", ""), false},
		{"the lines of objects", LinesChecksum([][]byte{[]byte("b"), []byte("a"), []byte("c")}), true},
	} {
		if (tc.got == abc) != tc.same {
			t.Errorf("%s: checksum equal to a, b, c's: %v, want %v", tc.name, tc.got == abc, tc.same)
		}
	}
	for _, cs := range [][]string{{"a\nb\nc\n"}, {"c\n", "a\nb"}, {"b\na\n", "c"}} {
		if got, n := content(cs...); got != abc || n != 3 {
			t.Errorf("AddContent of %q: %d lines, checksum equal to a, b, c's: %v", cs, n, got == abc)
		}
	}
	for _, c := range []string{"", "\n", "a\n\n", "\n\na", "a\r\nb"} {
		var want LinesSum
		for _, l := range SplitLines([]byte(c)) {
			want.Add(l)
		}
		if got, n := content(c); got != want.Sum() || n != want.Len() {
			t.Errorf("AddContent(%q): %d lines, SplitLines %d, or another checksum", c, n, want.Len())
		}
	}
	empty := sha256.Sum256(nil)
	if got := LinesChecksum(nil); got != hex.EncodeToString(empty[:]) {
		t.Errorf("LinesChecksum(nil) = %s, want the SHA-256 of nothing", got)
	}
}
