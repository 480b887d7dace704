package kafkasink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
	"github.com/gale-stream/gale/tuple"
)

// readCommitted reads every record of topic as a read_committed consumer:
// key -> values in order of appearance.
func readCommitted(t testing.TB, brokers, topic string) map[string][]string {
	t.Helper()
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Consumer.IsolationLevel = sarama.ReadCommitted
	client, err := sarama.NewClient([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, p := range parts {
		hwm, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			t.Fatal(err)
		}
		if hwm == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
	read:
		for {
			select {
			case m := <-pc.Messages():
				out[string(m.Key)] = append(out[string(m.Key)], string(m.Value))
				if m.Offset >= hwm-1 {
					break read
				}
			case <-time.After(2 * time.Second): // the tail is transaction markers
				break read
			}
		}
		pc.Close()
	}
	return out
}

// src is the source topic of the test's batches: the sink commits its
// offsets, and Kafka accepts offsets only for topics that exist.
var src string

func newSource(t *testing.T, brokers string) {
	t.Helper()
	src = fmt.Sprintf("gale-kafka-sink-src-%d", time.Now().UnixNano())
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	admin, err := sarama.NewClusterAdmin([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(src, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
}

func batch(seq uint64, n int) *sinks.Batch {
	m := &tuple.BatchMeta{ID: fmt.Sprintf("%s/00000/%012d", src, seq), Source: src, Partition: 0, Seq: seq,
		Start: int64(seq) * int64(n), End: int64(seq+1) * int64(n)}
	b := &sinks.Batch{Topology: "t", Meta: m}
	for i := range n {
		off := int(m.Start) + i
		b.Records = append(b.Records, sinks.Record{ID: fmt.Sprintf("%s/0/%d", src, off), Line: []byte(fmt.Sprintf(`{"n":%d}`, off))})
	}
	return b
}

func newWriter(t *testing.T, brokers, topic string) *Writer {
	t.Helper()
	c := NewConfig()
	c.Brokers, c.Topic, c.Partitions = []string{brokers}, topic, 3
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w, err := c.Open(context.Background(), "t", fmt.Sprintf("out-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestReplaysInvisible: a batch written twice, and batches replayed after
// a later one, are each seen once, by a read_committed consumer.
func TestReplaysInvisible(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := fmt.Sprintf("gale-kafka-sink-%d", time.Now().UnixNano())
	newSource(t, brokers)
	w := newWriter(t, brokers, topic)
	ctx := context.Background()
	waitBefore = 200 * time.Millisecond
	if _, err := w.WriteBatch(ctx, batch(0, 5)); err != nil {
		t.Fatal(err)
	}
	// a replay of batch 0: nothing new
	if n, err := w.WriteBatch(ctx, batch(0, 5)); err != nil || n != 0 {
		t.Fatalf("replay of batch 0: %d bytes, %v", n, err)
	}
	// batch 2 before batch 1: sent back for a replay
	if _, err := w.WriteBatch(ctx, batch(2, 5)); !errors.Is(err, sinks.ErrReplayLater) {
		t.Fatalf("batch 2 before 1: %v, want ErrReplayLater", err)
	}
	for _, seq := range []uint64{1, 2, 1} {
		if _, err := w.WriteBatch(ctx, batch(seq, 5)); err != nil {
			t.Fatal(err)
		}
	}
	// a new writer after a restart (its producers closed and forgotten)
	// reads what was written from the group
	group, comp := w.group, w.comp
	w.Close()
	w2 := newWriter(t, brokers, topic)
	w2.comp, w2.group = comp, group
	if n, err := w2.WriteBatch(ctx, batch(2, 5)); err != nil || n != 0 {
		t.Fatalf("replay of batch 2 by a new writer: %d bytes, %v", n, err)
	}
	got := readCommitted(t, brokers, topic)
	if len(got) != 15 {
		t.Fatalf("%d keys, want 15", len(got))
	}
	for off := range 15 {
		if vs := got[fmt.Sprintf("%s/0/%d", src, off)]; len(vs) != 1 || vs[0] != fmt.Sprintf(`{"n":%d}`, off) {
			t.Errorf("record %d seen as %v", off, vs)
		}
	}
	// the group holds the end of batch 2 with its seq
	resp, err := w2.admin.ListConsumerGroupOffsets(w2.group, map[string][]int32{src: {0}})
	if err != nil {
		t.Fatal(err)
	}
	if blk := resp.GetBlock(src, 0); blk == nil || blk.Offset != 15 || blk.Metadata != "seq=2" {
		t.Errorf("group offsets: %+v", blk)
	}
}

// TestOversizedRecordRejected: a record larger than the producer's limit
// on a message, which no retry could ever produce, is refused by itself
// (for the sink's dead-letter files) while the rest of its batch is
// written; a replay refuses it again and writes nothing twice. Before,
// it failed its batch at every attempt, forever.
func TestOversizedRecordRejected(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := fmt.Sprintf("gale-kafka-sink-big-%d", time.Now().UnixNano())
	newSource(t, brokers)
	w := newWriter(t, brokers, topic)
	ctx := context.Background()
	b := batch(0, 5)
	b.Records[2].Line = bytes.Repeat([]byte("x"), w.maxBytes+1)
	for attempt := range 2 {
		_, rejected, err := w.WriteBatchRejecting(ctx, b)
		if err != nil || len(rejected) != 1 || rejected[0].ID != b.Records[2].ID ||
			!strings.Contains(rejected[0].Error, "larger than the producer's limit") {
			t.Fatalf("write %d: %v, rejected %+v; want the record %s refused", attempt, err, rejected, b.Records[2].ID)
		}
	}
	if _, err := w.WriteBatch(ctx, b); err == nil {
		// WriteBatch (no dead letters to hand them to) fails instead
		t.Error("WriteBatch of a batch with an oversized record succeeded")
	}
	got := readCommitted(t, brokers, topic)
	if len(got) != 4 || got[b.Records[2].ID] != nil {
		t.Fatalf("read %d records (%v), want the 4 others, once", len(got), slices.Collect(maps.Keys(got)))
	}
	for _, r := range slices.Delete(slices.Clone(b.Records), 2, 3) {
		if vs := got[r.ID]; len(vs) != 1 || vs[0] != string(r.Line) {
			t.Errorf("record %s seen as %v", r.ID, vs)
		}
	}
}

func TestMissingTopic(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	c := NewConfig()
	c.Brokers, c.Topic, c.CreateTopic = []string{brokers}, fmt.Sprintf("gale-missing-%d", time.Now().UnixNano()), false
	_, err := c.Open(context.Background(), "t", "out")
	if !errors.Is(err, sinks.ErrConfig) || !strings.Contains(err.Error(), c.Topic) || !strings.Contains(err.Error(), "create_topic") {
		t.Fatalf("missing topic: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, bad := range []func(*Config){
		func(c *Config) { c.Brokers = nil },
		func(c *Config) { c.Topic = "" },
		func(c *Config) { c.Key = "value" },
		func(c *Config) { c.TimePartition = "hour" },
		func(c *Config) { c.Partitions = 0 },
		func(c *Config) { c.Format, c.Schema = sinks.FormatAvro, []byte(sinktest.LineSchema) }, // files, not messages
	} {
		c := NewConfig()
		c.Brokers, c.Topic = []string{"x:1"}, "t"
		bad(c)
		if err := c.Validate(); !errors.Is(err, sinks.ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// TestConformance: the Kafka sink passes the suite every sink passes,
// against the testenv Kafka, each run from a source topic of its own (the
// sink commits the source's offsets) into an output topic of 3 partitions
// of its own, read back by key with a read_committed consumer (the store
// gale verify reads), and by the test's own consumer: every record once.
func TestConformance(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	admin, err := sarama.NewClusterAdmin([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	topic := func(place, what string) string { return "gale-conformance-" + place + "-" + what }
	outer := t // the topics outlive the subtest that makes them (IdempotentRewrite writes again)
	sinktest.Conformance(t, sinktest.Backend[Config]{
		Type: Type(),
		Config: func(t testing.TB, place string) map[string]any {
			return map[string]any{"brokers": []string{brokers}, "topic": topic(place, "out"), "partitions": 3}
		},
		Source: func(t testing.TB, place string) string {
			src := topic(place, "in")
			if err := admin.CreateTopic(src, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil &&
				!errors.Is(err, sarama.ErrTopicAlreadyExists) {
				t.Fatal(err)
			}
			outer.Cleanup(func() { admin.DeleteTopic(src); admin.DeleteTopic(topic(place, "out")) })
			return src
		},
		NoTimePartition: true,
		NoPaths:         true,
		Check: func(t testing.TB, place string, got sinktest.Stored) {
			for id, vs := range readCommitted(t, brokers, topic(place, "out")) {
				if len(vs) != 1 || string(got.Docs[id]) != vs[0] {
					t.Errorf("%s: record %s read %d times (%v), the store has %s", place, id, len(vs), vs, got.Docs[id])
				}
			}
		},
	})
}
