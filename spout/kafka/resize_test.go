package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/spout"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

// testLog writes a logger's lines to the test's log.
type testLog struct {
	t    *testing.T
	name string
}

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(w.name + ": " + strings.TrimSpace(string(p)))
	return len(p), nil
}

// task is one spout task of a test, run by the test's goroutine: it calls
// NextTuple and acks what the task emitted (unless holding).
type task struct {
	t       *testing.T
	name    string
	s       *kafkaspout.Spout
	out     *galetest.SpoutCollector
	seen    int          // emitted tuples looked at
	unacked []any        // batches (msg ids) emitted, not acked yet, in order
	sent    map[any]bool // msg ids seen
	hold    bool         // do not ack for now
	stopped bool         // NextTuple returned ErrStop
	allow   error        // an error NextTuple may return (logged)
}

// newTask opens a spout task index of tasks, with the test's ledger.
func newTask(t *testing.T, name string, cfg *kafkaspout.Config, tasks, index int) *task {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := kafkaspout.New(cfg)
	out := &galetest.SpoutCollector{}
	tc := &topology.TaskContext{
		Topology:  &topology.Topology{Name: "kafka-test"},
		Component: &topology.Component{ID: "events", Parallelism: tasks},
		TaskIndex: index,
		Logger:    slog.New(slog.NewTextHandler(testLog{t, name}, nil)),
	}
	if err := s.Open(context.Background(), tc, out); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &task{t: t, name: name, s: s, out: out, sent: map[any]bool{}}
}

// step calls NextTuple once (unless the task stopped), then acks what is
// emitted and not acked (unless holding).
func (k *task) step() {
	k.t.Helper()
	if k.stopped {
		return
	}
	err := k.s.NextTuple(context.Background())
	if errors.Is(err, spout.ErrStop) {
		k.stopped = true
	} else if err != nil && k.allow != nil && errors.Is(err, k.allow) {
		k.t.Logf("%s: NextTuple: %v", k.name, err)
	} else if err != nil {
		k.t.Fatalf("%s: NextTuple: %v", k.name, err)
	}
	em, _ := k.out.Snapshot()
	for _, e := range em[k.seen:] {
		if !k.sent[e.MsgID] {
			k.sent[e.MsgID] = true
			k.unacked = append(k.unacked, e.MsgID)
		}
	}
	k.seen = len(em)
	if !k.hold {
		k.ackAll()
	}
}

func (k *task) ackAll() {
	for _, id := range k.unacked {
		k.s.Ack(id)
	}
	k.unacked = nil
}

// run steps the tasks in turn until cond holds (within a minute).
func run(t *testing.T, what string, cond func() bool, tasks ...*task) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		for _, k := range tasks {
			k.step()
		}
	}
}

// emittedIDs counts the tuples the tasks emitted, by tuple id
// (topic/partition/offset).
func emittedByID(tasks ...*task) map[string]int {
	n := map[string]int{}
	for _, k := range tasks {
		em, _ := k.out.Snapshot()
		for _, e := range em {
			n[e.ID]++
		}
	}
	return n
}

// checkOnce asserts that the tasks emitted every record of topic exactly
// once between them.
func checkOnce(t *testing.T, topic string, perPart map[int32]int64, tasks ...*task) {
	t.Helper()
	n := emittedByID(tasks...)
	want := 0
	for p, count := range perPart {
		for off := range count {
			want++
			id := fmt.Sprintf("%s/%d/%d", topic, p, off)
			if n[id] != 1 {
				t.Errorf("record %s emitted %d times, want once", id, n[id])
			}
		}
	}
	if len(n) != want {
		t.Errorf("%d distinct tuples emitted, want %d", len(n), want)
	}
}

