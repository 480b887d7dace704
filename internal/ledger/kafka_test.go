package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"

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
