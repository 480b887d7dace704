package ledger

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gale-stream/gale/internal/kvlog"
)

// The records of a partition's ledger in its kvlog.Log (see the package
// doc): its checkpoint, and its pending batches.

// checkpoint is the value of PREFIX/cp.
type checkpoint struct {
	Base         int64  `json:"base"`
	Committed    uint64 `json:"committed"`
	CommittedEnd int64  `json:"committed_end"`
	Lost         []Lost `json:"lost,omitempty"`
	LostOffsets  int64  `json:"lost_offsets,omitempty"`
}

// batch is the value of PREFIX/b/SEQ.
type batch struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Done  bool  `json:"done,omitempty"` // committed, waiting for earlier batches
}

func (k Key) prefix() string { return k.String() + "/" }

func (k Key) checkpointKey() string { return k.prefix() + "cp" }

func (k Key) batchKey(seq uint64) string { return fmt.Sprintf("%sb/%012d", k.prefix(), seq) }

func (s *state) checkpointRecord() kvlog.Record {
	b, _ := json.Marshal(checkpoint{Base: s.base, Committed: s.committed, CommittedEnd: s.committedEnd,
		Lost: s.lost, LostOffsets: s.lostOffsets})
	return kvlog.Record{Key: s.key.checkpointKey(), Value: b}
}

func (s *state) batchRecord(seq uint64) kvlog.Record {
	p := s.plans[seq]
	b, _ := json.Marshal(batch{Start: p.Start, End: p.End, Done: s.done[seq]})
	return kvlog.Record{Key: s.key.batchKey(seq), Value: b}
}