// ledgerDir is where a test's spouts keep their ledger: a directory, or
// "kafka:TOPIC" for a Kafka ledger (kind "kafka") in a topic of its own.
func ledgerDir(t *testing.T, brokers, kind string) string {
	if kind == "file" {
		return t.TempDir()
	}
	topic := fmt.Sprintf("gale-ledger-resize-%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(brokers, topic) })
	return "kafka:" + topic
}

// checkLedgers asserts that every partition's ledger has everything
// planned committed, up to the partition's end.
func checkLedgers(t *testing.T, brokers, dir, topic string, perPart map[int32]int64) {
	t.Helper()
	var store interface {
		ledger.Store
		ledger.Reader
	}
	var err error
	if ledgerTopic, ok := strings.CutPrefix(dir, "kafka:"); ok {
		store, err = ledger.NewKafkaStore([]string{brokers}, ledgerTopic)
	} else {
		store, err = ledger.NewFileStore(dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for p, count := range perPart {
		st, err := store.Read(context.Background(), ledger.Key{Topology: "kafka-test", Spout: "events", Topic: topic, Partition: p})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Pending) != 0 || st.NextStart != count || st.Committed != st.NextSeq {
			t.Errorf("ledger of partition %d: %d pending, next start %d, %d of %d committed; want all committed up to %d",
				p, len(st.Pending), st.NextStart, st.Committed, st.NextSeq, count)
		}
	}
}

func parts(topic string, ps ...int) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s/%d", topic, p))
	}
	return out
}

func hasParts(s *kafkaspout.Spout, want []string) bool {
	got := slices.Clone(kafkaspout.Partitions(s))
	slices.Sort(got)
	return slices.Equal(got, want)
}

func statusParts(s *kafkaspout.Spout) []int32 {
	var out []int32
	for _, p := range s.TaskStatus().Partitions {
		out = append(out, p.Partition)
	}
	slices.Sort(out)
	return out
}

func resizeConfig(brokers, topic, dir string) *kafkaspout.Config {
	c := kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Start, c.Ledger.Dir = []string{brokers}, []string{topic}, "earliest", dir
	if strings.HasPrefix(dir, "kafka:") { // a Kafka ledger: the ledger topic
		c.Ledger.Kind, c.Ledger.Topic = "kafka", strings.TrimPrefix(dir, "kafka:")
	}
	c.Batch.Records, c.Batch.MaxRecords = 20, 20 // small batches, many of them
	c.Batch.Time = topology.Duration(20 * time.Millisecond)
	return c
}

// allCommitted: every batch the spout planned or replayed is committed
// (the tests fail no tuple: each batch replays once at most).
func allCommitted(s *kafkaspout.Spout) bool {
	return s.Commits.Load() == s.Batches.Load()+s.Replays.Load()
}

// TestSpout_ResizeUpHandsOverWithoutReplay: one task reads 4 partitions;
// the component grows to two tasks while it runs: the first releases
// partitions 1 and 3 once what it planned of them is committed, and the
// new task takes them over from there: every record is emitted once,
// nothing replays, nobody is fenced.
func TestSpout_ResizeUpHandsOverWithoutReplay(t *testing.T) {
	for _, kind := range []string{"file", "kafka"} {
		t.Run(kind+"-ledger", func(t *testing.T) { testResizeUp(t, kind) })
	}
}

func testResizeUp(t *testing.T, kind string) {
	brokers := testenv.KafkaBrokers(t)
	topic, perPart := newTopic(t, brokers, 4, 2000, func(i int) string { return fmt.Sprint("r", i) })
	dir := ledgerDir(t, brokers, kind)
	first := newTask(t, "first", resizeConfig(brokers, topic, dir), 1, 0)
	run(t, "the first task to emit 300 tuples", func() bool { return first.seen >= 300 }, first)
	if !hasParts(first.s, parts(topic, 0, 1, 2, 3)) {
		t.Fatalf("first task holds %v, want every partition", kafkaspout.Partitions(first.s))
	}

	first.s.Resize(2, 0)
	second := newTask(t, "second", resizeConfig(brokers, topic, dir), 2, 1)
	second.s.Resize(2, 1) // started by the change: it waits for the first to release its share
	run(t, "every record emitted, each task on its share, all committed", func() bool {
		return len(emittedByID(first, second)) == 2000 &&
			hasParts(first.s, parts(topic, 0, 2)) && hasParts(second.s, parts(topic, 1, 3)) &&
			allCommitted(first.s) && allCommitted(second.s)
	}, first, second)

	checkOnce(t, topic, perPart, first, second)
	noReplays(t, first, second)
	if n := first.s.Released.Load(); n != 2 {
		t.Errorf("first task released %d partitions, want 2", n)
	}
	if n := second.s.Handovers.Load(); n != 2 {
		t.Errorf("second task took %d partitions over, want 2", n)
	}
	if got := statusParts(first.s); !slices.Equal(got, []int32{0, 2}) {
		t.Errorf("first task's status shows partitions %v, want [0 2]", got)
	}
	first.s.Close()
	second.s.Close()
	checkLedgers(t, brokers, dir, topic, perPart)
	checkGroupOffsets(t, brokers, "gale-kafka-test-events", topic, perPart)
}

