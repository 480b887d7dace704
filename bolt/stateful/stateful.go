// Package stateful runs bolts whose keyed state is exactly once: every
// tuple of a batch changes its key's state once, whatever crashes, moves
// and replays happen — Storm's stateful bolts (IStatefulBolt over a
// KeyValueState), on Gale's batches instead of checkpoint barriers.
//
// A stateful bolt is an Updater, given a key's value and a tuple and
// returning the new value and the tuples to emit. The Bolt around it reads
// whole batches (it is a bolt.BatchBolt) and, when a task has executed a
// batch's tuples, applies them in the order of their ids and writes the
// new values of the batch's keys in one atomic, fenced write to the state
// store (a compacted Kafka topic through package kvlog, the store of the
// batch ledger; or a directory in local mode); only then does it emit and
// ack. So the state of a batch is durable before the batch can commit in
// the ledger, and a batch that is not committed is replayed.
//
// A replay must not apply twice. Each key's record carries, per source
// partition (spout, topic, partition), the seq of the next batch to apply
// to it; a batch at or past it is applied, an older one is a replay whose
// changes the key already holds. A replay re-emits what the first attempt
// emitted, byte for byte: the record also keeps the outputs of the batches
// of its partition not yet committed (tuple.BatchMeta.Committed says which
// are), so that sinks downstream write the same objects again.
//
// That check needs each task to apply a partition's batches in their
// order: a batch that reaches a task before the previous batch of its
// partition has been applied there fails (and is replayed a moment later).
// After a restart a task starts at the partition's committed point, which
// every batch carries.
//
// Keys live in the store under "<topology>/<component>/", independent of
// task numbers, so a task restarted or moved elsewhere finds them; a bolt
// with several tasks must read with the fields grouping on its key field,
// so that one task owns each key. Each task writes as its own fenced owner:
// an old copy of a moved task can no longer write once the new one
// started.
package stateful

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/internal/kvlog"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Updater is the logic of a stateful bolt. Update must be deterministic —
// a function of its arguments only — for a replayed batch to mean the same
// thing as its first attempt.
type Updater interface {
	// Update applies t to the value of key (nil when the key has none) and
	// returns the key's new value (nil deletes it) and the tuples to emit,
	// anchored to t. An error rejects t: the key keeps its value, nothing
	// is emitted for t and the error is reported (a replay would reject it
	// again; it is not retried).
	Update(key string, value []byte, t *tuple.Tuple) (newValue []byte, out []Output, err error)
}

// UpdateFunc is an Updater as a function.
type UpdateFunc func(key string, value []byte, t *tuple.Tuple) ([]byte, []Output, error)

// Update calls f.
func (f UpdateFunc) Update(key string, value []byte, t *tuple.Tuple) ([]byte, []Output, error) {
	return f(key, value, t)
}

// Output is a tuple to emit: Values on Stream (tuple.DefaultStream when
// empty).
type Output struct {
	Stream string
	Values tuple.Values
}

// Options configure a Bolt.
type Options struct {
	// KeyField is the field whose value, formatted with tuple.AsString,
	// is a tuple's key.
	KeyField string
	// Store is where the state lives.
	Store StoreConfig
}

// Errors of the bolt.
var (
	// ErrGrouping: a stateful bolt with several tasks must read with the
	// fields grouping on its key field.
	ErrGrouping = errors.New("a stateful bolt with more than one task must read its inputs with the fields grouping on its key field")
	// ErrNoBatch: the bolt got a tuple that belongs to no batch.
	ErrNoBatch = errors.New("tuple belongs to no batch: stateful bolts need a source that cuts batches (the kafka spout)")
	// ErrOutputsGone: a replayed batch whose outputs its keys no longer
	// keep (cannot happen while batches are committed in order; reported
	// rather than emitting something else).
	ErrOutputsGone = errors.New("replayed batch: its outputs are no longer kept")
)

// Stats are a task's counters. The runtime shows them too, as the task's
// custom metrics state_applied, state_replayed_keys, state_out_of_order
// and state_rejected.
type Stats struct {
	// Applied counts the batches whose changes the task wrote.
	Applied atomic.Int64
	// Replayed counts keys of replayed batches that already held the
	// batch's changes (their outputs were emitted again).
	Replayed atomic.Int64
	// OutOfOrder counts batches failed because the previous batch of
	// their partition was not applied yet at the task.
	OutOfOrder atomic.Int64
	// Rejected counts tuples whose Update failed (or had no key).
	Rejected atomic.Int64
}

