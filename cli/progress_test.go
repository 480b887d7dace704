package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/verify"
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

// TestVerifyProgress: the progress line counts what was read against the
// totals, with the rates of the last interval; the time left is shown once
// a rate was measured for every kind with a total, from the first time it
// was seen reading.
func TestVerifyProgress(t *testing.T) {
	var buf bytes.Buffer
	var prog verify.Progress
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	p := &verifyProgress{line: &liveLine{w: &buf}, prog: &prog, start: t0, lastT: t0}
	at := func(sec int, objects, documents int64) {
		prog.Objects.Store(objects)
		prog.Documents.Store(documents)
		p.print(t0.Add(time.Duration(sec) * time.Second))
	}
	at(1, 0, 0) // nothing to read yet: no line
	prog.ObjectsTotal.Store(100)
	at(2, 10, 0)
	prog.DocumentsTotal.Store(10000)
	at(3, 30, 1000)
	at(4, 50, 3000)
	at(5, 100, 5000)
	at(7, 100, 10000)
	want := `[00:00:02] read objects 10/100 (10/s)
[00:00:03] read objects 30/100 (20/s) | documents 1000/10.0k (1000/s)
[00:00:04] read objects 50/100 (20/s) | documents 3000/10.0k (2000/s) | ETA 00:00:04
[00:00:05] read objects 100/100 | documents 5000/10.0k (2000/s) | ETA 00:00:03
[00:00:07] read objects 100/100 | documents 10.0k/10.0k | ETA 00:00:00
`
	if got := buf.String(); got != want {
		t.Errorf("lines:\n%s\nwant:\n%s", got, want)
	}
}
