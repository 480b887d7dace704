package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

const (
	kafkaRecords    = 500000
	kafkaPartitions = 4
	kafkaValueSize  = 100
)

// The topics of this run, by their number of records: each is produced
// once, outside the timers, and deleted at the end (see TestMain).
var (
	kafkaTopicsMu sync.Mutex
	kafkaTopics   = map[int]string{}
)

func benchSarama() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Consumer.Fetch.Default = 4 << 20
	return c
}

// kafkaBenchTopic is the topic of kafkaRecords records.
func kafkaBenchTopic(b *testing.B) (brokers, topic string) {
	return kafkaTopicOf(b, kafkaRecords)
}

// kafkaTopicOf returns a topic of records records of kafkaValueSize bytes
// over kafkaPartitions partitions (as many in each), produced once per run.
func kafkaTopicOf(b *testing.B, records int) (brokers, topic string) {
	brokers = os.Getenv("GALE_KAFKA_BROKERS")
	if brokers == "" {
		b.Skip("GALE_KAFKA_BROKERS is not set: start Kafka with testenv/testenv up kafka")
	}
	kafkaTopicsMu.Lock()
	defer kafkaTopicsMu.Unlock()
	if t, ok := kafkaTopics[records]; ok {
		return brokers, t
	}
	topic = fmt.Sprintf("gale-bench-%d-%d", records, time.Now().UnixNano())
	if err := produceBenchTopic(brokers, topic, records); err != nil {
		b.Fatal(err)
	}
	kafkaTopics[records] = topic
	return brokers, topic
}

func produceBenchTopic(brokers, topic string, records int) error {
	admin, err := sarama.NewClusterAdmin([]string{brokers}, benchSarama())
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: kafkaPartitions, ReplicationFactor: 1}, false); err != nil {
		return err
	}
	prod, err := sarama.NewSyncProducer([]string{brokers}, benchSarama())
	if err != nil {
		return err
	}
	defer prod.Close()
	value := make([]byte, kafkaValueSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	batch := make([]*sarama.ProducerMessage, 0, 2000)
	for i := range records {
		batch = append(batch, &sarama.ProducerMessage{Topic: topic, Partition: int32(i % kafkaPartitions),
			Value: sarama.ByteEncoder(value)})
		if len(batch) == cap(batch) || i == records-1 {
			if err := prod.SendMessages(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

// deleteKafkaBenchTopic deletes the topics kafkaTopicOf made.
func deleteKafkaBenchTopic() {
	kafkaTopicsMu.Lock()
	defer kafkaTopicsMu.Unlock()
	if len(kafkaTopics) == 0 {
		return
	}
	admin, err := sarama.NewClusterAdmin([]string{os.Getenv("GALE_KAFKA_BROKERS")}, benchSarama())
	if err != nil {
		fmt.Fprintf(os.Stderr, "delete bench topics: %v\n", err)
		return
	}
	defer admin.Close()
	for _, t := range kafkaTopics {
		if err := admin.DeleteTopic(t); err != nil {
			fmt.Fprintf(os.Stderr, "delete topic %s: %v\n", t, err)
		}
	}
}

// BenchmarkKafka reads the same topic of 500k records of 100 bytes three
// times in one run: with a bare sarama consumer (the baseline), a bare
// franz-go client (the other Go client's ceiling), and through
// Gale's kafka spout (batches planned in the file ledger, acking on) into a
// bolt that acks. One iteration reads the whole topic.
func BenchmarkKafka(b *testing.B) {
	brokers, topic := kafkaBenchTopic(b)
	b.Run("bare-sarama-consumer", func(b *testing.B) { readAll(b, bareConsume, brokers, topic) })
	b.Run("bare-franz-go-consumer", func(b *testing.B) { readAll(b, franzConsume, brokers, topic) })
	b.Run("gale-kafka-spout", func(b *testing.B) { readAll(b, galeConsume, brokers, topic) })
}

// readAll reads the topic b.N times and reports the rate over all of them.
func readAll(b *testing.B, read func(*testing.B, string, string) int64, brokers, topic string) {
	var total int64
	start := time.Now()
	for range b.N {
		if n := read(b, brokers, topic); n != kafkaRecords {
			b.Fatalf("read %d records, want %d", n, kafkaRecords)
		}
		total += kafkaRecords
	}
	d := time.Since(start)
	b.ReportMetric(float64(total)/d.Seconds(), "records/s")
	b.ReportMetric(float64(total*kafkaValueSize)/d.Seconds()/1e6, "MB/s")
}

func bareConsume(b *testing.B, brokers, topic string) int64 {
	return bareConsumeN(b, brokers, topic, kafkaRecords)
}

// bareConsumeN reads a topic of records records (kafkaTopicOf's) with a
// bare sarama consumer and returns how many it read.
func bareConsumeN(b *testing.B, brokers, topic string, records int) int64 {
	c, err := sarama.NewConsumer([]string{brokers}, benchSarama())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var total int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for p := range int32(kafkaPartitions) {
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.Close()
			want := int64(records / kafkaPartitions)
			var n int64
			for m := range pc.Messages() {
				n++
				if m.Offset >= want-1 {
					break
				}
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

// franzConsume reads the topic of kafkaRecords records with a bare
// franz-go client (direct partition consuming, no group), the other Go
// Kafka client, to show the ceiling of each client on this workload.
func franzConsume(b *testing.B, brokers, topic string) int64 {
	parts := map[int32]kgo.Offset{}
	for p := range int32(kafkaPartitions) {
		parts[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchMaxPartitionBytes(4<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var n int64
	for n < kafkaRecords {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			b.Fatalf("after %d records: %v", n, err)
		}
		fs.EachError(func(t string, p int32, err error) { b.Fatalf("fetch %s/%d: %v", t, p, err) })
		n += int64(fs.NumRecords())
	}
	return n
}

func galeConsume(b *testing.B, brokers, topic string) int64 {
	return galeConsumeWith(b, brokers, topic, map[string]any{"records": 2000, "time": "100ms"}, map[string]any{"dir": b.TempDir()})
}

// galeConsumeWith is galeConsume with the spout's batch limits and ledger
// config.
func galeConsumeWith(b *testing.B, brokers, topic string, batch, ledgerCfg map[string]any) int64 {
	reg := registry.New()
	reg.MustRegister(kafkaspout.Type())
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "noop",
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(context.Context, *tuple.Tuple, bolt.BasicCollector) error { return nil })), nil
		},
	})
	tb := topology.NewBuilder("bench-kafka")
	tb.SetConfig("topology.max.spout.pending", 100000)
	tb.Spout("kafka", kafkaspout.TypeName, 2).Config(map[string]any{
		"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		"deserializer": "raw", "batch": batch,
		"max_pending_batches": 8, "ledger": ledgerCfg,
	})
	tb.Bolt("noop", "noop", 2).ShuffleGrouping("kafka")
	topo, err := tb.Build(reg)
	if err != nil {
		b.Fatal(err)
	}
	rt, err := local.New(topo, local.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := rt.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	// the spout acks batches (one tuple tree each): count records at the bolt
	return int64(rt.Stats().Component("noop").Executed)
}