// Bolt runs an Updater; see the package doc. Use New.
type Bolt struct {
	u    Updater
	opts Options

	out        bolt.Collector
	tc         *topology.TaskContext
	prefix     string
	log        kvlog.Log
	release    func()
	w          kvlog.Writer      // nil until taken
	taking     chan writerResult // the writer being taken
	ctx        context.Context   // ends at Cleanup
	cancel     context.CancelFunc
	dirty      bool  // a write failed: read the store again before the next batch
	writeNanos int64 // time spent writing, for the last log line

	buf  map[attempt][]*tuple.Tuple
	next map[string]uint64 // source partition -> seq of the next batch to apply here

	Stats Stats
}

type attempt struct {
	batch string
	n     uint64
}

var _ bolt.BatchBolt = (*Bolt)(nil)

// New returns a stateful bolt running u.
func New(u Updater, opts Options) *Bolt {
	return &Bolt{u: u, opts: opts}
}

// Prepare checks the grouping, opens the store and takes the task's
// writer (fencing any older copy of the task).
func (b *Bolt) Prepare(ctx context.Context, tc *topology.TaskContext, out bolt.Collector) error {
	c := tc.Component
	if c.Parallelism > 1 {
		for _, in := range c.Inputs {
			if in.Grouping != topology.FieldsGrouping || !slices.Equal(in.Fields, []string{b.opts.KeyField}) {
				return fmt.Errorf("stateful bolt %q: input %s/%s has grouping %q %v: %w", c.ID, in.Component, in.Stream, in.Grouping, in.Fields, ErrGrouping)
			}
		}
	}
	b.tc, b.out = tc, out
	b.prefix = tc.Topology.Name + "/" + c.ID + "/"
	b.buf = map[attempt][]*tuple.Tuple{}
	b.next = map[string]uint64{}
	l, release, err := b.opts.Store.open(ctx)
	if err != nil {
		return fmt.Errorf("stateful bolt %q: %w", c.ID, err)
	}
	b.log, b.release = l, release
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.takeWriter()
	return nil
}

type writerResult struct {
	w   kvlog.Writer
	err error
}

// takeWriter starts taking the task's writer. It does not wait: taking it
// fences the task's older copy and then reads the store up to the end (a
// read barrier), which a dead copy's open transaction holds back until
// its new copy — this one, or another task of this worker, prepared after
// this one — fences it. Every task fences at once, then each waits.
func (b *Bolt) takeWriter() {
	ch := make(chan writerResult, 1)
	b.taking = ch
	owner := "state/" + b.prefix + strconv.Itoa(b.tc.TaskIndex)
	go func() {
		w, err := b.log.Writer(b.ctx, owner)
		ch <- writerResult{w, err}
	}()
}

