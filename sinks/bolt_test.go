package sinks_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
)

func fileRun(t *testing.T, r *sinktest.Run, dir string) {
	t.Helper()
	r.Start(t, "sinktest", sinks.FileType(), fmt.Sprintf(`{"dir": %q, "field": "value", "time_partition": "hour",
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
	seen := map[int]int{}
	for name, data := range a {
		if !strings.HasSuffix(name, ".jsonl.lz4") {
			t.Errorf("unexpected file %s", name)
			continue
		}
		content, err := sinks.Decode(nil, data)
		if err != nil {
			t.Fatal(err)
		}
		last := -1
		for _, line := range strings.Split(strings.TrimSuffix(string(content), "\n"), "\n") {
			var n int
			if _, err := fmt.Sscanf(line, `{"n":%d,`, &n); err != nil {
				t.Fatalf("%s: line %q", name, line)
			}
			hour := sinktest.Time(n).Format("dt=2006-01-02/hh=15")
			if !strings.Contains(name, hour) {
				t.Errorf("record %d in %s, want hour %s", n, name, hour)
			}
			if n <= last {
				t.Errorf("%s: record %d after %d", name, n, last)
			}
			last = n
			seen[n]++
		}
	}
	for n := range sinktest.Batches * sinktest.Records {
		if seen[n] != 1 {
			t.Errorf("record %d written %d times", n, seen[n])
		}
	}
}
