// Package ledgertest is the conformance suite every ledger.Store must pass.
package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/ledger"
)

// Run runs the suite against stores made by newStore. Each subtest uses a
// key of its own, so one store may serve them all.
func Run(t *testing.T, newStore func(t *testing.T) ledger.Store) {
	uniq := fmt.Sprint(time.Now().UnixNano())
	key := func(name string) ledger.Key {
		return ledger.Key{Topology: "conf-" + uniq, Spout: "kafka", Topic: name, Partition: 3}
	}
	ctx := context.Background()

	t.Run("EmptyState", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		w, st, err := s.Open(ctx, key("empty"))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if st.NextSeq != 0 || st.NextStart != -1 || st.Committed != 0 || st.CommittedEnd != -1 || len(st.Pending) != 0 ||
			st.Base != -1 || len(st.Lost) != 0 || st.LostOffsets != 0 {
			t.Errorf("empty state %+v", st)
		}
	})

	t.Run("ReadWithoutFencing", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		r, ok := s.(ledger.Reader)
		if !ok {
			t.Fatalf("%T does not implement ledger.Reader (gale verify needs it)", s)
		}
		k := key("history")
		w, _, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for i, rg := range [][2]int64{{5, 10}, {10, 20}, {20, 21}} {
			if err := w.Plan(ctx, ledger.Plan{Seq: uint64(i), Start: rg[0], End: rg[1]}); err != nil {
				t.Fatal(err)
			}
		}
		for _, seq := range []uint64{0, 2} {
			if err := w.Commit(ctx, seq); err != nil {
				t.Fatal(err)
			}
		}
		st, err := r.Read(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if st.Base != 5 || st.Committed != 1 || st.CommittedEnd != 10 || st.NextSeq != 3 || st.NextStart != 21 ||
			len(st.Pending) != 1 || st.Pending[0].Seq != 1 || st.Pending[0].Start != 10 || st.Pending[0].End != 20 {
			t.Errorf("read %+v", st)
		}
		// reading did not fence the writer
		if err := w.Commit(ctx, 1); err != nil {
			t.Errorf("commit after Read: %v", err)
		}
		if st, err = r.Read(ctx, k); err != nil || st.Committed != 3 || st.CommittedEnd != 21 || len(st.Pending) != 0 {
			t.Errorf("read after the last commit: %+v, %v", st, err)
		}
		keys, err := r.Keys(ctx, k.Topology, k.Spout)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range keys {
			found = found || x == k
		}
		if !found {
			t.Errorf("Keys(%s, %s) = %v, missing %v", k.Topology, k.Spout, keys, k)
		}
	})

	t.Run("PlansCommitsAndReopen", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		k := key("reopen")
		w, _, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		ranges := [][2]int64{{0, 10}, {10, 25}, {25, 26}, {26, 40}}
		for i, r := range ranges {
			if err := w.Plan(ctx, ledger.Plan{Seq: uint64(i), Start: r[0], End: r[1]}); err != nil {
				t.Fatalf("plan %d: %v", i, err)
			}
		}
		// 2 completes before 1: 0 is contiguous, 2 waits for 1
		for _, seq := range []uint64{0, 2} {
			if err := w.Commit(ctx, seq); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
		w2, st, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer w2.Close()
		if st.Committed != 1 || st.CommittedEnd != 10 || st.NextSeq != 4 || st.NextStart != 40 {
			t.Errorf("state after reopen %+v", st)
		}
		var pend []string
		for _, p := range st.Pending {
			pend = append(pend, fmt.Sprintf("%d[%d,%d)", p.Seq, p.Start, p.End))
		}
		if fmt.Sprint(pend) != "[1[10,25) 3[26,40)]" {
			t.Errorf("pending %v, want [1[10,25) 3[26,40)]", pend)
		}
		if st.Pending[0].Key != k || st.Pending[0].BatchID() != "reopen/00003/000000000001" {
			t.Errorf("pending plan %+v id %s", st.Pending[0], st.Pending[0].BatchID())
		}
		// commit 1 and 3: everything contiguous
		for _, seq := range []uint64{1, 3} {
			if err := w2.Commit(ctx, seq); err != nil {
				t.Fatal(err)
			}
		}
		w2.Close()
		w3, st, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer w3.Close()
		if st.Committed != 4 || st.CommittedEnd != 40 || len(st.Pending) != 0 {
			t.Errorf("state after all commits %+v", st)
		}
	})

	t.Run("LostRanges", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		k := key("lost")
		w, _, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for i, rg := range [][2]int64{{0, 10}, {10, 20}, {20, 30}} {
			if err := w.Plan(ctx, ledger.Plan{Seq: uint64(i), Start: rg[0], End: rg[1]}); err != nil {
				t.Fatal(err)
			}
		}
		// all of batch 0 and the start of batch 1 were deleted before they were read
		if err := w.Lose(ctx, 0, 0, 10); err != nil {
			t.Fatal(err)
		}
		if err := w.Lose(ctx, 1, 10, 14); err != nil {
			t.Fatal(err)
		}
		for _, bad := range [][3]int64{{2, 19, 25}, {2, 25, 31}, {2, 25, 25}, {7, 0, 1}} {
			if err := w.Lose(ctx, uint64(bad[0]), bad[1], bad[2]); err == nil {
				t.Errorf("Lose(%v) accepted", bad)
			}
		}
		if err := w.Commit(ctx, 0); err != nil {
			t.Fatal(err)
		}
		w.Close()
		w2, st, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer w2.Close()
		if st.LostOffsets != 14 || fmt.Sprint(st.Lost) != "[{0 0 10} {1 10 14}]" || st.Committed != 1 || len(st.Pending) != 2 {
			t.Errorf("after reopen: %+v", st)
		}
	})

	t.Run("RejectsGapsAndUnknownCommits", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		w, _, err := s.Open(ctx, key("gaps"))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.Plan(ctx, ledger.Plan{Seq: 0, Start: 5, End: 9}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []ledger.Plan{{Seq: 2, Start: 9, End: 12}, {Seq: 1, Start: 10, End: 12}, {Seq: 1, Start: 9, End: 9}} {
			if err := w.Plan(ctx, p); !errors.Is(err, ledger.ErrNotContiguous) {
				t.Errorf("plan %+v: %v, want ErrNotContiguous", p, err)
			}
		}
		if err := w.Commit(ctx, 7); !errors.Is(err, ledger.ErrUnknownBatch) {
			t.Errorf("commit of an unplanned batch: %v", err)
		}
	})

	t.Run("NewOwnerFencesOld", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		k := key("fence")
		old, _, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		if err := old.Plan(ctx, ledger.Plan{Seq: 0, Start: 0, End: 10}); err != nil {
			t.Fatal(err)
		}
		s2 := newStore(t) // another process, as far as the store can tell
		defer s2.Close()
		neu, st, err := s2.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer neu.Close()
		if st.NextSeq != 1 || len(st.Pending) != 1 {
			t.Fatalf("new owner sees %+v", st)
		}
		// the old owner still believes it owns the partition
		if err := old.Plan(ctx, ledger.Plan{Seq: 1, Start: 10, End: 20}); !errors.Is(err, ledger.ErrFenced) {
			t.Fatalf("fenced owner's plan: %v, want ErrFenced", err)
		}
		if err := old.Commit(ctx, 0); !errors.Is(err, ledger.ErrFenced) {
			t.Fatalf("fenced owner's commit: %v, want ErrFenced", err)
		}
		if err := neu.Plan(ctx, ledger.Plan{Seq: 1, Start: 10, End: 30}); err != nil {
			t.Fatalf("new owner's plan: %v", err)
		}
		neu.Close()
		// the ledger holds one history: no conflicting plans, no overlap
		check, st, err := s2.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer check.Close()
		if len(st.Pending) != 2 || st.Pending[1].Start != 10 || st.Pending[1].End != 30 || st.NextStart != 30 {
			t.Errorf("after fencing: %+v", st)
		}
	})
	t.Run("CoalescedAndRepeated", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		k := key("coalesced")
		w, _, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		// five plans in one write, the commits in two, out of order
		var plans []ledger.Plan
		for i := range 5 {
			plans = append(plans, ledger.Plan{Seq: uint64(i), Start: int64(10 * i), End: int64(10*i + 10)})
		}
		if err := w.Plan(ctx, plans...); err != nil {
			t.Fatal(err)
		}
		if err := w.Plan(ctx, ledger.Plan{Seq: 5, Start: 50, End: 60}, ledger.Plan{Seq: 7, Start: 60, End: 70}); !errors.Is(err, ledger.ErrNotContiguous) {
			t.Errorf("plans with a gap: %v, want ErrNotContiguous", err)
		}
		if err := w.Commit(ctx, 4, 1, 3); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx, 0, 9); !errors.Is(err, ledger.ErrUnknownBatch) {
			t.Errorf("commits naming an unplanned batch: %v, want ErrUnknownBatch", err)
		}
		if err := w.Commit(ctx, 0); err != nil {
			t.Fatal(err)
		}
		// a commit retried after a failure that had in fact gone through
		for _, seq := range []uint64{0, 1, 3, 4} {
			if err := w.Commit(ctx, seq); err != nil {
				t.Errorf("commit of committed batch %d again: %v, want nil", seq, err)
			}
		}
		if err := w.Lose(ctx, 2, 20, 25); err != nil {
			t.Fatal(err)
		}
		if err := w.Lose(ctx, 2, 20, 25); err != nil {
			t.Errorf("the same loss again: %v", err)
		}
		if err := w.Lose(ctx, 0, 0, 5); !errors.Is(err, ledger.ErrUnknownBatch) {
			t.Errorf("loss in a committed batch: %v, want ErrUnknownBatch", err)
		}
		w.Close()
		w2, st, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if st.Committed != 2 || st.CommittedEnd != 20 || st.NextSeq != 5 || st.NextStart != 50 || st.Base != 0 ||
			len(st.Pending) != 1 || st.Pending[0].Seq != 2 || st.LostOffsets != 5 || len(st.Lost) != 1 {
			t.Fatalf("after reopening: %+v", st)
		}
		if err := w2.Commit(ctx, 2); err != nil {
			t.Fatal(err)
		}
		w2.Close()
		w3, st, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer w3.Close()
		if st.Committed != 5 || st.CommittedEnd != 50 || len(st.Pending) != 0 || st.NextSeq != 5 || st.NextStart != 50 ||
			st.Base != 0 || st.LostOffsets != 5 {
			t.Errorf("all committed: %+v", st)
		}
		// the next plan follows the checkpoint
		if err := w3.Plan(ctx, ledger.Plan{Seq: 5, Start: 50, End: 55}); err != nil {
			t.Errorf("plan after the checkpoint: %v", err)
		}
	})

	t.Run("ApplyMixed", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		k := key("apply")
		w, _, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Plan(ctx, ledger.Plan{Seq: 0, Start: 0, End: 10}, ledger.Plan{Seq: 1, Start: 10, End: 20}); err != nil {
			t.Fatal(err)
		}
		// one write: two new plans, a loss in batch 1, batches 0 and 1 committed
		b := ledger.Batch{
			Plans:   []ledger.Plan{{Seq: 2, Start: 20, End: 30}, {Seq: 3, Start: 30, End: 40}},
			Lost:    []ledger.Lost{{Seq: 1, Start: 10, End: 13}},
			Commits: []uint64{1, 0},
		}
		if err := w.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
		// refused as a whole: a good plan with a commit of an unplanned batch
		bad := ledger.Batch{Plans: []ledger.Plan{{Seq: 4, Start: 40, End: 50}}, Commits: []uint64{2, 9}}
		if err := w.Apply(ctx, bad); !errors.Is(err, ledger.ErrUnknownBatch) {
			t.Errorf("a batch with a bad commit: %v, want ErrUnknownBatch", err)
		}
		w.Close()
		w2, st, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer w2.Close()
		if st.Committed != 2 || st.CommittedEnd != 20 || st.NextSeq != 4 || st.NextStart != 40 || len(st.Pending) != 2 ||
			st.LostOffsets != 3 || fmt.Sprint(st.Lost) != "[{1 10 13}]" {
			t.Errorf("after the mixed write (and the refused one): %+v", st)
		}
	})
	t.Run("ClosedWriter", func(t *testing.T) {
		s := newStore(t)
		defer s.Close()
		w, _, err := s.Open(ctx, key("closed"))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := w.Plan(ctx, ledger.Plan{Seq: 0, Start: 0, End: 1}); !errors.Is(err, ledger.ErrClosed) {
			t.Errorf("plan after Close: %v, want ErrClosed", err)
		}
	})
}
