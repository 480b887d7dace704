package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/spout"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

// faultyStore wraps a ledger store: its writers call the hooks first, and
// count the commits that reached the real store.
type faultyStore struct {
	ledger.Store
	// before is called before every write ("plan", "commit", "lose"); a
	// non-nil error fails the write without writing
	before func(ctx context.Context, op string, key ledger.Key, seq uint64) error

	mu      sync.Mutex     // guards commits
	commits map[string]int // batch id -> commits written
}

func (s *faultyStore) Open(ctx context.Context, key ledger.Key) (ledger.Writer, ledger.State, error) {
	w, st, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, st, err
	}
	return &faultyWriter{Writer: w, s: s, key: key}, st, nil
}

func (s *faultyStore) committed(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits[id]
}

type faultyWriter struct {
	ledger.Writer
	s   *faultyStore
	key ledger.Key
}

func (w *faultyWriter) Plan(ctx context.Context, plans ...ledger.Plan) error {
	return w.Apply(ctx, ledger.Batch{Plans: plans})
}

func (w *faultyWriter) Commit(ctx context.Context, seqs ...uint64) error {
	return w.Apply(ctx, ledger.Batch{Commits: seqs})
}

func (w *faultyWriter) Lose(ctx context.Context, seq uint64, start, end int64) error {
	return w.Apply(ctx, ledger.Batch{Lost: []ledger.Lost{{Seq: seq, Start: start, End: end}}})
}

// Apply calls the hook for each write of b, in the order Apply makes
// them; the first error fails the whole batch, as a failed write does.
func (w *faultyWriter) Apply(ctx context.Context, b ledger.Batch) error {
	for _, p := range b.Plans {
		if err := w.s.before(ctx, "plan", w.key, p.Seq); err != nil {
			return err
		}
	}
	for _, l := range b.Lost {
		if err := w.s.before(ctx, "lose", w.key, l.Seq); err != nil {
			return err
		}
	}
	for _, seq := range b.Commits {
		if err := w.s.before(ctx, "commit", w.key, seq); err != nil {
			return err
		}
	}
	err := w.Writer.Apply(ctx, b)
	if err == nil {
		w.s.mu.Lock()
		for _, seq := range b.Commits {
			w.s.commits[ledger.Plan{Key: w.key, Seq: seq}.BatchID()]++
		}
		w.s.mu.Unlock()
	}
	return err
}

// faultyType is the kafka spout type whose spouts open their ledger
// through s.
func faultyType(s *faultyStore) registry.Spout[kafkaspout.Config] {
	t := kafkaspout.Type()
	t.New = func(c *kafkaspout.Config) (spout.Spout, error) {
		sp := kafkaspout.New(c)
		kafkaspout.WrapStore(sp, func(inner ledger.Store) ledger.Store { s.Store = inner; return s })
		return sp, nil
	}
	return t
}

// faultyTopology is spoutTopology with one spout task whose ledger is s
// and the recorder r as its bolt.
func faultyTopology(t *testing.T, s *faultyStore, r *recorder, cfg map[string]any) *topology.Topology {
	reg := registry.New()
	reg.MustRegister(faultyType(s))
	reg.MustRegister(r.bolt())
	return spoutTopology(t, reg, cfg, 1)
}

var errInjected = errors.New("injected ledger failure")

