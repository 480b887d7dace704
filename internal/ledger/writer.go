package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gale-stream/gale/internal/kvlog"
)

// logWriter is a partition's Writer on a kvlog.Log, for both stores.
type logWriter struct {
	key     Key
	release func() error // after the kvlog writer is closed

	mu     sync.Mutex // guards the fields below
	w      kvlog.Writer
	st     *state
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
	w := &logWriter{key: key, release: release, w: kw}
	st, legacy, fromLegacy, err := readState(ctx, l, key)
	if err != nil {
		w.Close()
		return nil, State{}, err
	}
	w.st = st
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
	next := w.st.clone()
	var recs []kvlog.Record
	for _, p := range b.Plans {
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
		return err
	}
	w.st = next
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
