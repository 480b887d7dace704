package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/file"
	"github.com/gale-stream/gale/tuple"
)

// TestVerify_Lost: gale verify of a topology whose ledger recorded offsets
// lost (Kafka deleted them before the spout read them) prints them in a
// LOST section and exits 1, though the sink holds every committed batch.
func TestVerify_Lost(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ledgerDir, out := filepath.Join(dir, "ledger"), filepath.Join(dir, "out")
	spec := write(t, "t.json", fmt.Sprintf(`{"name": "t",
	  "spouts": [{"id": "k", "type": "kafka", "config": {"brokers": ["127.0.0.1:1"], "topics": ["events"],
	    "ledger": {"kind": "file", "dir": %q}}}],
	  "bolts": [{"id": "files", "type": "file_sink", "inputs": [{"component": "k", "grouping": "batch"}],
	    "config": {"dir": %q, "no_fsync": true}}]}`, ledgerDir, out))

	st, err := ledger.NewFileStore(ledgerDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := ledger.Key{Topology: "t", Spout: "k", Topic: "events"}
	w, _, err := st.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sink := file.NewWriter(out, sinks.Naming{Ext: ".jsonl.lz4"}, sinks.Codec{Compression: sinks.CompressionLZ4}, true)
	for seq, b := range [][3]int64{{0, 3, 3}, {3, 6, 1}} { // start, end, records left
		p := ledger.Plan{Key: key, Seq: uint64(seq), Start: b[0], End: b[1]}
		if err := w.Plan(ctx, p); err != nil {
			t.Fatal(err)
		}
		if b[0]+b[2] < b[1] {
			if err := w.Lose(ctx, p.Seq, b[0]+b[2], b[1]); err != nil {
				t.Fatal(err)
			}
		}
		batch := &sinks.Batch{Topology: "t", Meta: &tuple.BatchMeta{ID: p.BatchID(), Source: "events", Seq: p.Seq, Start: p.Start, End: p.End}}
		for o := b[0]; o < b[0]+b[2]; o++ {
			batch.Records = append(batch.Records, sinks.Record{ID: fmt.Sprintf("events/0/%d", o), Line: []byte(fmt.Sprintf(`{"offset":%d}`, o))})
		}
		if _, err := sink.WriteBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx, p.Seq); err != nil {
			t.Fatal(err)
		}
	}

	code, stdout, stderr := runCLI(t, "verify", spec)
	head, body, _ := strings.Cut(stdout, "\n")
	want := `
  SINK   TYPE       BATCHES  RECORDS  MISSING  EXTRA  MISMATCHED  STATUS
  files  file_sink  2        4        0        0      0           ok

LOST: 2 offsets that Kafka deleted (retention) before the spout read them:
  batch events/00000/000000000001: offsets [4, 6)

OFFSETS LOST: every sink holds the committed batches, less the offsets above (exit status 1).
`
	if code != 1 || !strings.HasPrefix(head, "topology t: 2 committed batches, 0 in flight (checked in ") || body != want {
		t.Errorf("gale verify: exit %d, stdout:\n%s\nwant exit 1 and, after the first line:%s\nstderr:\n%s", code, stdout, want, stderr)
	}
	if strings.Contains(stderr, "] read ") {
		t.Errorf("gale verify without --progress, stderr not a terminal: a progress line:\n%s", stderr)
	}

	// --progress: the progress line also when stderr is no terminal (the
	// last one at least, however fast the check)
	code, _, stderr = runCLI(t, "verify", "--progress", spec)
	progress := regexp.MustCompile(`(?m)^\[00:00:\d\d\] read objects 2/2 \| ETA 00:00:00$`)
	if code != 1 || !progress.MatchString(stderr) || !strings.Contains(stderr, `gale verify: reading sink "files" (file_sink): 2 objects...`) {
		t.Errorf("gale verify --progress: exit %d, stderr:\n%s\nwant exit 1, the status lines and a line matching %s", code, stderr, progress)
	}
}
