package sinks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/atomicfile"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Writer writes batches to one backend. WriteBatch must be idempotent and
// atomic per object: writing a batch again (a replay) leaves exactly what
// one write leaves, and a crash in the middle leaves either the old or the
// new version of each object, never a torn one. It returns the bytes
// written. It is called from several goroutines at once (one per batch in
// flight), never twice at once for the same batch.
type Writer interface {
	WriteBatch(ctx context.Context, b *Batch) (bytes int64, err error)
	Close() error
}

// ErrReplayLater, wrapped in a WriteBatch error, says the batch cannot be
// written now but will be once an earlier batch is (a backend that must
// write a partition's batches in order): the bolt fails the batch instead
// of retrying it, and the spout replays it later, after the earlier ones.
var ErrReplayLater = errors.New("batch must be replayed later")

// Rejection is a record a backend refused for good (WriteBatch still
// succeeds for the others), or that could not be formatted: it goes to the
// sink's dead-letter files, and the batch completes without it.
type Rejection struct {
	ID    string
	Error string
}

// RejectingWriter is a Writer that may refuse single records (Elasticsearch
// mapping errors): WriteBatchRejecting returns them instead of failing.
type RejectingWriter interface {
	Writer
	WriteBatchRejecting(ctx context.Context, b *Batch) (bytes int64, rejected []Rejection, err error)
}

// Options of a sink bolt, common to every backend.
type Options struct {
	// Sink names the sink in errors and metrics ("file", "ceph", ...).
	Sink string
	// Format turns tuples into records.
	Format Format
	// MaxInflight bounds the batches a task writes at once (default 2):
	// with a backend down, FinishBatch then blocks, the task's queue fills
	// and the spouts slow down: backpressure, bounded memory, no loss.
	MaxInflight int
	// Backoff between retries of a failed write: exponential from
	// MinBackoff to MaxBackoff, with jitter (defaults 100 ms, 30 s).
	MinBackoff, MaxBackoff time.Duration
	// Open creates the task's Writer at Prepare.
	Open func(ctx context.Context, tc *topology.TaskContext) (Writer, error)
	// DeadLetterDir receives the records the backend rejects, as JSON
	// lines files named like the batch they came from (so a replay
	// rewrites the same file): <dir>/<topology>/<component>/<source>/...
	// Default "gale-dead-letter".
	DeadLetterDir string
}

// Stats are a sink task's counters; safe to read from any goroutine.
type Stats struct {
	Batches      atomic.Int64 // batches written
	Records      atomic.Int64 // records written
	Bytes        atomic.Int64 // bytes written (as stored)
	Retries      atomic.Int64 // failed writes retried
	Rejected     atomic.Int64 // records written to the dead-letter files
	WriteNanos   atomic.Int64 // total time in successful writes
	LastWriteNs  atomic.Int64 // duration of the last successful write
	Inflight     atomic.Int64 // batches being written
	HeldTuples   atomic.Int64 // tuples buffered or being written
	LastErrorAt  atomic.Int64 // UnixNano of the last failed write
	lastErrorMsg atomic.Pointer[string]
}

// LastError returns the last write error and when it happened.
func (s *Stats) LastError() (string, time.Time) {
	p := s.lastErrorMsg.Load()
	if p == nil {
		return "", time.Time{}
	}
	return *p, time.Unix(0, s.LastErrorAt.Load())
}

// TaskStatus reports the task's writes (the monitor UI and /metrics show
// them).
func (s *Bolt) TaskStatus() local.TaskStatus {
	st := s.stats
	if st == nil {
		return local.TaskStatus{}
	}
	msg, at := st.LastError()
	return local.TaskStatus{Sink: &local.SinkStatus{
		Batches: st.Batches.Load(), Records: st.Records.Load(), Bytes: st.Bytes.Load(),
		Retries: st.Retries.Load(), Rejected: st.Rejected.Load(), InFlight: st.Inflight.Load(),
		WriteNanos: st.WriteNanos.Load(), LastWrite: time.Duration(st.LastWriteNs.Load()),
		LastError: msg, LastErrorAt: at,
	}}
}

// Bolt is the batch-aware bolt behind every sink: it buffers each batch's
// tuples, and when the batch is complete (FinishBatch) the owner task
// formats and orders them and has the Writer write them, retrying with
// backoff until it succeeds; only then are the batch's tuples acked. A
// batch whose attempt failed upstream is dropped (it comes again).
type Bolt struct {
	opts     Options
	topology string
	id       string
	out      bolt.Collector
	w        Writer
	dlq      *atomicfile.Dir
	timeout  time.Duration
	buf      map[attempt]*[]*tuple.Tuple
	// the attempt of the last tuple buffered and its buffer: a batch's
	// tuples come one after another, so most skip the map; a new buffer
	// starts at the size of the last batch finished
	last     attempt
	lastBuf  *[]*tuple.Tuple
	sizeHint int
	sem      chan struct{}
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
	stats    *Stats
}

