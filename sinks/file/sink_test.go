package file_test

import (
	"context"
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

// TestConformance: the file sink passes the suite every sink passes; each
// run's directory holds exactly the inventory's files (no temporary file
// left, nothing written beside), and nothing is written outside the runs'
// directories.
func TestConformance(t *testing.T) {
	root := t.TempDir()
	sinktest.Conformance(t, sinktest.Backend[file.Config]{
		Type: file.Type(),
		Config: func(t testing.TB, place string) map[string]any {
			return map[string]any{"dir": filepath.Join(root, place)}
		},
		Check: func(t testing.TB, place string, got sinktest.Stored) {
			files := tree(t, filepath.Join(root, place))
			for name := range files {
				if _, ok := got.Raw[name]; !ok {
					t.Errorf("%s: %s is not in the sink's inventory (a temporary file, or a name outside <topology>/)", place, name)
				}
			}
			if len(files) != len(got.Raw) {
				t.Errorf("%s: %d files, the inventory lists %d", place, len(files), len(got.Raw))
			}
		},
	})
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "testconformance-") {
			t.Errorf("%s was written outside the runs' directories", e.Name())
		}
	}
}

// tree reads every file under dir: relative, slash-separated name -> bytes.
func tree(t testing.TB, dir string) map[string][]byte {
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
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out
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
	retries := sinktest.Run(t, file.Type(), fmt.Sprintf(`{"dir": %q, "field": "value", "min_backoff_ms": 5,
	    "max_backoff_ms": 50, "dead_letter_dir": %q, "no_fsync": true}`, out, filepath.Join(dir, "dlq")),
		func(w sinks.Writer) sinks.Writer { return &enospcWatch{Writer: w, full: &full, once: &once, dir: out} })
	if !full.Load() {
		t.Fatal("the disk never filled: the test did not test anything")
	}
	if retries == 0 {
		t.Error("no write was retried")
	}
	var lines [][]byte
	for name, data := range tree(t, out) {
		content, err := sinks.Decode(nil, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lines = append(lines, sinks.SplitLines(content)...)
	}
	seen, err := sinktest.Count(lines)
	if err != nil {
		t.Fatal(err)
	}
	for g := range sinktest.Batches * sinktest.Records {
		if seen[g] != 1 {
			t.Errorf("record %d written %d times", g, seen[g])
		}
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

// TestFormats: the file sink writes Avro and Parquet files through the
// real sink path (sinktest.Formats): replays byte-identical, fastavro and
// pyarrow read every record, the records that do not fit the schema are
// dead letters.
func TestFormats(t *testing.T) {
	root := t.TempDir()
	sinktest.Formats(t, sinktest.Backend[file.Config]{
		Type: file.Type(),
		Config: func(t testing.TB, place string) map[string]any {
			return map[string]any{"dir": filepath.Join(root, place)}
		},
	})
}