// readState reads key's ledger from the view of l. A ledger written by an
// older Gale (one record per plan and per commit) is read too; migrated
// returns the old records' keys, and fromLegacy when the state was read
// from them (not from a checkpoint and batches): the caller that owns the
// partition rewrites it and deletes them.
func readState(ctx context.Context, l kvlog.Log, key Key) (st *state, legacyKeys []string, fromLegacy bool, err error) {
	st = newState(key)
	var cp []byte
	batches := map[uint64][]byte{}
	var legacy []legacyRecord
	err = l.Scan(ctx, key.prefix(), func(k string, v []byte) error {
		rest := strings.TrimPrefix(k, key.prefix())
		switch {
		case rest == "cp":
			cp = v
		case strings.HasPrefix(rest, "b/"):
			seq, err := strconv.ParseUint(rest[2:], 10, 64)
			if err != nil {
				return fmt.Errorf("%w: key %q", ErrCorrupt, k)
			}
			batches[seq] = v
		default:
			if r, ok := parseLegacy(rest, v); ok {
				legacy = append(legacy, r)
				legacyKeys = append(legacyKeys, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, false, fmt.Errorf("read ledger %s: %w", key, mapErr(err))
	}
	if cp == nil && len(batches) == 0 && len(legacy) > 0 {
		foldLegacy(st, legacy)
		return st, legacyKeys, true, nil
	}
	if err := st.load(cp, batches); err != nil {
		return nil, nil, false, fmt.Errorf("read ledger %s: %w", key, err)
	}
	return st, legacyKeys, false, nil // old keys next to new ones: left by an interrupted migration
}

// load folds a checkpoint and the pending batches into a new state.
func (s *state) load(cp []byte, batches map[uint64][]byte) error {
	if cp != nil {
		var c checkpoint
		if err := json.Unmarshal(cp, &c); err != nil {
			return fmt.Errorf("%w: checkpoint: %w", ErrCorrupt, err)
		}
		s.base, s.committed, s.committedEnd = c.Base, c.Committed, c.CommittedEnd
		s.lost, s.lostOffsets = c.Lost, c.LostOffsets
		s.nextSeq, s.nextStart = c.Committed, c.CommittedEnd
		if c.Committed == 0 {
			s.nextStart = -1
		}
	}
	for _, seq := range slices.Sorted(func(yield func(uint64) bool) {
		for seq := range batches {
			if !yield(seq) {
				return
			}
		}
	}) {
		if seq < s.committed {
			continue // passed by the checkpoint: deleted in the same write, cannot be live
		}
		var b batch
		if err := json.Unmarshal(batches[seq], &b); err != nil {
			return fmt.Errorf("%w: batch %d: %w", ErrCorrupt, seq, err)
		}
		p := Plan{Seq: seq, Start: b.Start, End: b.End}
		if err := s.checkPlan(p); err != nil {
			return fmt.Errorf("%w: batch %d: %w", ErrCorrupt, seq, err)
		}
		s.addPlan(p)
		if b.Done {
			s.done[seq] = true
		}
	}
	if s.done[s.committed] {
		// committed, but the checkpoint did not pass it: a writer that
		// computed its records from a state behind the log's left this
		// (logWriter; fixed since), and read so the ledger stays open.
		// The checkpoint passes it now, as the commit would have; an owner
		// writes that (foldRecords).
		s.folded = s.addCommit(s.committed)
	}
	return nil
}

// foldRecords records what load folded: the checkpoint past the batches
// found done at it, and their records deleted.
func (s *state) foldRecords() []kvlog.Record {
	recs := make([]kvlog.Record, 0, len(s.folded)+1)
	for _, seq := range s.folded {
		recs = append(recs, kvlog.Record{Key: s.key.batchKey(seq)})
	}
	return append(recs, s.checkpointRecord())
}

// allRecords is the whole state as records: the checkpoint and every
// pending batch (a migration writes them).
func (s *state) allRecords() []kvlog.Record {
	recs := []kvlog.Record{s.checkpointRecord()}
	for seq := s.committed; seq < s.nextSeq; seq++ {
		recs = append(recs, s.batchRecord(seq))
	}
	return recs
}

// The ledger of Gale 0.x: one record per event, keyed
// PREFIX/plan/SEQ, PREFIX/commit/SEQ, PREFIX/lost/SEQ (and PREFIX/open/0,
// a barrier), valued {"seq", "start", "end"}; every key live forever.
type legacyRecord struct {
	kind       string
	seq        uint64
	start, end int64
}

func parseLegacy(rest string, v []byte) (legacyRecord, bool) {
	kind, seqText, ok := strings.Cut(rest, "/")
	if !ok || (kind != "plan" && kind != "commit" && kind != "lost" && kind != "open") {
		return legacyRecord{}, false
	}
	if _, err := strconv.ParseUint(seqText, 10, 64); err != nil {
		return legacyRecord{}, false
	}
	var r struct {
		Seq   uint64 `json:"seq"`
		Start int64  `json:"start"`
		End   int64  `json:"end"`
	}
	if v != nil && json.Unmarshal(v, &r) != nil {
		return legacyRecord{}, false
	}
	return legacyRecord{kind: kind, seq: r.Seq, start: r.Start, end: r.End}, true
}

// foldLegacy folds an old ledger's records, as the old Gale did: plans in
// order, then the lost ranges, then the commits.
func foldLegacy(s *state, recs []legacyRecord) {
	slices.SortStableFunc(recs, func(a, b legacyRecord) int {
		order := map[string]int{"plan": 0, "lost": 1, "commit": 2, "open": 3}
		if c := order[a.kind] - order[b.kind]; c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for _, r := range recs {
		switch r.kind {
		case "plan":
			if p := (Plan{Seq: r.seq, Start: r.start, End: r.end}); s.checkPlan(p) == nil {
				s.addPlan(p)
			}
		case "lost":
			if s.checkLose(r.seq, r.start, r.end) == nil {
				s.addLost(Lost{Seq: r.seq, Start: r.start, End: r.end})
			}
		case "commit":
			if s.checkCommit(r.seq) == nil {
				s.addCommit(r.seq)
			}
		}
	}
}
