package kvlog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/kvlog"
	"github.com/gale-stream/gale/internal/kvlog/kvlogtest"
	"github.com/gale-stream/gale/internal/testenv"
)

var topicSeq atomic.Int64

// kafkaBackend is a fresh topic on the testenv Kafka, deleted at the end
// of the test.
func kafkaBackend(t *testing.T, tune ...func(*kvlog.KafkaConfig)) kvlogtest.Backend {
	brokers := testenv.KafkaBrokers(t)
	topic := fmt.Sprintf("gale-kvlog-test-%d-%d", time.Now().UnixNano(), topicSeq.Add(1))
	t.Cleanup(func() { deleteTopic(brokers, topic) })
	return kvlogtest.Backend{
		Open: func(t *testing.T) kvlog.Log {
			cfg := kvlog.DefaultKafkaConfig([]string{brokers}, topic)
			cfg.Timeout = 10 * time.Second
			for _, f := range tune {
				f(&cfg)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			l, err := kvlog.OpenKafka(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		Destroy: func(t *testing.T) {
			if err := deleteTopic(brokers, topic); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func admin(brokers string) (sarama.ClusterAdmin, error) {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	return sarama.NewClusterAdmin([]string{brokers}, c)
}

func deleteTopic(brokers, topic string) error {
	a, err := admin(brokers)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.DeleteTopic(topic); err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		return err
	}
	return nil
}

func TestKafkaLog_Conformance(t *testing.T) {
	kvlogtest.Run(t, func(t *testing.T) kvlogtest.Backend { return kafkaBackend(t) })
}

// TestKafkaLog_FencedWrapsCause: the ErrFenced of a fenced writer wraps
// the broker's answer.
func TestKafkaLog_FencedWrapsCause(t *testing.T) {
	b := kafkaBackend(t)
	l := b.Open(t)
	defer l.Close()
	ctx := context.Background()
	old, err := l.Writer(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	nw, err := l.Writer(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	err = old.Write(ctx, kvlog.Record{Key: "k", Value: []byte("x")})
	if !errors.Is(err, kvlog.ErrFenced) {
		t.Fatalf("fenced writer: %v, want ErrFenced", err)
	}
	if !errors.Is(err, sarama.ErrProducerFenced) && !errors.Is(err, sarama.ErrInvalidProducerEpoch) {
		t.Errorf("fenced writer: %v, want it to wrap sarama's ErrProducerFenced or ErrInvalidProducerEpoch", err)
	}
}

// TestKafkaLog_RefusesBadTopics: an existing topic that does not compact,
// or has several partitions, is refused with an error that says why.
func TestKafkaLog_RefusesBadTopics(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	a, err := admin(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	del, parts := "delete", int32(1)
	for _, tc := range []struct {
		name   string
		detail sarama.TopicDetail
		want   string
	}{
		{"deleting", sarama.TopicDetail{NumPartitions: parts, ReplicationFactor: 1,
			ConfigEntries: map[string]*string{"cleanup.policy": &del}}, "cleanup.policy=delete, want compact"},
		{"partitioned", sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, "has 3 partitions, want 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := fmt.Sprintf("gale-kvlog-bad-%s-%d", tc.name, time.Now().UnixNano())
			if err := a.CreateTopic(topic, &tc.detail, false); err != nil {
				t.Fatal(err)
			}
			defer deleteTopic(brokers, topic)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			l, err := kvlog.OpenKafka(ctx, kvlog.DefaultKafkaConfig([]string{brokers}, topic))
			if err == nil {
				l.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), topic) {
				t.Errorf("error %q, want it to name the topic and say %q", err, tc.want)
			}
		})
	}
}

// TestKafkaLog_CreatesCompactingTopic: the topic the log creates compacts,
// quickly.
func TestKafkaLog_CreatesCompactingTopic(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	b := kafkaBackend(t)
	l := b.Open(t)
	defer l.Close()
	topic := l.(*kvlog.KafkaLog).Topic()
	a, err := admin(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	entries, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Name] = e.Value
	}
	want := map[string]string{"cleanup.policy": "compact", "segment.ms": "600000",
		"min.cleanable.dirty.ratio": "0.1", "delete.retention.ms": "600000",
		"max.compaction.lag.ms": "3600000"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
}

// TestKafkaLog_CompactionBoundsTheTopic writes 100,000 batches the way the
// ledger does (a plan, then a commit that tombstones it and moves the
// checkpoint) to a topic compacting quickly, waits for Kafka's cleaner,
// and counts the records Kafka itself still holds: about the live keys,
// not the history.
func TestKafkaLog_CompactionBoundsTheTopic(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short")
	}
	const partitions, batches = 4, 100_000
	b := kafkaBackend(t, func(c *kvlog.KafkaConfig) {
		c.SegmentTime = 2 * time.Second
		c.DirtyRatio = 0.01
		c.TombstoneRetention = time.Second
		c.MaxCompactionLag = time.Second
	})
	l := b.Open(t)
	defer l.Close()
	topic := l.(*kvlog.KafkaLog).Topic()
	ctx := context.Background()
	w, err := l.Writer(ctx, "bench")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// 1,000 transactions of 100 batches each, spread over 4 partitions:
	// the records are the ledger's, the transactions fewer to keep the
	// test short
	const perTxn = 100
	for first := 0; first < batches; first += perTxn {
		var recs []kvlog.Record
		for seq := first; seq < first+perTxn; seq++ {
			p := seq % partitions
			plan := fmt.Sprintf("t/s/events/%d/plan/%012d", p, seq)
			recs = append(recs, kvlog.Record{Key: plan, Value: []byte(`{"start":0,"end":500}`)},
				kvlog.Record{Key: plan},
				kvlog.Record{Key: fmt.Sprintf("t/s/events/%d/cp", p), Value: []byte(fmt.Sprintf(`{"committed":%d}`, seq))})
		}
		if err := w.Write(ctx, recs...); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	written := int64(3 * batches)
	// roll the last segment and let the cleaner run: wait until Kafka
	// holds about the live keys
	brokers := testenv.KafkaBrokers(t)
	var held int64
	deadline := time.Now().Add(3 * time.Minute)
	for {
		// a write rolls the active segment once segment.ms has passed
		time.Sleep(3 * time.Second)
		w, err := l.Writer(ctx, "roller")
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(ctx, kvlog.Record{Key: "roll", Value: []byte(time.Now().String())})
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		held = countRecords(t, brokers, topic)
		t.Logf("%d records written, Kafka holds %d", written, held)
		if held < 1000 || time.Now().After(deadline) {
			break
		}
	}
	// live: 4 checkpoints, "roll"; plus the transaction markers, barriers
	// and what the active segment holds
	if held >= 1000 {
		t.Fatalf("after compaction Kafka still holds %d of %d records, want about the %d live keys", held, written, partitions+1)
	}
	// and a new log reads them back
	l2 := b.Open(t)
	defer l2.Close()
	for p := range partitions {
		kvlogtest.Equal(t, l2, fmt.Sprintf("t/s/events/%d/cp", p), fmt.Sprintf(`{"committed":%d}`, batches-partitions+p))
	}
	if got := kvlogtest.Keys(t, l2, "t/"); len(got) != partitions {
		t.Errorf("live keys: %d, want %d", len(got), partitions)
	}
}

// countRecords counts the records (and markers) Kafka holds in partition 0
// of topic: the newest offset minus the records consumed from the oldest.
func countRecords(t *testing.T, brokers, topic string) int64 {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Consumer.IsolationLevel = sarama.ReadUncommitted
	cons, err := sarama.NewConsumer([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	client, err := sarama.NewClient([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	end, err := client.GetOffset(topic, 0, sarama.OffsetNewest)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := cons.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var n int64
	for {
		select {
		case m := <-pc.Messages():
			n++
			if m.Offset >= end-1 {
				return n
			}
		case <-time.After(5 * time.Second):
			return n // markers end the partition: no more records
		}
	}
}

// TestKafkaLog_CloseWhileReading: Get and Scan running while the log
// closes end with ErrClosed, not in a race with the view's shutdown (run
// with -race).
func TestKafkaLog_CloseWhileReading(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := fmt.Sprintf("gale-kvlog-closing-%d", time.Now().UnixNano())
	defer deleteTopic(brokers, topic)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := kvlog.OpenKafka(ctx, kvlog.DefaultKafkaConfig([]string{brokers}, topic))
	if err != nil {
		t.Fatal(err)
	}
	w, err := l.Writer(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, kvlog.Record{Key: "a", Value: []byte("1")}, kvlog.Record{Key: "b", Value: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	errs := make(chan error, 4)
	var reads atomic.Int64
	for i := range 4 {
		go func() {
			for {
				var err error
				if i%2 == 0 {
					_, err = l.Get(ctx, "a")
				} else {
					err = l.Scan(ctx, "", func(string, []byte) error { return nil })
				}
				if err != nil {
					errs <- err
					return
				}
				reads.Add(1)
			}
		}()
	}
	for reads.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := <-errs; !errors.Is(err, kvlog.ErrClosed) {
			t.Errorf("a read during Close: %v, want ErrClosed", err)
		}
	}
}

// TestKafkaLog_LazyOpenFencesBeforeReading: a writer died in the middle of
// a transaction, which holds every read_committed reader of the topic. A
// log opened as usual cannot read the topic (its read barrier stalls); a
// Lazy one opens at once, and its Writer for the dead writer's owner
// aborts the transaction before it reads: the view goes on, without the
// dead write.
func TestKafkaLog_LazyOpenFencesBeforeReading(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := fmt.Sprintf("gale-kvlog-test-lazy-%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(brokers, topic) })
	ctx := context.Background()
	open := func(lazy bool, timeout time.Duration) (*kvlog.KafkaLog, error) {
		cfg := kvlog.DefaultKafkaConfig([]string{brokers}, topic)
		cfg.Timeout, cfg.Lazy = timeout, lazy
		return kvlog.OpenKafka(ctx, cfg)
	}
	l, err := open(false, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	w, err := l.Writer(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	l.Close()

	// the owner's next writer dies in a transaction that would stay open
	// two minutes
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Idempotent, c.Producer.RequiredAcks, c.Net.MaxOpenRequests = true, sarama.WaitForAll, 1
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.Transaction.ID = kvlog.DefaultKafkaConfig(nil, topic).TransactionalIDPrefix + "o"
	c.Producer.Transaction.Timeout = 2 * time.Minute
	dead, err := sarama.NewSyncProducer([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	if err := dead.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dead.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("k"), Value: sarama.StringEncoder("dead")}); err != nil {
		t.Fatal(err)
	}

	if l, err := open(false, 3*time.Second); !errors.Is(err, kvlog.ErrStalled) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("open behind the dead transaction: %v, want ErrStalled", err)
	}
	l, err = open(true, 30*time.Second)
	if err != nil {
		t.Fatalf("lazy open: %v", err)
	}
	defer l.Close()
	w, err = l.Writer(ctx, "o")
	if err != nil {
		t.Fatalf("the owner's writer behind the dead transaction: %v", err)
	}
	defer w.Close()
	if v, err := l.Get(ctx, "k"); err != nil || string(v) != "v1" {
		t.Errorf("k = %q, %v; want the committed v1, not the dead write", v, err)
	}
	if err := w.Write(ctx, kvlog.Record{Key: "k", Value: []byte("v2")}); err != nil {
		t.Fatal(err)
	}
	if v, err := l.Get(ctx, "k"); err != nil || string(v) != "v2" {
		t.Errorf("k = %q, %v after a write; want v2", v, err)
	}
}