type attempt struct {
	batch string
	root  uint64
}

var (
	_ bolt.BatchBolt       = (*Bolt)(nil)
	_ local.StatusReporter = (*Bolt)(nil)
)

// NewBolt returns a sink bolt with opts.
func NewBolt(opts Options) *Bolt {
	if opts.MaxInflight <= 0 {
		opts.MaxInflight = 2
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(30*time.Second, opts.MinBackoff)
	}
	return &Bolt{opts: opts, stats: &Stats{}}
}

// WrapWriter makes the bolt wrap the Writer it opens at Prepare with f:
// tests inject failures so, with the sink type's own config and backend.
// Call it before Prepare.
func (s *Bolt) WrapWriter(f func(Writer) Writer) {
	open := s.opts.Open
	s.opts.Open = func(ctx context.Context, tc *topology.TaskContext) (Writer, error) {
		w, err := open(ctx, tc)
		if err != nil {
			return nil, err
		}
		return f(w), nil
	}
}

// Stats returns the task's counters.
func (s *Bolt) Stats() *Stats { return s.stats }

// ErrGrouping: a sink with several tasks must read with the batch grouping.
var ErrGrouping = errors.New(`a sink with more than one task must read its inputs with the "batch" grouping`)

// ErrNoBatch: a sink got a tuple that belongs to no batch.
var ErrNoBatch = errors.New("tuple belongs to no batch: sinks need a source that cuts batches (the kafka spout)")

func (s *Bolt) Prepare(ctx context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	c := tc.Component
	if c.Parallelism > 1 {
		for _, in := range c.Inputs {
			if in.Grouping != topology.BatchGrouping && in.Grouping != topology.Global {
				return fmt.Errorf("%s sink %q: input %s/%s has grouping %q: %w", s.opts.Sink, c.ID, in.Component, in.Stream, in.Grouping, ErrGrouping)
			}
		}
	}
	s.topology, s.id, s.out = tc.Topology.Name, c.ID, out
	s.timeout = tc.Topology.Settings.MessageTimeout
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	s.buf = map[attempt]*[]*tuple.Tuple{}
	s.sem = make(chan struct{}, s.opts.MaxInflight)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	w, err := s.opts.Open(ctx, tc)
	if err != nil {
		return fmt.Errorf("%s sink %q: %w", s.opts.Sink, c.ID, err)
	}
	s.w = w
	dir := s.opts.DeadLetterDir
	if dir == "" {
		dir = "gale-dead-letter"
	}
	s.dlq = &atomicfile.Dir{Root: filepath.Join(dir, c.ID)}
	return nil
}

func (s *Bolt) Execute(_ context.Context, t *tuple.Tuple) error {
	if t.IsTick() {
		return nil
	}
	if t.BatchID == "" {
		return fmt.Errorf("%s sink %q: %w", s.opts.Sink, s.id, ErrNoBatch)
	}
	if k := (attempt{t.BatchID, t.Attempt()}); s.lastBuf == nil || k != s.last {
		b := s.buf[k]
		if b == nil {
			b = new([]*tuple.Tuple)
			*b = make([]*tuple.Tuple, 0, s.sizeHint)
			s.buf[k] = b
		}
		s.last, s.lastBuf = k, b
	}
	*s.lastBuf = append(*s.lastBuf, t)
	s.stats.HeldTuples.Add(1)
	return nil
}

func (s *Bolt) FinishBatch(ctx context.Context, b *bolt.Batch) error {
	ts := s.take(attempt{b.Meta.ID, b.Attempt})
	s.sizeHint = min(len(ts), 1<<16)
	if b.Failed {
		s.release(ts, b.End, false)
		return nil
	}
	if !b.Owner && len(ts) == 0 {
		s.release(nil, b.End, true)
		return nil
	}
	batch := &Batch{Topology: s.topology, Meta: b.Meta, Records: make([]Record, 0, len(ts))}
	var rejected []Rejection
	rec := s.opts.Format.recorder()
	for _, t := range ts {
		n := len(batch.Records)
		batch.Records = batch.Records[:n+1]
		if err := rec.record(&batch.Records[n], t); err != nil {
			batch.Records[n], batch.Records = Record{}, batch.Records[:n]
			rejected = append(rejected, Rejection{ID: t.ID, Error: "format: " + err.Error()})
		}
	}
	SortRecords(batch.Records)
	// wait for a writing slot: this blocks the task while MaxInflight
	// batches are being written (a backend that is down)
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		s.release(ts, b.End, false)
		return nil
	}
	s.stats.Inflight.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.sem; s.stats.Inflight.Add(-1) }()
		more, ok := s.write(batch, b.End)
		if ok && len(rejected)+len(more) > 0 {
			ok = s.writeDeadLetters(batch, ts, append(rejected, more...), b.End)
		}
		// !ok: stopping, or the backend asked for a replay: the batch's
		// tuples fail and the spout sends it again
		s.release(ts, b.End, ok)
	}()
	return nil
}

