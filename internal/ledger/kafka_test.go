package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/kvlog"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/ledger/ledgertest"
	"github.com/gale-stream/gale/internal/testenv"
)

// TestKafkaStore_Conformance runs the same suite as the file store against
// the real Kafka from testenv; fencing is Kafka's transactional producer
// fencing.
func TestKafkaStore_Conformance(t *testing.T) {
	brokers, topic := ledgerTopic(t)
	ledgertest.Run(t, func(t *testing.T) ledger.Store {
		s, err := ledger.NewKafkaStore([]string{brokers}, topic)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestKafkaStore_FencedWrapsCause: the ErrFenced of a fenced owner wraps
// the producer's error, which says how Kafka fenced it.
func TestKafkaStore_FencedWrapsCause(t *testing.T) {
	brokers, topic := ledgerTopic(t)
	ctx := context.Background()
	open := func() (ledger.Writer, func()) {
		s, err := ledger.NewKafkaStore([]string{brokers}, topic)
		if err != nil {
			t.Fatal(err)
		}
		w, _, err := s.Open(ctx, ledger.Key{Topology: "t", Spout: "s", Topic: "events"})
		if err != nil {
			s.Close()
			t.Fatal(err)
		}
		return w, func() { w.Close(); s.Close() }
	}
	old, closeOld := open()
	defer closeOld()
	if err := old.Plan(ctx, ledger.Plan{Seq: 0, Start: 0, End: 10}); err != nil {
		t.Fatal(err)
	}
	_, closeNew := open() // fences old
	defer closeNew()
	err := old.Plan(ctx, ledger.Plan{Seq: 1, Start: 10, End: 20})
	if !errors.Is(err, ledger.ErrFenced) {
		t.Fatalf("fenced owner's plan: %v, want ErrFenced", err)
	}
	if !errors.Is(err, sarama.ErrProducerFenced) && !errors.Is(err, sarama.ErrInvalidProducerEpoch) {
		t.Errorf("fenced owner's plan: %v, want it to wrap sarama's ErrProducerFenced or ErrInvalidProducerEpoch", err)
	}
}

// TestKafkaStore_MigratesFirstFormat: a ledger topic written by Gale's
// first ledger (one record per plan, commit and loss, every key live
// forever) is read as that Gale read it, rewritten in the bounded form
// when a partition is opened, and its old records deleted.
func TestKafkaStore_MigratesFirstFormat(t *testing.T) {
	brokers, topic := ledgerTopic(t)
	k := ledger.Key{Topology: "t", Spout: "s", Topic: "logs", Partition: 2}
	s, err := ledger.NewKafkaStore([]string{brokers}, topic) // creates the topic
	if err != nil {
		t.Fatal(err)
	}
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, r := range [][2]string{
		{"plan/000000000000", `{"seq":0,"start":5,"end":10}`},
		{"plan/000000000001", `{"seq":1,"start":10,"end":20}`},
		{"plan/000000000002", `{"seq":2,"start":20,"end":30}`},
		{"commit/000000000000", `{"seq":0}`},
		{"commit/000000000002", `{"seq":2}`},
		{"lost/000000000001", `{"seq":1,"start":10,"end":12}`},
		{"open/000000000000", `{"seq":0}`},
	} {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(k.String() + "/" + r[0]),
			Value: sarama.StringEncoder(r[1])}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	checkMigrated(t, s, k)
	s.Close()
	// a new process reads the bounded ledger, and only it
	l, err := kvlog.OpenKafka(ctx, kvlog.DefaultKafkaConfig([]string{brokers}, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var live []string
	l.Scan(ctx, k.String()+"/", func(key string, _ []byte) error { live = append(live, key); return nil })
	if fmt.Sprint(live) != "["+k.String()+"/cp]" {
		t.Errorf("live keys after the migration: %v, want the checkpoint only", live)
	}
	s2, err := ledger.NewKafkaStore([]string{brokers}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if st, err := s2.Read(ctx, k); err != nil || describe(st) != "base 5, committed 3 to 30, next 3 at 30, pending [], lost [{1 10 12}] (2 offsets)" {
		t.Errorf("after the migration: %s, %v", describe(st), err)
	}
}

// TestKafkaStore_SharedView: the stores of one process share one view of
// the topic; closing one leaves the others working, and a partition
// opened through one is fenced through another.
func TestKafkaStore_SharedView(t *testing.T) {
	brokers, topic := ledgerTopic(t)
	ctx := context.Background()
	a, err := ledger.NewKafkaStore([]string{brokers}, topic)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ledger.NewKafkaStore([]string{brokers}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	k := ledger.Key{Topology: "t", Spout: "s", Topic: "e", Partition: 0}
	wa, _, err := a.Open(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := wa.Plan(ctx, ledger.Plan{Seq: 0, Start: 0, End: 10}); err != nil {
		t.Fatal(err)
	}
	wb, st, err := b.Open(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if st.NextSeq != 1 {
		t.Errorf("second store: %+v", st)
	}
	if err := wa.Commit(ctx, 0); !errors.Is(err, ledger.ErrFenced) {
		t.Errorf("writer fenced through the other store: %v, want ErrFenced", err)
	}
	wa.Close()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := wb.Commit(ctx, 0); err != nil {
		t.Errorf("commit through the store left open: %v", err)
	}
	if st, err := b.Read(ctx, k); err != nil || st.Committed != 1 {
		t.Errorf("read: %+v, %v", st, err)
	}
}

// ledgerTopic returns the brokers and a fresh topic name for a ledger,
// deleted at the end of the test.
func ledgerTopic(t *testing.T) (brokers, topic string) {
	brokers = testenv.KafkaBrokers(t)
	topic = fmt.Sprintf("gale-ledger-test-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		c := sarama.NewConfig()
		c.Version = sarama.V4_0_0_0
		if a, err := sarama.NewClusterAdmin([]string{brokers}, c); err == nil {
			a.DeleteTopic(topic)
			a.Close()
		}
	})
	return brokers, topic
}

// TestKafkaStore_FailedWriteThatLanded: a commit whose call fails (its
// context ends while the transaction is on its way) may land all the
// same. The writer's next records must agree with it: the incident under
// load was commit 16 failing yet landing, then commits 17 and 18 written
// as waiting for 16 — batch 17 done at a checkpoint already at 17, which
// every reader refused as corrupt. After the fix every read is
// consistent, the failed commit may be made again, and a new owner opens
// the ledger.
func TestKafkaStore_FailedWriteThatLanded(t *testing.T) {
	brokers, topic := ledgerTopic(t)
	ctx := context.Background()
	s, err := ledger.NewKafkaStore([]string{brokers}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := ledger.Key{Topology: "t", Spout: "s", Topic: "landed", Partition: 0}
	w, _, err := s.Open(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const n = 40
	plan := func(seq uint64) ledger.Plan {
		return ledger.Plan{Seq: seq, Start: int64(10 * seq), End: int64(10*seq + 10)}
	}
	for seq := range uint64(n) {
		if err := w.Plan(ctx, plan(seq)); err != nil {
			t.Fatal(err)
		}
	}
	seq := firstFailure(t, "commit", 0, n-2, w.Commit)
	time.Sleep(500 * time.Millisecond) // the failed commit's transaction lands meanwhile (or not)
	if err := w.Commit(ctx, seq+1, seq+2); err != nil {
		t.Fatalf("commits after the failed one: %v", err)
	}
	st, err := s.Read(ctx, k)
	if err != nil {
		t.Fatalf("read after a failed commit and the next ones: %v", err)
	}
	t.Logf("after the commits that followed: committed %d", st.Committed)
	if st.Committed != seq && st.Committed != seq+3 {
		t.Errorf("committed %d: want %d (the failed commit did not land) or %d (it did)", st.Committed, seq, seq+3)
	}
	if err := w.Commit(ctx, seq); err != nil { // made again, as the spout does
		t.Fatal(err)
	}
	want := fmt.Sprintf("base 0, committed %d to %d, next %d at %d, pending [", seq+3, 10*(seq+3), n, 10*n)
	if st, err = s.Read(ctx, k); err != nil || !strings.HasPrefix(describe(st), want) || len(st.Pending) != int(n-seq-3) {
		t.Fatalf("after the failed commit made again: %s, %v; want %s...", describe(st), err, want)
	}
	w2, st2, err := s.Open(ctx, k) // a new owner
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if describe(st2) != describe(st) {
		t.Errorf("new owner read %s, want %s", describe(st2), describe(st))
	}
	// a plan that failed, landed or not, is planned again with the next:
	// both are recorded (once)
	next := firstFailure(t, "plan", n, n+50, func(ctx context.Context, seqs ...uint64) error { return w2.Plan(ctx, plan(seqs[0])) })
	time.Sleep(500 * time.Millisecond)
	if err := w2.Plan(ctx, plan(next), plan(next+1)); err != nil {
		t.Fatalf("the failed plan made again with the next: %v", err)
	}
	if st, err = s.Read(ctx, k); err != nil || st.NextSeq != next+2 || st.NextStart != int64(10*(next+2)) {
		t.Errorf("after the plans: %s, %v; want next %d", describe(st), err, next+2)
	}
}

// firstFailure calls call(ctx, seq) for seq from, from+1, ... before to,
// each under a deadline too short for a transaction (each that succeeds
// moves on to the next batch), and returns the seq of the first that
// fails; it fails t when none did (the case is not exercised).
func firstFailure(t *testing.T, what string, from, to uint64, call func(ctx context.Context, seqs ...uint64) error) uint64 {
	t.Helper()
	for seq := from; seq < to; seq++ {
		short, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		err := call(short, seq)
		cancel()
		if err != nil {
			t.Logf("%s %d failed: %v", what, seq, err)
			return seq
		}
	}
	t.Fatalf("no %s failed under a 1ms deadline: the case is not exercised", what)
	return 0
}

// TestLedger_DoneAtCheckpointRepaired: a ledger that a writer of the
// previous version left with a batch done at its checkpoint (see
// TestKafkaStore_FailedWriteThatLanded) is read, not refused: the
// checkpoint passes the batches done contiguously from it, and the next
// owner writes that, deleting their records. Both stores.
func TestLedger_DoneAtCheckpointRepaired(t *testing.T) {
	brokers, topic := ledgerTopic(t)
	ctx := context.Background()
	k := ledger.Key{Topology: "t", Spout: "s", Topic: "folded", Partition: 1}
	records := []kvlog.Record{
		{Key: k.String() + "/cp", Value: []byte(`{"base":0,"committed":17,"committed_end":5190}`)},
		{Key: k.String() + "/b/000000000017", Value: []byte(`{"start":5190,"end":6190,"done":true}`)},
		{Key: k.String() + "/b/000000000018", Value: []byte(`{"start":6190,"end":7190,"done":true}`)},
		{Key: k.String() + "/b/000000000019", Value: []byte(`{"start":7190,"end":7501}`)},
	}
	const want = "base 0, committed 19 to 7190, next 20 at 7501, pending [19[7190,7501)], lost [] (0 offsets)"
	check := func(t *testing.T, l kvlog.Log, s interface {
		ledger.Store
		ledger.Reader
	}) {
		w, err := l.Writer(ctx, "by-hand")
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(ctx, records...)
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if st, err := s.Read(ctx, k); err != nil || describe(st) != want {
			t.Fatalf("read: %s, %v; want %s", describe(st), err, want)
		}
		lw, st, err := s.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer lw.Close()
		if describe(st) != want {
			t.Errorf("open: %s; want %s", describe(st), want)
		}
		if err := l.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		var live []string
		l.Scan(ctx, k.String()+"/", func(key string, v []byte) error {
			live = append(live, strings.TrimPrefix(key, k.String()+"/")+"="+string(v))
			return nil
		})
		if got := strings.Join(live, " "); got != `b/000000000019={"start":7190,"end":7501} cp={"base":0,"committed":19,"committed_end":7190}` {
			t.Errorf("records after the open: %s", got)
		}
		if err := lw.Commit(ctx, 19); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("kafka", func(t *testing.T) {
		s, err := ledger.NewKafkaStore([]string{brokers}, topic) // creates the topic
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		l, err := kvlog.OpenKafka(ctx, kvlog.DefaultKafkaConfig([]string{brokers}, topic))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		check(t, l, s)
	})
	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		s, err := ledger.NewFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		l, err := kvlog.OpenFile(filepath.Join(dir, k.Topology, k.Spout, k.Topic, "1"))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		check(t, l, s)
	})
}
