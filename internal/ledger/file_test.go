package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gale-stream/gale/internal/kvlog"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/ledger/ledgertest"
)

func TestFileStore_Conformance(t *testing.T) {
	dir := t.TempDir()
	ledgertest.Run(t, func(t *testing.T) ledger.Store {
		s, err := ledger.NewFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestFileStore_MigratesFirstFormat: the files of Gale's first ledger
// (PARTITION.log, one JSON line per event, and PARTITION.epoch) are read
// as that Gale read them — a fenced owner's late record and a torn last
// line ignored — rewritten in the bounded form, and deleted.
func TestFileStore_MigratesFirstFormat(t *testing.T) {
	dir := t.TempDir()
	k := ledger.Key{Topology: "t", Spout: "s", Topic: "logs", Partition: 0}
	topic := filepath.Join(dir, "t", "s", "logs")
	if err := os.MkdirAll(topic, 0o755); err != nil {
		t.Fatal(err)
	}
	old := `{"op":"plan","epoch":1,"seq":0,"start":5,"end":10}
{"op":"plan","epoch":1,"seq":1,"start":10,"end":20}
{"op":"commit","epoch":1,"seq":0}
{"op":"plan","epoch":2,"seq":2,"start":20,"end":30}
{"op":"plan","epoch":1,"seq":3,"start":30,"end":99}
{"op":"lost","epoch":2,"seq":1,"start":10,"end":12}
{"op":"commit","epoch":2,"seq":2}
{"op":"plan","epoch":2,"seq":3,"sta`
	if err := os.WriteFile(filepath.Join(topic, "0.log"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(topic, "0.epoch"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// gale verify reads it before any spout opened it
	keys, err := s.Keys(ctx, "t", "s")
	if err != nil || len(keys) != 1 || keys[0] != k {
		t.Fatalf("keys of a first-format ledger: %v, %v", keys, err)
	}
	checkMigrated(t, s, k)
	for _, f := range []string{"0.log", "0.epoch"} {
		if _, err := os.Stat(filepath.Join(topic, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after the migration: %v", f, err)
		}
	}
	w, st, err := s.Open(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if want := "base 5, committed 3 to 30, next 3 at 30, pending [], lost [{1 10 12}] (2 offsets)"; describe(st) != want {
		t.Errorf("reopened: %s, want %s", describe(st), want)
	}
}

// TestFileStore_Bounded: after thousands of batches the partition's log
// holds its checkpoint and pending batches (that the file is compacted to
// them is kvlog's TestFileLog_Compaction).
func TestFileStore_Bounded(t *testing.T) {
	dir := t.TempDir()
	s, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k := ledger.Key{Topology: "t", Spout: "s", Topic: "logs", Partition: 7}
	w, _, err := s.Open(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const batches = 2000
	for seq := range uint64(batches) {
		if err := w.Plan(ctx, ledger.Plan{Seq: seq, Start: int64(seq) * 500, End: int64(seq)*500 + 500}); err != nil {
			t.Fatal(err)
		}
		if seq >= 2 { // two in flight
			if err := w.Commit(ctx, seq-2); err != nil {
				t.Fatal(err)
			}
		}
	}
	l, err := kvlog.OpenFile(filepath.Join(dir, "t", "s", "logs", "7"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var live []string
	l.Scan(ctx, "", func(k string, _ []byte) error { live = append(live, k); return nil })
	if len(live) != 3 {
		t.Errorf("live keys after %d batches: %v, want the checkpoint and the 2 pending batches", batches, live)
	}
}

// checkMigrated: the first-format ledger of k (written by the caller)
// reads, and opens, as its records say; a commit then writes the new
// format.
func checkMigrated(t *testing.T, s interface {
	ledger.Store
	ledger.Reader
}, k ledger.Key) {
	t.Helper()
	ctx := context.Background()
	want := "base 5, committed 1 to 10, next 3 at 30, pending [1[10,20)], lost [{1 10 12}] (2 offsets)"
	if st, err := s.Read(ctx, k); err != nil || describe(st) != want {
		t.Fatalf("read: %s, %v; want %s", describe(st), err, want)
	}
	w, st, err := s.Open(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if describe(st) != want {
		t.Errorf("opened: %s, want %s", describe(st), want)
	}
	if err := w.Commit(ctx, 1); err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// describe prints a State compactly for comparisons.
func describe(st ledger.State) string {
	var pend []string
	for _, p := range st.Pending {
		pend = append(pend, fmt.Sprintf("%d[%d,%d)", p.Seq, p.Start, p.End))
	}
	return fmt.Sprintf("base %d, committed %d to %d, next %d at %d, pending %v, lost %v (%d offsets)",
		st.Base, st.Committed, st.CommittedEnd, st.NextSeq, st.NextStart, pend, st.Lost, st.LostOffsets)
}

// TestFileStore_DeletedWhileOpen: a ledger deleted under a running writer
// makes its next write fail with ErrGone instead of going nowhere.
func TestFileStore_DeletedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, _, err := s.Open(ctx, ledger.Key{Topology: "t", Spout: "s", Topic: "logs", Partition: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Plan(ctx, ledger.Plan{Seq: 0, Start: 0, End: 5}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "t")); err != nil {
		t.Fatal(err)
	}
	if err := w.Plan(ctx, ledger.Plan{Seq: 1, Start: 5, End: 9}); !errors.Is(err, ledger.ErrGone) {
		t.Fatalf("plan after the ledger was deleted: %v, want ErrGone", err)
	}
}

// TestFileStore_DotNamesStayInside: names "." and ".." (which validation
// refuses for topologies and components, but a Key may carry) are file
// names inside the store's directory, never a way out of it.
func TestFileStore_DotNamesStayInside(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "ledger")
	s, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []ledger.Key{{Topology: "..", Spout: "..", Topic: ".."}, {Topology: ".", Spout: ".", Topic: "."}} {
		w, _, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Plan(ctx, ledger.Plan{Key: k, Seq: 0, Start: 0, End: 10}); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "ledger" {
			t.Errorf("%s written beside the store's directory, not in it", e.Name())
		}
	}
	logs := 0
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "log" {
			logs++
			t.Logf("ledger log %s", path[len(dir):])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if logs != 2 {
		t.Errorf("%d ledger logs in the store's directory, want the 2 written", logs)
	}
}