// TestSpout_ResizeDownLeaves: two bounded tasks read 4 partitions; the
// component shrinks to one task: the leaving task stops (ErrStop) once its
// partitions are released — not while a batch of its is unacked — and the
// remaining one takes them over and reads them to their end: every record
// once, both tasks end.
func TestSpout_ResizeDownLeaves(t *testing.T) {
	for _, kind := range []string{"file", "kafka"} {
		t.Run(kind+"-ledger", func(t *testing.T) { testResizeDown(t, kind) })
	}
}

func testResizeDown(t *testing.T, kind string) {
	brokers := testenv.KafkaBrokers(t)
	topic, perPart := newTopic(t, brokers, 4, 2000, func(i int) string { return fmt.Sprint("r", i) })
	dir := ledgerDir(t, brokers, kind)
	cfg := func() *kafkaspout.Config {
		c := resizeConfig(brokers, topic, dir)
		c.Bounded = true
		return c
	}
	first := newTask(t, "first", cfg(), 2, 0)
	second := newTask(t, "second", cfg(), 2, 1)
	// each reads a fifth of its share before the change
	run(t, "the first task to emit 200 tuples", func() bool { return first.seen >= 200 }, first)
	run(t, "the second task to emit 200 tuples", func() bool { return second.seen >= 200 }, second)

	// the leaving task's acks are late: it must not stop before they come
	second.hold = true
	run(t, "the leaving task to have a batch in flight", func() bool { return len(second.unacked) > 0 }, second)
	first.s.Resize(1, 0)
	second.s.Resize(1, -1)
	for range 200 {
		first.step()
		second.step()
		if second.stopped {
			t.Fatalf("the leaving task stopped with %d batches unacked", len(second.unacked))
		}
	}
	second.hold = false
	run(t, "both tasks to end", func() bool { return first.stopped && second.stopped }, first, second)

	checkOnce(t, topic, perPart, first, second)
	noReplays(t, first, second)
	if n := second.s.Released.Load(); n != 2 {
		t.Errorf("leaving task released %d partitions, want 2", n)
	}
	if n := first.s.Handovers.Load(); n != 2 {
		t.Errorf("remaining task took %d partitions over, want 2", n)
	}
	if got := statusParts(second.s); len(got) != 0 {
		t.Errorf("leaving task's status shows partitions %v, want none", got)
	}
	if !hasParts(first.s, parts(topic, 0, 1, 2, 3)) {
		t.Errorf("remaining task holds %v, want every partition", kafkaspout.Partitions(first.s))
	}
	first.s.Close()
	second.s.Close()
	checkLedgers(t, brokers, dir, topic, perPart)
	checkGroupOffsets(t, brokers, "gale-kafka-test-events", topic, perPart)
}

