package cli_test

import (
	"context"
	"fmt"
	"os"
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

// TestVerify_Formats: gale verify reads the Avro and Parquet files of file
// sinks: their records counted, their checksums compared (with each
// other); a damaged file is unreadable, its batch mismatched.
func TestVerify_Formats(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ledgerDir := filepath.Join(dir, "ledger")
	schema := write(t, "s.avsc", `{"type":"record","name":"E","fields":[{"name":"offset","type":"long"},{"name":"tags","type":{"type":"array","items":"string"}}]}`)
	sinkJSON := func(id, format string) string {
		return fmt.Sprintf(`{"id": %q, "type": "file_sink", "inputs": [{"component": "k", "grouping": "batch"}],
		  "config": {"dir": %q, "no_fsync": true, "format": %q, "schema_file": %q, "compression": "none"}}`,
			id, filepath.Join(dir, id), format, schema)
	}
	spec := write(t, "t.json", fmt.Sprintf(`{"name": "t",
	  "spouts": [{"id": "k", "type": "kafka", "config": {"brokers": ["127.0.0.1:1"], "topics": ["events"],
	    "ledger": {"kind": "file", "dir": %q}}}],
	  "bolts": [%s, %s]}`, ledgerDir, sinkJSON("av", "avro"), sinkJSON("pq", "parquet")))

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
	var writers []*file.Writer
	var formats []sinks.Format
	for _, f := range []string{"avro", "parquet"} {
		c := file.NewConfig()
		c.Dir, c.NoFsync, c.Format, c.SchemaFile, c.Compression = filepath.Join(dir, map[string]string{"avro": "av", "parquet": "pq"}[f]), true, f, schema, "none"
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		writers = append(writers, c.Writer())
		formats = append(formats, c.Options("file", nil).Format)
	}
	for seq, b := range [][2]int64{{0, 5}, {5, 8}} {
		p := ledger.Plan{Key: key, Seq: uint64(seq), Start: b[0], End: b[1]}
		if err := w.Plan(ctx, p); err != nil {
			t.Fatal(err)
		}
		for i, sink := range writers {
			batch := &sinks.Batch{Topology: "t", Meta: &tuple.BatchMeta{ID: p.BatchID(), Source: "events", Seq: p.Seq, Start: p.Start, End: p.End}}
			for o := b[0]; o < b[1]; o++ {
				tp := &tuple.Tuple{ID: fmt.Sprintf("events/0/%d", o), Fields: tuple.Fields{"value"},
					Values: tuple.Values{fmt.Sprintf(`{"offset":%d,"tags":["a","b%d"]}`, o, o)}}
				r, err := formats[i].Record(tp)
				if err != nil {
					t.Fatal(err)
				}
				batch.Records = append(batch.Records, r)
			}
			if _, err := sink.WriteBatch(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Commit(ctx, p.Seq); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, "verify", spec)
	_, body, _ := strings.Cut(stdout, "\n")
	want := `
  SINK  TYPE       BATCHES  RECORDS  MISSING  EXTRA  MISMATCHED  STATUS
  av    file_sink  2        8        0        0      0           ok
  pq    file_sink  2        8        0        0      0           ok
`
	// a Parquet row sums up as its record's Avro encoding: the two sinks
	// agree
	if code != 0 || body != want+"\nOK: every sink holds exactly the committed batches.\n" {
		t.Errorf("gale verify: exit %d, stdout:\n%s\nwant the lines of:%s\nstderr:\n%s", code, stdout, want, stderr)
	}
	// a Parquet file of other records than the Avro file's: mismatched
	altered := &sinks.Batch{Topology: "t", Meta: &tuple.BatchMeta{ID: "events/00000/000000000001", Source: "events", Seq: 1, Start: 5, End: 8}}
	for o := int64(5); o < 8; o++ {
		r, err := formats[1].Record(&tuple.Tuple{ID: fmt.Sprintf("events/0/%d", o), Fields: tuple.Fields{"value"},
			Values: tuple.Values{fmt.Sprintf(`{"offset":%d,"tags":["a","c%d"]}`, o, o)}})
		if err != nil {
			t.Fatal(err)
		}
		altered.Records = append(altered.Records, r)
	}
	if _, err := writers[1].WriteBatch(ctx, altered); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI(t, "verify", spec)
	if code != 1 || !strings.Contains(stdout, `events/00000/000000000001: content differs from sink "av"'s`) {
		t.Errorf("gale verify of an altered parquet file: exit %d, stdout:\n%s", code, stdout)
	}
	// a damaged Parquet file: unreadable
	names, err := writers[1].Objects(ctx, "t")
	if err != nil || len(names) != 2 {
		t.Fatalf("%v, %v", names, err)
	}
	path := filepath.Join(dir, "pq", filepath.FromSlash(names[0]))
	data, _ := os.ReadFile(path)
	copy(data[len(data)-12:], "XXXX") // the footer's length
	os.WriteFile(path, data, 0o644)
	code, stdout, _ = runCLI(t, "verify", spec)
	if code == 0 || !strings.Contains(stdout, "unreadable") {
		t.Errorf("gale verify of a damaged parquet file: exit %d, stdout:\n%s", code, stdout)
	}
}
