package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gale-stream/gale/internal/kvlog"
)

// logWriter is a partition's Writer on a kvlog.Log, for both stores.
//
// Its records are computed from st, what it believes the log holds: a
// write that failed may still have landed (or land later: a Kafka
// transaction left open is committed by the next one), and records
// computed past it from st would contradict it — a batch marked done
// behind a checkpoint that already passed it, which a reader refuses as
// corrupt (seen under load: commit 16 timed out yet landed, then commits
// 17 and 18 were recorded as waiting for 16). So after such a failure the
// next write first settles the failed one and reads the state again
// (reread).
type logWriter struct {
	key     Key
	log     kvlog.Log
	release func() error // after the kvlog writer is closed

	mu     sync.Mutex // guards the fields below
	w      kvlog.Writer
	st     *state
	stale  bool // a write failed and may have landed: reread before the next
	closed bool
}

// migrateChunk is how many keys of an old ledger one write deletes.
const migrateChunk = 5000

// openWriter takes owner's writer on l (fencing earlier ones), reads key's
// state and, when it was written by an older Gale, rewrites it in the
// bounded form and deletes the old records.
func openWriter(ctx context.Context, l kvlog.Log, key Key, owner string, release func() error) (*logWriter, State, error) {
	kw, err := l.Writer(ctx, owner)
	if err != nil {
		return nil, State{}, fmt.Errorf("open ledger %s: %w", key, mapErr(err))
	}
	w := &logWriter{key: key, log: l, release: release, w: kw}
	st, legacy, fromLegacy, err := readState(ctx, l, key)
	if err != nil {
		w.Close()
		return nil, State{}, err
	}
	if err := w.adopt(ctx, st); err != nil {
		w.Close()
		return nil, State{}, err
	}
	if fromLegacy {
		if err := w.write(ctx, st.allRecords()); err != nil {
			w.Close()
			return nil, State{}, fmt.Errorf("migrate ledger %s: %w", key, err)
		}
	}
	for len(legacy) > 0 {
		n := min(len(legacy), migrateChunk)
		recs := make([]kvlog.Record, n)
		for i, k := range legacy[:n] {
			recs[i] = kvlog.Record{Key: k}
		}
		if err := w.write(ctx, recs); err != nil {
			w.Close()
			return nil, State{}, fmt.Errorf("migrate ledger %s: delete the old records: %w", key, err)
		}
		legacy = legacy[n:]
	}
	return w, st.export(), nil
}

// mapErr maps the log's errors to the ledger's.
func mapErr(err error) error {
	for _, m := range [][2]error{{kvlog.ErrFenced, ErrFenced}, {kvlog.ErrGone, ErrGone}, {kvlog.ErrClosed, ErrClosed},
		{kvlog.ErrCorrupt, ErrCorrupt}} {
		if errors.Is(err, m[0]) {
			return fmt.Errorf("%w: %w", m[1], err)
		}
	}
	return err
}

func (w *logWriter) write(ctx context.Context, recs []kvlog.Record) error {
	if err := w.w.Write(ctx, recs...); err != nil {
		return fmt.Errorf("ledger %s: %w", w.key, mapErr(err))
	}
	return nil
}

func (w *logWriter) Plan(ctx context.Context, plans ...Plan) error {
	return w.Apply(ctx, Batch{Plans: plans})
}

func (w *logWriter) Commit(ctx context.Context, seqs ...uint64) error {
	return w.Apply(ctx, Batch{Commits: seqs})
}

func (w *logWriter) Lose(ctx context.Context, seq uint64, start, end int64) error {
	return w.Apply(ctx, Batch{Lost: []Lost{{Seq: seq, Start: start, End: end}}})
}

func (w *logWriter) Apply(ctx context.Context, b Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.stale {
		if err := w.reread(ctx); err != nil {
			return err
		}
	}
	next := w.st.clone()
	var recs []kvlog.Record
	for _, p := range b.Plans {
		if q, ok := next.plans[p.Seq]; ok && q.Start == p.Start && q.End == p.End {
			continue // recorded already (by a write that failed, yet landed)
		}
		if err := next.checkPlan(p); err != nil {
			return fmt.Errorf("ledger %s: %w", w.key, err)
		}
		next.addPlan(p)
		recs = append(recs, next.batchRecord(p.Seq))
	}
	checkpoint := false
	for _, l := range b.Lost {
		if err := next.checkLose(l.Seq, l.Start, l.End); err != nil {
			return fmt.Errorf("ledger %s: %w", w.key, err)
		}
		checkpoint = next.addLost(l) || checkpoint
	}
	var passed []uint64
	for _, seq := range b.Commits {
		if err := next.checkCommit(seq); err != nil {
			return fmt.Errorf("ledger %s: %w", w.key, err)
		}
		passed = append(passed, next.addCommit(seq)...)
	}
	for _, seq := range b.Commits {
		if _, pending := next.plans[seq]; pending && !w.st.done[seq] {
			recs = append(recs, next.batchRecord(seq)) // done, waiting for earlier batches
		}
	}
	for _, seq := range passed {
		recs = append(recs, kvlog.Record{Key: w.key.batchKey(seq)})
	}
	if checkpoint || len(passed) > 0 {
		recs = append(recs, next.checkpointRecord())
	}
	if len(recs) == 0 {
		return nil // all of it recorded already
	}
	if err := w.write(ctx, recs); err != nil {
		w.stale = !errors.Is(err, ErrFenced) && !errors.Is(err, ErrGone) && !errors.Is(err, ErrClosed)
		return err
	}
	w.st = next
	return nil
}

// reread settles the write that failed and reads the state the log holds
// now (see logWriter). w.mu is held.
func (w *logWriter) reread(ctx context.Context) error {
	if err := w.w.Settle(ctx); err != nil {
		return fmt.Errorf("ledger %s: after a failed write: %w", w.key, mapErr(err))
	}
	if err := w.log.Sync(ctx); err != nil {
		return fmt.Errorf("ledger %s: after a failed write: %w", w.key, mapErr(err))
	}
	st, _, _, err := readState(ctx, w.log, w.key)
	if err != nil {
		return err
	}
	if err := w.adopt(ctx, st); err != nil {
		return err
	}
	w.stale = false
	return nil
}

// adopt makes st, as read from the log, the writer's state; batches the
// read found done at the checkpoint (load) are passed by it in the log
// too.
func (w *logWriter) adopt(ctx context.Context, st *state) error {
	if len(st.folded) > 0 {
		if err := w.write(ctx, st.foldRecords()); err != nil {
			return fmt.Errorf("ledger %s: pass the batches done at the checkpoint: %w", w.key, err)
		}
		st.folded = nil
	}
	w.st = st
	return nil
}

func (w *logWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.w.Close()
	if w.release != nil {
		err = errors.Join(err, w.release())
	}
	return err
}

// readOnly reads key's state from l without writing (gale verify): an old
// ledger is read as the old Gale did, and not rewritten.
func readOnly(ctx context.Context, l kvlog.Log, key Key) (State, error) {
	st, _, _, err := readState(ctx, l, key)
	if err != nil {
		return State{}, err
	}
	return st.export(), nil
}
