package file_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/file"
	"github.com/gale-stream/gale/sinks/sinktest"
)

func fileRun(t *testing.T, r *sinktest.Run, dir string) {
	t.Helper()
	sinktest.Start(r, t, "sinktest", file.Type(), fmt.Sprintf(`{"dir": %q, "field": "value", "time_partition": "hour",
	    "min_backoff_ms": 5, "max_backoff_ms": 20, "dead_letter_dir": %q}`, dir, filepath.Join(dir, "..", "dlq")))
}

// tree reads every file under dir: relative name -> bytes.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return nil
	})
	return out
}

// TestFileSinkReplaysAreIdentical: a run with failed tuples (batch replays)
// and failed writes (retries) leaves exactly the files of a clean run,
// byte for byte; every record is in them once.
func TestFileSinkReplaysAreIdentical(t *testing.T) {
	base := t.TempDir()
	cleanDir, chaosDir := filepath.Join(base, "clean", "out"), filepath.Join(base, "chaos", "out")
	clean := &sinktest.Run{}
	fileRun(t, clean, cleanDir)
	chaos := &sinktest.Run{FailOnce: sinktest.Chaos, WriteFails: 5}
	fileRun(t, chaos, chaosDir)
	sinktest.CheckChaos(t, clean, chaos)
	a, b := tree(t, cleanDir), tree(t, chaosDir)
	if len(a) == 0 {
		t.Fatal("the clean run wrote nothing")
	}
	for name, data := range a {
		if !bytes.Equal(b[name], data) {
			t.Errorf("%s differs between the clean and the chaos run (%d vs %d bytes)", name, len(data), len(b[name]))
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s: only in the chaos run", name)
		}
	}
	// every record once, in the right hour, in offset order
	decoded := map[string][]byte{}
	for name, data := range a {
		if !strings.HasSuffix(name, ".jsonl.lz4") {
			t.Errorf("unexpected file %s", name)
			continue
		}
		content, err := sinks.Decode(nil, data)
		if err != nil {
			t.Fatal(err)
		}
		decoded[name] = content
	}
	sinktest.CheckRecords(t, decoded)
}

// rejecting rejects the records whose offset ends in 7, like a search index
// refusing documents that clash with its mapping.
type rejecting struct{ sinks.Writer }

func (r rejecting) WriteBatchRejecting(ctx context.Context, b *sinks.Batch) (int64, []sinks.Rejection, error) {
	var keep []sinks.Record
	var rej []sinks.Rejection
	for _, rec := range b.Records {
		if strings.HasSuffix(rec.ID, "7/0") {
			rej = append(rej, sinks.Rejection{ID: rec.ID, Error: "mapper_parsing_exception: field [n] of type [long]"})
			continue
		}
		keep = append(keep, rec)
	}
	nb := *b
	nb.Records = keep
	n, err := r.Writer.WriteBatch(ctx, &nb)
	return n, rej, err
}

// TestDeadLetters: records the backend rejects go to the dead-letter files
// (named like their batch, with the reason and the record), the batch
// completes without them, and a replay rewrites the same dead-letter file.
func TestDeadLetters(t *testing.T) {
	base := t.TempDir()
	dlq := filepath.Join(base, "dlq")
	r := &sinktest.Run{FailOnce: sinktest.Chaos, Wrap: func(w sinks.Writer) sinks.Writer { return rejecting{w} }}
	sinktest.Start(r, t, "dlqtest", file.Type(), fmt.Sprintf(`{"dir": %q, "field": "value", "min_backoff_ms": 5,
	    "max_backoff_ms": 20, "dead_letter_dir": %q}`, filepath.Join(base, "out"), dlq))
	if r.SpoutFails.Load() < int64(len(sinktest.Chaos)) {
		t.Fatalf("%d replays, want at least %d", r.SpoutFails.Load(), len(sinktest.Chaos))
	}
	written, rejected := 0, map[string]string{}
	for name, data := range tree(t, filepath.Join(base, "out")) {
		content, err := sinks.Decode(nil, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		written += len(sinks.SplitLines(content))
	}
	for name, data := range tree(t, dlq) {
		if !strings.HasPrefix(name, "sink/dlqtest/ev/") {
			t.Errorf("dead-letter file %s: want it under <dir>/<component>/<topology>/<topic>/", name)
		}
		for _, line := range sinks.SplitLines(data) {
			var d struct{ ID, Batch, Sink, Error, Record string }
			if err := json.Unmarshal(line, &d); err != nil {
				t.Fatalf("%s: %q: %v", name, line, err)
			}
			if d.Sink != "sink" || !strings.Contains(d.Error, "mapper_parsing_exception") || !strings.Contains(d.Record, `"value":"{\"n\":`) {
				t.Errorf("dead letter %+v", d)
			}
			if _, dup := rejected[d.ID]; dup {
				t.Errorf("%s dead-lettered twice", d.ID)
			}
			rejected[d.ID] = d.Batch
		}
	}
	total := sinktest.Batches * sinktest.Records
	if len(rejected) == 0 || written+len(rejected) != total {
		t.Errorf("%d records written and %d dead-lettered, want %d in all with some dead letters", written, len(rejected), total)
	}
}

// TestFullDisk: the file sink's directory is a tmpfs of four pages, so the
// disk fills after a few files; the writes fail with ENOSPC and are
// retried (reported, nothing dropped) until the filesystem is grown, then
// every record is written once.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED LOUDLY: mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	if b, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", out).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount tmpfs: %v: %s", err, b)
		}
		t.Skipf("SKIPPED LOUDLY: mount tmpfs: %v: %s", err, b)
	}
	t.Cleanup(func() { exec.Command("umount", out).Run() })
	var full atomic.Bool
	var once sync.Once // shared by the sink's tasks
	r := &sinktest.Run{Wrap: func(w sinks.Writer) sinks.Writer { return &enospcWatch{Writer: w, full: &full, once: &once, dir: out} }}
	sinktest.Start(r, t, "fulltest", file.Type(), fmt.Sprintf(`{"dir": %q, "field": "value", "min_backoff_ms": 5,
	    "max_backoff_ms": 50, "dead_letter_dir": %q, "no_fsync": true}`, out, filepath.Join(dir, "dlq")))
	if !full.Load() {
		t.Fatal("the disk never filled: the test did not test anything")
	}
	if r.SinkRetries == 0 {
		t.Error("no write was retried")
	}
	n := 0
	for name, data := range tree(t, out) {
		content, err := sinks.Decode(nil, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n += len(sinks.SplitLines(content))
	}
	if n != sinktest.Batches*sinktest.Records {
		t.Errorf("%d records written, want %d", n, sinktest.Batches*sinktest.Records)
	}
}

// enospcWatch grows the filesystem a moment after the first ENOSPC.
type enospcWatch struct {
	sinks.Writer
	full *atomic.Bool
	once *sync.Once
	dir  string
}

func (e *enospcWatch) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	n, err := e.Writer.WriteBatch(ctx, b)
	if errors.Is(err, syscall.ENOSPC) {
		e.full.Store(true)
		e.once.Do(func() {
			go func() {
				time.Sleep(300 * time.Millisecond) // some retries meanwhile
				exec.Command("mount", "-o", "remount,size=4m", e.dir).Run()
			}()
		})
	}
	return n, err
}