// TestSpout_ResizeForcedTakeover: the old owner never learns of the
// change and never acks its last batches: the new owner waits for it
// (handoverWait, shortened), then takes the partition over — fencing the
// old owner — and replays the old owner's pending batches first, with
// their batch ids: nothing is lost.
func TestSpout_ResizeForcedTakeover(t *testing.T) {
	const wait = 2 * time.Second
	defer kafkaspout.SetHandoverWait(wait)()
	brokers := testenv.KafkaBrokers(t)
	topic, perPart := newTopic(t, brokers, 2, 400, func(i int) string { return fmt.Sprint("r", i) })
	dir := t.TempDir()
	old := newTask(t, "old", resizeConfig(brokers, topic, dir), 1, 0)
	old.hold = true
	run(t, "the old owner to emit two batches of partition 1", func() bool {
		em, _ := old.out.Snapshot()
		batches := map[string]bool{}
		for _, e := range em {
			if e.Values[1] == int32(1) {
				batches[e.BatchID] = true
			}
		}
		return len(batches) >= 2
	}, old)
	for range 20 {
		old.step() // up to max_pending_batches per partition, all unacked
	}
	var oldBatches []string // old's batches of partition 1, in order
	em, _ := old.out.Snapshot()
	for _, e := range em {
		if e.Values[1] == int32(1) && !slices.Contains(oldBatches, e.BatchID) {
			oldBatches = append(oldBatches, e.BatchID)
		}
	}

	// what the old owner planned of partition 1 and did not commit: the
	// batches it emitted, maybe some planned and not emitted yet (once its
	// ledger loop wrote the plans of its last cuts: the state holds still)
	var st ledger.State
	var lastRead time.Time
	galetest.Eventually(t, "the old owner's ledger to hold still", 20*time.Second, func() bool {
		if time.Since(lastRead) < 200*time.Millisecond {
			return false
		}
		now, err := ledgerState(dir, topic, 1)
		if err != nil {
			t.Fatal(err)
		}
		still := !lastRead.IsZero() && now.NextSeq == st.NextSeq && len(now.Pending) == len(st.Pending)
		st, lastRead = now, time.Now()
		return still
	})
	var pending []string
	for _, p := range st.Pending {
		pending = append(pending, p.BatchID())
	}
	for _, b := range oldBatches {
		if !slices.Contains(pending, b) {
			t.Fatalf("the old owner's unacked batch %s is not pending in the ledger (%v)", b, pending)
		}
	}

	start := time.Now()
	next := newTask(t, "new", resizeConfig(brokers, topic, dir), 2, 1)
	next.s.Resize(2, 1)
	run(t, "the new owner to take partition 1 over", func() bool { return next.seen > 0 }, next)
	if waited := time.Since(start); waited < wait {
		t.Errorf("the new owner took the partition over after %v, before the handover wait (%v) while the old owner had batches pending", waited, wait)
	}
	run(t, "the new owner to emit all of partition 1, committed", func() bool {
		return len(emittedByID(next)) == int(perPart[1]) && allCommitted(next.s)
	}, next)

	// the old owner's pending batches come first, same batch ids
	em, _ = next.out.Snapshot()
	var replayed []string
	for _, e := range em {
		if len(replayed) == len(pending) && replayed[len(replayed)-1] != e.BatchID {
			break
		}
		if len(replayed) == 0 || replayed[len(replayed)-1] != e.BatchID {
			replayed = append(replayed, e.BatchID)
		}
	}
	if !slices.Equal(replayed, pending) {
		t.Errorf("the new owner emitted batches %v first, want the old owner's pending ones %v", replayed, pending)
	}
	if r := next.s.Replays.Load(); r != int64(len(pending)) {
		t.Errorf("the new owner replayed %d batches, want %d", r, len(pending))
	}
	t.Logf("the old owner emitted %d batches of partition 1 and planned %d, replayed by the new owner", len(oldBatches), len(pending))
	if n := next.s.Handovers.Load(); n != 1 {
		t.Errorf("the new owner took %d partitions over, want 1", n)
	}
	checkOnce(t, topic, map[int32]int64{1: perPart[1]}, next)

	// the old owner's late acks: its commits of partition 1 are refused
	old.hold, old.allow = false, ledger.ErrFenced
	run(t, "the old owner to be fenced", func() bool { return old.s.Fenced.Load() > 0 }, old)
	if n := old.s.Fenced.Load(); n != 1 {
		t.Errorf("the old owner lost %d partitions, want 1", n)
	}
	next.s.Close()
	st, err := ledgerState(dir, topic, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Pending) != 0 || st.NextStart != perPart[1] {
		t.Errorf("ledger of partition 1: %d pending, next start %d; want none pending, next start %d", len(st.Pending), st.NextStart, perPart[1])
	}
}

func ledgerState(dir, topic string, p int32) (ledger.State, error) {
	store, err := ledger.NewFileStore(dir)
	if err != nil {
		return ledger.State{}, err
	}
	return store.Read(context.Background(), ledger.Key{Topology: "kafka-test", Spout: "events", Topic: topic, Partition: p})
}

