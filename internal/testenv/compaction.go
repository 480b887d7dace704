package testenv

// Helpers for tests and benchmarks of compacted one-partition topics (the
// kvlog topics of the batch ledger and the cluster store): count what
// Kafka holds, and make it compact within minutes.

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

func kafkaAdminConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	return c
}

// TopicFigures is what Kafka says of a one-partition topic (a kvlog's).
type TopicFigures struct {
	Records     int64 // records a consumer reads from the log start to the high watermark
	Start, End  int64 // log start offset, high watermark
	Bytes       int64 // size on disk (DescribeLogDirs)
	ReadSeconds float64
}

func (f TopicFigures) String() string {
	return fmt.Sprintf("%d records in offsets [%d, %d), %.1f MB on disk", f.Records, f.Start, f.End, float64(f.Bytes)/1e6)
}

// KafkaLogBytes is the partition's size on disk, from the brokers' log dirs.
func KafkaLogBytes(tb testing.TB, brokers, topic string) int64 {
	admin, err := sarama.NewClusterAdmin([]string{brokers}, kafkaAdminConfig())
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	client, err := sarama.NewClient([]string{brokers}, kafkaAdminConfig())
	if err != nil {
		tb.Fatal(err)
	}
	defer client.Close()
	var ids []int32
	for _, br := range client.Brokers() {
		ids = append(ids, br.ID())
	}
	dirs, err := admin.DescribeLogDirs(ids)
	if err != nil {
		tb.Fatal(err)
	}
	var n int64
	for _, ds := range dirs {
		for _, d := range ds {
			for _, t := range d.Topics {
				if t.Topic == topic {
					for _, p := range t.Partitions {
						n += p.Size
					}
				}
			}
		}
	}
	return n
}

// CountRecords reads the whole topic (read_uncommitted, so aborted
// records count too; transaction markers are not records) and measures
// its offsets and size.
func CountRecords(tb testing.TB, brokers, topic string) TopicFigures {
	client, err := sarama.NewClient([]string{brokers}, kafkaAdminConfig())
	if err != nil {
		tb.Fatal(err)
	}
	defer client.Close()
	var f TopicFigures
	if f.Start, err = client.GetOffset(topic, 0, sarama.OffsetOldest); err != nil {
		tb.Fatal(err)
	}
	if f.End, err = client.GetOffset(topic, 0, sarama.OffsetNewest); err != nil {
		tb.Fatal(err)
	}
	f.Bytes = KafkaLogBytes(tb, brokers, topic)
	c, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		tb.Fatal(err)
	}
	defer pc.Close()
	t0 := time.Now()
	// the last offsets may be transaction markers, which are not
	// delivered: stop at the last record before the end, seen when no
	// message comes for a while
	for f.Start < f.End {
		select {
		case m := <-pc.Messages():
			f.Records++
			if m.Offset >= f.End-1 {
				f.ReadSeconds = time.Since(t0).Seconds()
				return f
			}
		case err := <-pc.Errors():
			tb.Fatal(err)
		case <-time.After(3 * time.Second):
			f.ReadSeconds = time.Since(t0).Seconds() - 3
			return f
		}
	}
	return f
}

// HoldCompaction keeps Kafka from cleaning the history while it is
// written (min.compaction.lag.ms: a day, and max.compaction.lag.ms two),
// so that the records before compaction can be counted and the open of an
// uncompacted topic timed.
func HoldCompaction(tb testing.TB, brokers, topic string) {
	AlterTopic(tb, brokers, topic, map[string]string{"min.compaction.lag.ms": strconv.Itoa(24 * 3600 * 1000),
		"max.compaction.lag.ms": strconv.Itoa(48 * 3600 * 1000)})
}

// ReleaseCompaction lets Kafka compact the topic kvlog created, with its
// timers (10 min segments, tombstones kept 10 min, forced compaction after
// 1 h) shortened so that it happens within the benchmark: segments roll
// every 20 s (or 64 MiB), tombstones go 20 s after their segment was
// cleaned, and a segment is cleaned at the latest 30 s after it was
// written. The dirty ratio stays kvlog's (0.1).
func ReleaseCompaction(tb testing.TB, brokers, topic string) {
	AlterTopic(tb, brokers, topic, map[string]string{
		"min.compaction.lag.ms": "0",
		"segment.ms":            "20000",
		"segment.bytes":         strconv.Itoa(64 << 20),
		"delete.retention.ms":   "20000",
		"max.compaction.lag.ms": "30000",
	})
}

func AlterTopic(tb testing.TB, brokers, topic string, config map[string]string) {
	admin, err := sarama.NewClusterAdmin([]string{brokers}, kafkaAdminConfig())
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	entries := map[string]sarama.IncrementalAlterConfigsEntry{}
	for k, v := range config {
		entries[k] = sarama.IncrementalAlterConfigsEntry{Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &v}
	}
	if err := admin.IncrementalAlterConfig(sarama.TopicResource, topic, entries, false); err != nil {
		tb.Fatal(err)
	}
}

// WaitCompacted waits until the topic's size on disk has fallen to less
// than half and then stayed within 1 MB for 90 s (the cleaner went
// through the history and, 20 s later, through its tombstones), or for at
// most d, writing a record every 5 s so that the active segment rolls
// (segment.ms counts from a segment's first record and is checked on
// append); then it counts the records.
func WaitCompacted(tb testing.TB, brokers, topic string, before TopicFigures, d time.Duration, logf func(format string, args ...any)) TopicFigures {
	prod, err := sarama.NewSyncProducer([]string{brokers}, kafkaAdminConfig())
	if err != nil {
		tb.Fatal(err)
	}
	defer prod.Close()
	deadline := time.Now().Add(d)
	t0 := time.Now()
	last, stable := before.Bytes, 0
	for time.Now().Before(deadline) && stable < 18 {
		// a tombstone of a key the ledger's view ignores (NUL-prefixed)
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: 0,
			Key: sarama.StringEncoder("\x00bench-roll")}); err != nil {
			tb.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		n := KafkaLogBytes(tb, brokers, topic)
		switch {
		case n < last-1<<20:
			logf("compacting: %.1f MB on disk after %v", float64(n)/1e6, time.Since(t0).Round(time.Second))
			stable, last = 0, n
		case n < before.Bytes/2:
			stable++
		}
	}
	logf("waited %v for compaction", time.Since(t0).Round(time.Second))
	return CountRecords(tb, brokers, topic)
}