// TestSpout_CommitErrorsAreRetried: the ledger refuses the first commits
// of some batches (twice each). Nothing stalls or is lost: the run reads
// every partition to its end, each batch is emitted once, exactly as a
// clean run cuts it (records 0-24, 25-49, ...), and committed once; the
// consumer group reaches the end; the status counted the retries and
// showed the error.
func TestSpout_CommitErrorsAreRetried(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	const count, per = 600, 25
	topic, perPart := newTopic(t, brokers, 2, count, func(i int) string { return fmt.Sprintf("record %d", i) })
	dir := t.TempDir()
	var injected atomic.Int64
	var mu sync.Mutex         // guards fails: two partitions, two ledger loops
	fails := map[string]int{} // batch id -> commits refused so far
	store := &faultyStore{commits: map[string]int{}, before: func(_ context.Context, op string, key ledger.Key, seq uint64) error {
		if op != "commit" || seq%4 != 1 {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		id := ledger.Plan{Key: key, Seq: seq}.BatchID()
		if fails[id] == 2 {
			return nil
		}
		fails[id]++
		injected.Add(1)
		return fmt.Errorf("commit %s: %w", id, errInjected)
	}}
	r := newRecorder(0)
	topo := faultyTopology(t, store, r, map[string]any{
		"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		"batch":  map[string]any{"records": per, "max_records": per, "time": "1h"}, // cut by count only: the batches are known in advance
		"ledger": map[string]any{"dir": dir},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	stats, err := local.Run(ctx, topo, local.Options{})
	if err != nil || ctx.Err() != nil {
		t.Fatalf("run: %v (ctx %v)", err, ctx.Err())
	}
	if injected.Load() == 0 {
		t.Fatal("no commit failed: the test proves nothing")
	}
	// the batches of a clean run, each emitted once, each committed once
	want := map[string][]string{}
	for p, n := range perPart {
		for seq := int64(0); seq*per < n; seq++ {
			id := ledger.Plan{Key: ledger.Key{Topic: topic, Partition: p}, Seq: uint64(seq)}.BatchID()
			for off := seq * per; off < min((seq+1)*per, n); off++ {
				want[id] = append(want[id], fmt.Sprintf("%s/%d/%d", topic, p, off))
			}
		}
	}
	for id, ids := range want {
		a := r.attempts[id]
		if len(a) != 1 || strings.Join(a[0], ",") != strings.Join(ids, ",") {
			t.Errorf("batch %s: %d emissions, want one of records %s..%s", id, len(a), ids[0], ids[len(ids)-1])
		}
		if n := store.committed(id); n != 1 {
			t.Errorf("batch %s committed %d times, want 1", id, n)
		}
	}
	if len(r.attempts) != len(want) {
		t.Errorf("%d batches emitted, want %d", len(r.attempts), len(want))
	}
	checkLedger(t, dir, topic, perPart)
	checkGroupOffsets(t, brokers, "gale-kafka-test-events", topic, perPart)
	checkStatus(t, stats, topic, perPart)
	var retries int64
	for _, ts := range stats.Tasks {
		if ts.Status == nil {
			continue
		}
		for _, p := range ts.Status.Partitions {
			retries += p.CommitRetries
			if p.CommitRetries > 0 && !strings.Contains(p.LastError, errInjected.Error()) {
				t.Errorf("partition %d: %d commit retries, last error %q, want the injected one", p.Partition, p.CommitRetries, p.LastError)
			}
			if p.Committing != 0 || p.Stopped != "" {
				t.Errorf("partition %d: committing %d, stopped %q at the end", p.Partition, p.Committing, p.Stopped)
			}
		}
	}
	if retries != injected.Load() {
		t.Errorf("the status counts %d commit retries, want the %d commits refused", retries, injected.Load())
	}
}

// hang makes ledger writes block, while it is on, until their context
// ends or it is released; it logs what returned when.
type hang struct {
	mu      sync.Mutex // guards the fields below
	on      bool
	release chan struct{}
	log     []string
	entered chan string
}

func newHang() *hang { return &hang{release: make(chan struct{}), entered: make(chan string, 16)} }

func (h *hang) note(s string) {
	h.mu.Lock()
	h.log = append(h.log, s)
	h.mu.Unlock()
}

func (h *hang) events() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.log...)
}

func (h *hang) set(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.on && !on {
		close(h.release)
		h.release = make(chan struct{})
	}
	h.on = on
}

func (h *hang) before(ctx context.Context, op string, _ ledger.Key, seq uint64) error {
	h.mu.Lock()
	on, release := h.on, h.release
	h.mu.Unlock()
	if !on {
		return nil
	}
	name := fmt.Sprintf("%s %d", op, seq)
	select {
	case h.entered <- name:
	default: // retries nobody waits for
	}
	defer h.note(name + " returned")
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-release:
		return nil
	}
}