// TestSpout_ResizeBackResumes: a partition being released that becomes the
// task's again stays and resumes where it planned last; a partition
// waiting for its previous owner that is no longer the task's is not
// taken. Every record once, nothing replayed, released or taken over.
func TestSpout_ResizeBackResumes(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, perPart := newTopic(t, brokers, 2, 1000, func(i int) string { return fmt.Sprint("r", i) })
	dir := t.TempDir()
	k := newTask(t, "task", resizeConfig(brokers, topic, dir), 1, 0)
	k.hold = true // partition 1 cannot be released while its batches are unacked
	run(t, "batches of both partitions in flight", func() bool {
		em, _ := k.out.Snapshot()
		return slices.ContainsFunc(em, func(e galetest.Emitted) bool { return e.Values[1] == int32(1) }) &&
			slices.ContainsFunc(em, func(e galetest.Emitted) bool { return e.Values[1] == int32(0) })
	}, k)
	k.s.Resize(2, 0) // partition 1 leaves the share: released once acked
	for range 50 {
		k.step()
	}
	if !hasParts(k.s, parts(topic, 0, 1)) {
		t.Fatalf("the task holds %v while partition 1's batches are unacked, want both partitions", kafkaspout.Partitions(k.s))
	}
	k.s.Resize(1, 0) // back: partition 1 stays
	k.hold = false
	run(t, "every record emitted and committed", func() bool {
		return len(emittedByID(k)) == 1000 && allCommitted(k.s)
	}, k)
	checkOnce(t, topic, perPart, k)
	if r, rel, h := k.s.Replays.Load(), k.s.Released.Load(), k.s.Handovers.Load(); r != 0 || rel != 0 || h != 0 {
		t.Errorf("%d replays, %d partitions released, %d taken over; want none", r, rel, h)
	}

	// a task whose new share is withdrawn before its partition is taken
	// over: it never takes it
	topic2, perPart2 := newTopic(t, brokers, 2, 200, func(i int) string { return fmt.Sprint("r", i) })
	k2 := newTask(t, "task2", resizeConfig(brokers, topic2, dir), 2, 0)
	run(t, "partition 0 emitted", func() bool { return len(emittedByID(k2)) == int(perPart2[0]) && allCommitted(k2.s) }, k2)
	k2.s.Resize(1, 0) // partition 1 waits for its previous owner...
	k2.s.Resize(2, 0) // ...no longer
	for range 50 {
		k2.step()
	}
	if h := k2.s.Handovers.Load(); h != 0 || !hasParts(k2.s, parts(topic2, 0)) {
		t.Errorf("the task took %d partitions over and holds %v, want none taken, partition 0 only", h, kafkaspout.Partitions(k2.s))
	}

	// released, then the task's again: it takes it over from itself, from
	// where it committed last
	topic3, perPart3 := newTopic(t, brokers, 2, 400, func(i int) string { return fmt.Sprint("r", i) })
	k3 := newTask(t, "task3", resizeConfig(brokers, topic3, dir), 1, 0)
	run(t, "100 tuples emitted", func() bool { return k3.seen >= 100 }, k3)
	k3.s.Resize(2, 0)
	run(t, "partition 1 released", func() bool { return k3.s.Released.Load() == 1 }, k3)
	k3.s.Resize(1, 0)
	run(t, "every record emitted and committed", func() bool {
		return len(emittedByID(k3)) == 400 && allCommitted(k3.s) && hasParts(k3.s, parts(topic3, 0, 1))
	}, k3)
	checkOnce(t, topic3, perPart3, k3)
	if r, h := k3.s.Replays.Load(), k3.s.Handovers.Load(); r != 0 || h != 1 {
		t.Errorf("%d replays, %d partitions taken over; want none replayed, 1 taken over", r, h)
	}
}

// noReplays checks that no task replayed a batch or was fenced.
func noReplays(t *testing.T, tasks ...*task) {
	t.Helper()
	for _, k := range tasks {
		if r, f := k.s.Replays.Load(), k.s.Fenced.Load(); r != 0 || f != 0 {
			t.Errorf("%s task: %d replays, %d partitions fenced; want none", k.name, r, f)
		}
	}
}
