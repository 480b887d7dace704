package cli

import (
	"bytes"
	"testing"
)

// TestLiveLine: on a terminal, each line is written over the last one
// (padded over a longer one), a message clears the line and goes on a
// line of its own, and end leaves the last line on screen; elsewhere,
// each is a line.
func TestLiveLine(t *testing.T) {
	for _, tc := range []struct {
		tty  bool
		want string
	}{
		{true, "\rread 10\rread 9 \r      \rgale verify: reading...\n\rread 8\n"},
		{false, "read 10\nread 9\ngale verify: reading...\nread 8\n"},
	} {
		var buf bytes.Buffer
		l := &liveLine{w: &buf, tty: tc.tty}
		l.show("read 10")
		l.show("read 9")
		l.println("gale verify: reading...")
		l.show("read 8")
		l.end()
		l.end()
		if got := buf.String(); got != tc.want {
			t.Errorf("tty %v: wrote %q, want %q", tc.tty, got, tc.want)
		}
	}
}