// TestSpout_HungLedger: while every ledger write hangs (until its
// deadline), Ack and Fail return at once (the commit they cause is
// written by the ledger loop), NextTuple returns while the plan of a new
// batch hangs, and reports it (naming the batch, never emitted) once the
// ledger's deadline passed; the status shows the failed commit retried.
// Once the ledger answers again every batch is committed, once.
func TestSpout_HungLedger(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, _ := newTopic(t, brokers, 1, 40, func(i int) string { return fmt.Sprint(i) })
	h := newHang()
	store := &faultyStore{commits: map[string]int{}, before: h.before}
	c := kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Start, c.Ledger.Dir = []string{brokers}, []string{topic}, "earliest", t.TempDir()
	c.Batch.Records, c.Batch.MaxRecords, c.Batch.Time = 10, 10, topology.Duration(time.Hour) // batches of 10, however the ledger paces them
	c.MaxPendingBatches = 8
	timeout := time.Second
	c.Ledger.Timeout = topology.Duration(timeout)
	s, out := newWrappedSpout(t, c, func(inner ledger.Store) ledger.Store { store.Store = inner; return store })
	pump(t, s, out, 40) // batches 0-3, planned and emitted: no write under way
	emitted, _ := out.Snapshot()
	batch0, batch1 := emitted[0].MsgID, emitted[10].MsgID

	h.set(true)
	s.Ack(batch0) // its commit hangs in the ledger loop...
	h.note("Ack returned")
	s.Fail(batch1)
	h.note("Fail returned")
	if got := <-h.entered; got != "commit 0" {
		t.Fatalf("the ledger saw %q, want the commit of batch 0", got)
	}
	if ev := h.events(); len(ev) < 2 || ev[0] != "Ack returned" || ev[1] != "Fail returned" {
		t.Fatalf("events %v: Ack and Fail waited for the ledger", ev)
	}
	// the replay of batch 1 needs no ledger write
	if err := s.NextTuple(context.Background()); err != nil {
		t.Fatalf("NextTuple (the replay): %v", err)
	}
	if em, _ := out.Snapshot(); len(em) != 50 || em[40].BatchID != emitted[10].BatchID {
		t.Fatalf("%d tuples emitted, want batch 1 again (50)", len(em))
	}
	// new records: batch 4 is cut and NextTuple returns while its plan
	// hangs in the ledger loop, not in the task
	produce(t, brokers, topic, 40, 50)
	start := time.Now()
	var err error // a NextTuple's report of batch 4's plan
	for got := ""; got != "plan 4" && err == nil; {
		if err = s.NextTuple(context.Background()); err != nil {
			switch {
			case strings.Contains(err.Error(), "/000000000004"):
				// reported before this loop saw the plan reach the
				// ledger (a loaded machine): checked below
			case errors.Is(err, context.DeadlineExceeded):
				// on a loaded machine an earlier plan may miss its
				// deadline before the hang (a real file ledger fsyncs):
				// it is retried, which is what the spout must do
				t.Logf("NextTuple (cutting batch 4): an earlier plan answered late, retried: %v", err)
				err = nil
			default:
				t.Fatalf("NextTuple (cutting batch 4): %v", err)
			}
		}
		select {
		case got = <-h.entered:
		case <-time.After(10 * time.Millisecond):
		}
		if time.Since(start) > 30*timeout {
			t.Fatalf("the plan of batch 4 never reached the ledger")
		}
	}
	// the loop answers it at its deadline; a later NextTuple reports it
	for err == nil {
		if time.Since(start) > 30*timeout {
			t.Fatalf("no error reported %v after the plan hung (timeout %v)", 30*timeout, timeout)
		}
		time.Sleep(10 * time.Millisecond)
		err = s.NextTuple(context.Background())
	}
	t.Logf("NextTuple reported after %v: %v", time.Since(start), err)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "plan batch "+topic+"/00000/000000000004") {
		t.Fatalf("NextTuple = %v, want the plan of batch 4 named, timed out", err)
	}
	if em, _ := out.Snapshot(); len(em) != 50 {
		t.Fatalf("%d tuples emitted, want 50: batch 4 was emitted without its plan", len(em))
	}
	// the commit's failure (its deadline) is retried and shown
	galetest.Eventually(t, "the status to show the commit retried", 30*timeout, func() bool {
		s.NextTuple(context.Background())
		st := s.TaskStatus().Partitions
		return len(st) == 1 && st[0].CommitRetries > 0 && strings.Contains(st[0].LastError, "deadline exceeded")
	})

	// the ledger answers again: everything is planned, emitted, committed
	h.set(false)
	acked := map[any]bool{batch0: true}
	galetest.Eventually(t, "every batch committed", 30*time.Second, func() bool {
		if err := s.NextTuple(context.Background()); err != nil {
			t.Logf("NextTuple: %v", err) // plans that timed out are answered late
		}
		em, _ := out.Snapshot()
		for _, e := range em[20:] { // batches 2 and 3, the replay of batch 1, batch 4
			if !acked[e.MsgID] {
				acked[e.MsgID] = true
				s.Ack(e.MsgID)
			}
		}
		st := s.TaskStatus().Partitions
		return len(st) == 1 && st[0].Committed == 5 && st[0].CommittedOffset == 50 && st[0].Committing == 0
	})
	em, _ := out.Snapshot()
	if len(em) != 60 {
		t.Errorf("%d tuples emitted, want 60 (50, batch 1 twice)", len(em))
	}
	for seq := range uint64(5) {
		id := ledger.Plan{Key: ledger.Key{Topic: topic}, Seq: seq}.BatchID()
		if n := store.committed(id); n != 1 {
			t.Errorf("batch %s committed %d times, want 1", id, n)
		}
	}
}

