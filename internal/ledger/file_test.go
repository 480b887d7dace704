package ledger_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

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

// TestFileStore_TornWrite: a record cut short by a crash is ignored; the
// records before it stand.
func TestFileStore_TornWrite(t *testing.T) {
	dir := t.TempDir()
	s, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k := ledger.Key{Topology: "t", Spout: "s", Topic: "logs", Partition: 0}
	w, _, err := s.Open(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Plan(ctx, ledger.Plan{Seq: 0, Start: 0, End: 5}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	logPath := filepath.Join(dir, "t", "s", "logs", "0.log")
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"op":"plan","epoch":1,"seq":1,"sta`)
	f.Close()
	w2, st, err := s.Open(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if st.NextSeq != 1 || st.NextStart != 5 || len(st.Pending) != 1 {
		t.Errorf("state after a torn write: %+v", st)
	}
	// the next record must not be glued to the torn one
	if err := w2.Plan(ctx, ledger.Plan{Seq: 1, Start: 5, End: 8}); err != nil {
		t.Fatal(err)
	}
	w2.Close()
	_, st, err = s.Open(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if st.NextSeq != 2 || st.NextStart != 8 {
		t.Errorf("a plan written after a torn record was lost: %+v", st)
	}
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
