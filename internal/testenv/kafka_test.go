package testenv

// Integration tests against the real Kafka that `testenv/testenv up kafka` starts
// (GALE_KAFKA_BROKERS). They check what Gale relies on: ordered produce/consume on a
// partition, and transactions (commit visible, abort invisible to read_committed).

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// kafkaConfig is the client configuration the tests share.
func kafkaConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "gale-testenv-test"
	c.Version = sarama.V4_0_0_0
	c.Net.DialTimeout = 5 * time.Second
	c.Net.ReadTimeout = 10 * time.Second
	c.Net.WriteTimeout = 10 * time.Second
	c.Metadata.Retry.Max = 10
	c.Metadata.Retry.Backoff = 200 * time.Millisecond
	c.Producer.Return.Successes = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Timeout = 10 * time.Second
	c.Consumer.Return.Errors = true
	c.Consumer.MaxWaitTime = 100 * time.Millisecond
	return c
}

// uniqueName returns a topic/index/id name unique to this run.
func uniqueName(kind string) string {
	return fmt.Sprintf("gale-it-%s-%d", kind, time.Now().UnixNano())
}

// createTopic creates a one-partition topic and deletes it when the test ends.
func createTopic(t *testing.T, brokers []string) string {
	t.Helper()
	topic := uniqueName(strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	admin, err := sarama.NewClusterAdmin(brokers, kafkaConfig())
	if err != nil {
		t.Fatalf("cluster admin on %v: %v", brokers, err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	t.Cleanup(func() {
		if err := admin.DeleteTopic(topic); err != nil {
			t.Errorf("delete topic %s: %v", topic, err)
		}
	})
	return topic
}

// consume reads exactly n messages of partition 0 from the oldest offset, failing the test
// when they do not all arrive within timeout.
func consume(t *testing.T, brokers []string, cfg *sarama.Config, topic string, n int, timeout time.Duration) []*sarama.ConsumerMessage {
	t.Helper()
	consumer, err := sarama.NewConsumer(brokers, cfg)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatalf("consume %s/0: %v", topic, err)
	}
	defer pc.Close()
	var got []*sarama.ConsumerMessage
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case m := <-pc.Messages():
			got = append(got, m)
		case err := <-pc.Errors():
			t.Fatalf("consuming %s: %v", topic, err)
		case <-deadline:
			t.Fatalf("consuming %s: got %d of %d messages after %v", topic, len(got), n, timeout)
		}
	}
	// Nothing more may follow.
	select {
	case m := <-pc.Messages():
		t.Fatalf("consuming %s: unexpected extra message at offset %d: %q", topic, m.Offset, m.Value)
	case <-time.After(500 * time.Millisecond):
	}
	return got
}

func TestKafkaProduceConsume(t *testing.T) {
	brokers := strings.Split(KafkaBrokers(t), ",")
	topic := createTopic(t, brokers)
	const n = 1000

	producer, err := sarama.NewSyncProducer(brokers, kafkaConfig())
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	defer producer.Close()
	msgs := make([]*sarama.ProducerMessage, n)
	for i := range msgs {
		msgs[i] = &sarama.ProducerMessage{
			Topic:   topic,
			Key:     sarama.StringEncoder(fmt.Sprintf("key-%04d", i)),
			Value:   sarama.StringEncoder(fmt.Sprintf("value-%04d-%s", i, topic)),
			Headers: []sarama.RecordHeader{{Key: []byte("seq"), Value: []byte(fmt.Sprint(i))}},
		}
	}
	// Half one by one (offsets must be consecutive), half in one batch.
	for i := 0; i < n/2; i++ {
		p, off, err := producer.SendMessage(msgs[i])
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if p != 0 || off != int64(i) {
			t.Fatalf("send %d: landed at partition %d offset %d, want 0/%d", i, p, off, i)
		}
	}
	if err := producer.SendMessages(msgs[n/2:]); err != nil {
		t.Fatalf("send batch: %v", err)
	}

	got := consume(t, brokers, kafkaConfig(), topic, n, 30*time.Second)
	for i, m := range got {
		wantKey, wantVal := fmt.Sprintf("key-%04d", i), fmt.Sprintf("value-%04d-%s", i, topic)
		if m.Offset != int64(i) || string(m.Key) != wantKey || string(m.Value) != wantVal {
			t.Fatalf("message %d: offset %d key %q value %q, want offset %d key %q value %q",
				i, m.Offset, m.Key, m.Value, i, wantKey, wantVal)
		}
		if len(m.Headers) != 1 || string(m.Headers[0].Key) != "seq" || string(m.Headers[0].Value) != fmt.Sprint(i) {
			t.Fatalf("message %d: headers %v", i, m.Headers)
		}
	}
}

func TestKafkaTransactions(t *testing.T) {
	brokers := strings.Split(KafkaBrokers(t), ",")
	topic := createTopic(t, brokers)

	cfg := kafkaConfig()
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Transaction.ID = uniqueName("txn")
	cfg.Producer.Transaction.Timeout = 10 * time.Second
	// The first transactional producer of a fresh broker creates __transaction_state: allow
	// for the coordinator to come up.
	cfg.Producer.Transaction.Retry.Max = 50
	cfg.Producer.Transaction.Retry.Backoff = 200 * time.Millisecond
	producer, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		t.Fatalf("transactional producer: %v", err)
	}
	defer producer.Close()
	if !producer.IsTransactional() {
		t.Fatal("producer is not transactional")
	}

	txn := func(value string, commit bool) {
		t.Helper()
		if err := producer.BeginTxn(); err != nil {
			t.Fatalf("begin (%s): %v", value, err)
		}
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(value)}); err != nil {
			t.Fatalf("send (%s): %v", value, err)
		}
		if commit {
			err = producer.CommitTxn()
		} else {
			err = producer.AbortTxn()
		}
		if err != nil {
			t.Fatalf("end (%s, commit=%v): %v", value, commit, err)
		}
		if producer.TxnStatus()&sarama.ProducerTxnFlagReady == 0 {
			t.Fatalf("after %s the producer is not ready: status %v", value, producer.TxnStatus())
		}
	}
	txn("committed-1", true)
	txn("aborted", false)
	txn("committed-2", true) // lets read_committed read past the aborted one

	values := func(ms []*sarama.ConsumerMessage) []string {
		var vs []string
		for _, m := range ms {
			vs = append(vs, string(m.Value))
		}
		return vs
	}

	// read_uncommitted sees all three: the aborted record really reached the log...
	uncommitted := values(consume(t, brokers, kafkaConfig(), topic, 3, 30*time.Second))
	if want := []string{"committed-1", "aborted", "committed-2"}; !slices.Equal(uncommitted, want) {
		t.Fatalf("read_uncommitted: got %q, want %q", uncommitted, want)
	}
	// ...and read_committed never sees it.
	rc := kafkaConfig()
	rc.Consumer.IsolationLevel = sarama.ReadCommitted
	committed := values(consume(t, brokers, rc, topic, 2, 30*time.Second))
	if want := []string{"committed-1", "committed-2"}; !slices.Equal(committed, want) {
		t.Fatalf("read_committed: got %q, want %q", committed, want)
	}
}