// writer returns the task's writer, waiting until it is taken.
func (b *Bolt) writer(ctx context.Context) (kvlog.Writer, error) {
	if b.w != nil {
		return b.w, nil
	}
	if b.taking == nil {
		b.takeWriter()
	}
	select {
	case r := <-b.taking:
		b.taking = nil
		if r.err != nil {
			return nil, fmt.Errorf("take the state store's writer (%s): %w", b.opts.Store, r.err)
		}
		b.w = r.w
		return b.w, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Execute holds t until its batch is complete at the task.
func (b *Bolt) Execute(_ context.Context, t *tuple.Tuple) error {
	if t.IsTick() {
		return nil
	}
	if t.BatchID == "" {
		return fmt.Errorf("stateful bolt %q: %w", b.tc.Component.ID, ErrNoBatch)
	}
	k := attempt{t.BatchID, t.Attempt()}
	b.buf[k] = append(b.buf[k], t)
	return nil
}

// FinishBatch applies the batch, in order, and acks it; see the package
// doc.
func (b *Bolt) FinishBatch(ctx context.Context, bt *bolt.Batch) error {
	k := attempt{bt.Meta.ID, bt.Attempt}
	ts := b.buf[k]
	delete(b.buf, k)
	if bt.Failed {
		bolt.Settle(b.out, false, ts, bt.End)
		return nil
	}
	src := bt.Meta.Origin + "/" + bt.Meta.Source + "/" + strconv.Itoa(int(bt.Meta.Partition))
	next := max(b.next[src], bt.Meta.Committed)
	if bt.Meta.Seq > next {
		// the previous batch is still on its way (or being replayed):
		// applying this one first would hide it from the keys' check
		b.Stats.OutOfOrder.Add(1)
		b.tc.RecordMetric("state_out_of_order", 1)
		bolt.Settle(b.out, false, ts, bt.End)
		return nil
	}
	emits, err := b.apply(ctx, src, bt.Meta, ts)
	if err != nil {
		b.out.ReportError(fmt.Errorf("stateful bolt %q: batch %s: %w", b.tc.Component.ID, bt.Meta.ID, err))
		bolt.Settle(b.out, false, ts, bt.End)
		return nil
	}
	b.next[src] = max(next, bt.Meta.Seq+1)
	for _, e := range emits {
		b.out.EmitTo(e.Stream, []*tuple.Tuple{e.anchor}, e.Values)
	}
	bolt.Settle(b.out, true, ts, bt.End)
	return nil
}

// record is a key's entry in the store.
type record struct {
	// Value is the key's state; nil once the Updater deleted it (the
	// record stays, small, for its marks: a replay of the deleting batch
	// must still find it applied).
	Value []byte `json:"v,omitempty"`
	// Next is, per source partition, the seq of the next batch to apply.
	Next map[string]uint64 `json:"n"`
	// Recent are the outputs of the key's batches not committed yet.
	Recent []recent `json:"r,omitempty"`
}

type recent struct {
	Src string `json:"b"`
	Seq uint64 `json:"s"`
	// Out is a codec frame of the outputs: tuples whose ID is the input
	// tuple's and whose Stream and Values are the output's.
	Out []byte `json:"o,omitempty"`
}

type emit struct {
	anchor *tuple.Tuple
	Output
}

// apply applies the task's tuples ts of one batch and returns what to
// emit, in the order of the tuples' ids.
func (b *Bolt) apply(ctx context.Context, src string, meta *tuple.BatchMeta, ts []*tuple.Tuple) ([]emit, error) {
	w, err := b.writer(ctx)
	if err != nil {
		return nil, err
	}
	if b.dirty {
		if err := b.log.Sync(ctx); err != nil {
			return nil, fmt.Errorf("read the state store again: %w", err)
		}
		b.dirty = false
	}
	slices.SortFunc(ts, func(x, y *tuple.Tuple) int { return tuple.CompareIDs(x.ID, y.ID) })
	byKey := map[string][]*tuple.Tuple{}
	var keys []string
	outs := make(map[*tuple.Tuple][]Output, len(ts))
	for _, t := range ts {
		i := t.Fields.Index(b.opts.KeyField)
		if i < 0 || i >= len(t.Values) {
			b.reject(t, fmt.Errorf("no field %q", b.opts.KeyField))
			continue
		}
		key := tuple.AsString(t.Values[i])
		if byKey[key] == nil {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], t)
	}
	var writes []kvlog.Record
	for _, key := range keys {
		kts := byKey[key]
		raw, err := b.log.Get(ctx, b.prefix+key)
		if err != nil {
			return nil, fmt.Errorf("read key %q: %w", key, err)
		}
		var rec record
		if raw != nil {
			if err := json.Unmarshal(raw, &rec); err != nil {
				return nil, fmt.Errorf("key %q: %w: %v", key, kvlog.ErrCorrupt, err)
			}
		}
		if rec.Next[src] > meta.Seq {
			// a replay: the key holds the batch's changes already
			b.Stats.Replayed.Add(1)
			b.tc.RecordMetric("state_replayed_keys", 1)
			if err := rec.replay(src, meta.Seq, kts, outs); err != nil {
				return nil, fmt.Errorf("key %q: %w", key, err)
			}
			continue
		}
		frame, err := b.update(key, &rec, kts, outs)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		if rec.Next == nil {
			rec.Next = map[string]uint64{}
		}
		rec.Next[src] = meta.Seq + 1
		rec.Recent = slices.DeleteFunc(rec.Recent, func(r recent) bool {
			return r.Src == src && (r.Seq < meta.Committed || r.Seq == meta.Seq)
		})
		rec.Recent = append(rec.Recent, recent{Src: src, Seq: meta.Seq, Out: frame})
		v, err := json.Marshal(&rec)
		if err != nil {
			return nil, err
		}
		writes = append(writes, kvlog.Record{Key: b.prefix + key, Value: v})
	}
	if len(writes) > 0 {
		wctx, cancel := context.WithTimeout(ctx, time.Duration(b.opts.Store.withDefaults().Timeout))
		start := time.Now()
		err := w.Write(wctx, writes...)
		cancel()
		d := time.Since(start)
		b.writeNanos += int64(d)
		b.tc.RecordMetric("state_write_seconds", d.Seconds())
		if err != nil {
			// it may or may not have happened: read the store before the
			// next batch (a replay then finds its keys applied, or not)
			b.dirty = true
			return nil, fmt.Errorf("write %d keys to the state store: %w", len(writes), err)
		}
		b.Stats.Applied.Add(1)
		b.tc.RecordMetric("state_applied", 1)
	}
	var emits []emit
	for _, t := range ts {
		for _, o := range outs[t] {
			emits = append(emits, emit{anchor: t, Output: o})
		}
	}
	return emits, nil
}

// update runs the Updater over kts, the key's tuples in id order, changing
// rec.Value; it records the outputs in outs and returns them encoded.
func (b *Bolt) update(key string, rec *record, kts []*tuple.Tuple, outs map[*tuple.Tuple][]Output) ([]byte, error) {
	var enc []*tuple.Tuple
	for _, t := range kts {
		v, out, err := b.u.Update(key, rec.Value, t)
		if err != nil {
			b.reject(t, err)
			continue
		}
		rec.Value = v
		outs[t] = out
		for _, o := range out {
			enc = append(enc, &tuple.Tuple{ID: t.ID, Stream: o.Stream, Values: o.Values})
		}
	}
	if len(enc) == 0 {
		return nil, nil
	}
	frame, err := codec.AppendTuples(nil, enc)
	if err != nil {
		return nil, fmt.Errorf("encode the outputs: %w", err)
	}
	return frame, nil
}

// replay finds the outputs the first attempt of batch seq emitted for the
// key's tuples kts and records them in outs.
func (rec *record) replay(src string, seq uint64, kts []*tuple.Tuple, outs map[*tuple.Tuple][]Output) error {
	i := slices.IndexFunc(rec.Recent, func(r recent) bool { return r.Src == src && r.Seq == seq })
	if i < 0 {
		return fmt.Errorf("%w (batch %d of %s, the key is at %d)", ErrOutputsGone, seq, src, rec.Next[src])
	}
	if len(rec.Recent[i].Out) == 0 {
		return nil
	}
	dec, err := codec.DecodeTuples(rec.Recent[i].Out, nil)
	if err != nil {
		return fmt.Errorf("decode the outputs of batch %d of %s: %w", seq, src, err)
	}
	byID := make(map[string]*tuple.Tuple, len(kts))
	for _, t := range kts {
		byID[t.ID] = t
	}
	for _, d := range dec {
		if t := byID[d.ID]; t != nil {
			outs[t] = append(outs[t], Output{Stream: d.Stream, Values: d.Values})
		}
	}
	return nil
}

func (b *Bolt) reject(t *tuple.Tuple, err error) {
	b.Stats.Rejected.Add(1)
	b.tc.RecordMetric("state_rejected", 1)
	b.out.ReportError(fmt.Errorf("stateful bolt %q: tuple %s: %w", b.tc.Component.ID, t.ID, err))
}

// Cleanup releases the writer and the store.
func (b *Bolt) Cleanup() error {
	if b.tc != nil && b.tc.Logger != nil {
		n := b.Stats.Applied.Load()
		b.tc.Logger.Info("stateful bolt stopped", "applied_batches", n, "replayed_keys", b.Stats.Replayed.Load(),
			"out_of_order", b.Stats.OutOfOrder.Load(), "rejected", b.Stats.Rejected.Load(),
			"write_ms_avg", float64(b.writeNanos)/1e6/float64(max(n, 1)))
	}
	if b.cancel != nil {
		b.cancel()
	}
	if b.taking != nil {
		if r := <-b.taking; r.w != nil {
			r.w.Close()
		}
		b.taking = nil
	}
	if b.w != nil {
		b.w.Close()
		b.w = nil
	}
	if b.release != nil {
		b.release()
		b.release = nil
	}
	return nil
}

// Get reads key's committed value from the store (nil when it has none),
// for tests and tools: the store of l, under the bolt's prefix.
func Get(ctx context.Context, l kvlog.Log, topologyName, component, key string) ([]byte, error) {
	raw, err := l.Get(ctx, topologyName+"/"+component+"/"+key)
	if err != nil || raw == nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("key %q: %w: %v", key, kvlog.ErrCorrupt, err)
	}
	return rec.Value, nil
}