// openFailing fails the first Open of one partition's ledger, as a
// partition whose leader is not known yet right after its topic was
// created fails to open.
type openFailing struct {
	ledger.Store
	partition int32
	failed    atomic.Bool
}

func (s *openFailing) Open(ctx context.Context, key ledger.Key) (ledger.Writer, ledger.State, error) {
	if key.Partition == s.partition && s.failed.CompareAndSwap(false, true) {
		return nil, ledger.State{}, errors.New("injected: the partition's leader is not known yet")
	}
	return s.Store.Open(ctx, key)
}

// TestSpout_AssignRetried: a partition that could not be opened when the
// spout connected is opened again after the backoff, not at the next
// metadata refresh (here an hour away): its records are read, and the
// other partition is read meanwhile; a bounded spout does not finish
// without it.
func TestSpout_AssignRetried(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	const count = 40
	topic, perPart := newTopic(t, brokers, 2, count, func(i int) string { return fmt.Sprint(i) })
	for _, bounded := range []bool{false, true} {
		t.Run(fmt.Sprintf("bounded=%v", bounded), func(t *testing.T) {
			store := &openFailing{partition: 1}
			c := kafkaspout.NewConfig()
			c.Brokers, c.Topics, c.Start, c.Ledger.Dir = []string{brokers}, []string{topic}, "earliest", t.TempDir()
			c.Bounded = bounded
			c.Batch.Records, c.Batch.Time = 5, topology.Duration(10*time.Millisecond)
			c.MetadataRefresh = topology.Duration(time.Hour)
			c.Group = fmt.Sprintf("gale-assign-retried-%v-%d", bounded, time.Now().UnixNano())
			s, out := newWrappedSpout(t, c, func(inner ledger.Store) ledger.Store { store.Store = inner; return store })
			var firstErr error
			stopped := false
			galetest.Eventually(t, fmt.Sprintf("all %d records emitted", count), 30*time.Second, func() bool {
				err := s.NextTuple(context.Background())
				switch {
				case errors.Is(err, spout.ErrStop):
					stopped = true
				case err != nil && firstErr == nil:
					firstErr = err
				}
				em, _ := out.Snapshot()
				return len(em) >= count
			})
			if firstErr == nil || !strings.Contains(firstErr.Error(), "injected") {
				t.Errorf("the failed open was not reported: first error %v", firstErr)
			}
			if stopped {
				t.Errorf("the bounded spout stopped before reading partition 1")
			}
			em, _ := out.Snapshot()
			byPart := map[int32]int64{}
			for _, e := range em {
				byPart[e.Values[1].(int32)]++
			}
			for p, n := range perPart {
				if byPart[p] != n {
					t.Errorf("partition %d: %d records emitted, want %d", p, byPart[p], n)
				}
			}
		})
	}
}
