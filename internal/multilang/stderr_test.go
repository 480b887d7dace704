package multilang

import (
	"slices"
	"strings"
	"testing"
)

// TestStderrTail_KeepsTheErrorLine: Node prints an uncaught exception's
// "Error:" line above its stack, more than 10 lines before the end; the
// tail keeps it with the last 10 lines, and its memory stays bounded.
func TestStderrTail_KeepsTheErrorLine(t *testing.T) {
	node := []string{
		"/app/bolt.js:12",
		"        throw new Error('boom');",
		"        ^",
		"",
		"Error: boom",
	}
	for i := range 10 {
		node = append(node, "    at frame"+strings.Repeat("x", i)+" (/app/bolt.js:1:1)")
	}
	node = append(node, "", "Node.js v20.20.2")
	var tail stderrTail
	for _, l := range node {
		tail.add(l)
	}
	got := tail.lines()
	want := append([]string{"Error: boom", "..."}, node[len(node)-stderrTailLines:]...)
	if !slices.Equal(got, want) {
		t.Errorf("tail\n%q\nwant\n%q", got, want)
	}

	// Python's last line is the error; nothing is added.
	tail = stderrTail{}
	for _, l := range []string{"Traceback (most recent call last):", `  File "x.py", line 1`, "ValueError: bad"} {
		tail.add(l)
	}
	if got := tail.lines(); len(got) != 3 || got[2] != "ValueError: bad" {
		t.Errorf("python tail %q", got)
	}

	// Bounded: long lines are cut, old lines dropped.
	tail = stderrTail{}
	for range 1000 {
		tail.add(strings.Repeat("y", 10*stderrLineBytes))
	}
	n := 0
	for _, l := range tail.lines() {
		n += len(l)
	}
	if n > (stderrTailLines+2)*(stderrLineBytes+3) {
		t.Errorf("tail holds %d bytes", n)
	}
}
