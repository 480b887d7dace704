package ledger_test

import (
	"context"
	"errors"
	"fmt"
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