// writeDeadLetters writes the rejected records of b, in the order of b's
// ids, to the dead-letter files (same name on a replay).
func (s *Bolt) writeDeadLetters(b *Batch, ts []*tuple.Tuple, rejected []Rejection, ends []*tuple.Tuple) bool {
	byID := make(map[string]*tuple.Tuple, len(ts))
	for _, t := range ts {
		byID[t.ID] = t
	}
	dl := &Batch{Topology: s.topology, Meta: b.Meta}
	for _, rj := range rejected {
		var record string
		if t := byID[rj.ID]; t != nil {
			if r, err := (&Format{Kind: FormatJSON}).Record(t); err == nil {
				record = string(r.Line)
			} else {
				record = fmt.Sprint(t.Values)
			}
		}
		line, _ := json.Marshal(map[string]string{"id": rj.ID, "batch": b.Meta.ID, "sink": s.id, "error": rj.Error, "record": record})
		dl.Records = append(dl.Records, Record{ID: rj.ID, Line: line})
	}
	SortRecords(dl.Records)
	s.stats.Rejected.Add(int64(len(rejected)))
	return s.retry("write dead letters of", b, ends, func() error {
		for _, p := range (Naming{Ext: ".jsonl"}).Parts(dl) {
			if err := s.dlq.Put(p.Name, p.Content()); err != nil {
				return err
			}
		}
		return nil
	})
}

// write writes the batch with the backend, retrying until it succeeds or
// the bolt stops (false); it returns the records the backend rejected.
func (s *Bolt) write(b *Batch, ends []*tuple.Tuple) (rejected []Rejection, ok bool) {
	ok = s.retry("write", b, ends, func() error {
		start := time.Now()
		var n int64
		var err error
		if rw, isRW := s.w.(RejectingWriter); isRW {
			n, rejected, err = rw.WriteBatchRejecting(s.ctx, b)
		} else {
			n, err = s.w.WriteBatch(s.ctx, b)
		}
		if err == nil {
			d := time.Since(start)
			s.stats.Batches.Add(1)
			s.stats.Records.Add(int64(len(b.Records) - len(rejected)))
			s.stats.Bytes.Add(n)
			s.stats.WriteNanos.Add(int64(d))
			s.stats.LastWriteNs.Store(int64(d))
		}
		return err
	})
	return rejected, ok
}

// retry calls do until it succeeds (true), the bolt stops or do asks for a
// replay with ErrReplayLater (false), with
// exponential backoff and jitter, reporting each failure; while it retries
// it keeps the batch's tree from timing out, since a backend outage is not
// the batch's fault and replaying it would only pile up more work.
func (s *Bolt) retry(what string, b *Batch, ends []*tuple.Tuple, do func() error) bool {
	backoff := s.opts.MinBackoff
	lastReset := time.Now()
	for n := 1; ; n++ {
		err := do()
		if err == nil {
			return true
		}
		if s.ctx.Err() != nil || errors.Is(err, ErrReplayLater) {
			return false
		}
		s.stats.Retries.Add(1)
		msg := err.Error()
		s.stats.lastErrorMsg.Store(&msg)
		s.stats.LastErrorAt.Store(time.Now().UnixNano())
		s.out.ReportError(fmt.Errorf("%s sink %q: %s batch %s (attempt %d, retrying in %v): %w",
			s.opts.Sink, s.id, what, b.Meta.ID, n, backoff.Round(time.Millisecond), err))
		sleep := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1)) // jitter
		select {
		case <-time.After(sleep):
		case <-s.ctx.Done():
			return false
		}
		backoff = min(2*backoff, s.opts.MaxBackoff)
		if time.Since(lastReset) > s.timeout/3 && len(ends) > 0 {
			s.out.ResetTimeout(ends[0])
			lastReset = time.Now()
		}
	}
}

// release acks (ok) or fails the batch's tuples and markers.
func (s *Bolt) release(ts, ends []*tuple.Tuple, ok bool) {
	bolt.Settle(s.out, ok, ts, ends)
	s.stats.HeldTuples.Add(-int64(len(ts)))
}

// take removes the tuples buffered for attempt k and returns them.
func (s *Bolt) take(k attempt) []*tuple.Tuple {
	b := s.buf[k]
	if b == nil {
		return nil
	}
	delete(s.buf, k)
	if b == s.lastBuf {
		s.lastBuf = nil
	}
	return *b
}

func (s *Bolt) Cleanup() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.wg.Wait()
	// what is still buffered was never finished: its trees replay
	keys := make([]attempt, 0, len(s.buf))
	for k := range s.buf {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].batch < keys[j].batch })
	for _, k := range keys {
		s.release(s.take(k), nil, false)
	}
	if s.w != nil {
		return s.w.Close()
	}
	return nil
}
