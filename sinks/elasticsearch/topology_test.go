package elasticsearch

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
)

func line(off int) string { return fmt.Sprintf(`{"n":%d,"user":"u%d"}`, off, off%7) }

// esRun runs the test topology into the index pattern with the real
// es_sink type; records start at 20:00, so they cross midnight at g=240.
func esRun(t *testing.T, r *sinktest.Run, url, index, dlq string) *Writer {
	t.Helper()
	r.Base = time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)
	r.Wrap = func(w sinks.Writer) sinks.Writer {
		w.(*Writer).ItemBackoff = 5 * time.Millisecond
		return w
	}
	sinktest.Start(r, t, "estest", Type(), fmt.Sprintf(`{"urls": [%q], "index": %q, "field": "value", "bulk_max_docs": 25,
	    "min_backoff_ms": 5, "max_backoff_ms": 20, "dead_letter_dir": %q}`, url, index, dlq))
	c := NewConfig()
	c.URLs, c.Index = []string{url}, index
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestESSinkReplaysAreIdentical: a topology run with failed tuples (batch
// replays) and failed writes (retries) leaves exactly the documents of a
// clean run, id by id and byte for byte, each record once, in the index
// of its day.
func TestESSinkReplaysAreIdentical(t *testing.T) {
	batches, recs := sinktest.Batches, sinktest.Records
	prefix := uniqueIndex("topo")
	e := newES(t, prefix+"-*")
	dlq := filepath.Join(t.TempDir(), "dlq")
	clean := &sinktest.Run{}
	cleanW := esRun(t, clean, e.url, prefix+"-clean-{2006.01.02}", dlq)
	chaos := &sinktest.Run{FailOnce: sinktest.Chaos, WriteFails: 5}
	chaosW := esRun(t, chaos, e.url, prefix+"-chaos-{2006.01.02}", dlq)
	sinktest.CheckChaos(t, clean, chaos)
	e.refresh(prefix + "-*")
	a, _ := documents(t, cleanW)
	b, _ := documents(t, chaosW)
	if len(a) != batches*recs {
		t.Fatalf("the clean run wrote %d documents, want %d", len(a), batches*recs)
	}
	for id, src := range a {
		if !bytes.Equal(b[id], src) {
			t.Errorf("%s differs between the clean and the chaos run: %s vs %s", id, src, b[id])
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			t.Errorf("%s: only in the chaos run", id)
		}
	}
	for off := range batches * recs {
		id := sinktest.ID("ev", off) + "/0" // the child the flaky bolt emits
		if string(a[id]) != sinktest.Line(off) {
			t.Errorf("%s is %s, want %s", id, a[id], sinktest.Line(off))
		}
	}
	// the documents are in the index of their day: 20:00 + 480 minutes
	// crosses midnight at offset 240
	for _, run := range []string{"clean", "chaos"} {
		for _, c := range []struct {
			day  string
			want int
		}{{"2026.11.27", 240}, {"2026.11.28", 240}} {
			idx := fmt.Sprintf("%s-%s-%s", prefix, run, c.day)
			if got := e.count(idx); got != c.want {
				t.Errorf("%s holds %d documents, want %d", idx, got, c.want)
			}
		}
	}
}
