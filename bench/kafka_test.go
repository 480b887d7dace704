package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

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

var (
	kafkaOnce  sync.Once
	kafkaTopic string
	kafkaErr   error
)

func benchSarama() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Consumer.Fetch.Default = 4 << 20
	return c
}

// kafkaBenchTopic produces the records once per run, outside the timers.
func kafkaBenchTopic(b *testing.B) (brokers, topic string) {
	brokers = os.Getenv("GALE_KAFKA_BROKERS")
	if brokers == "" {
		b.Skip("GALE_KAFKA_BROKERS is not set: start Kafka with testenv/testenv up kafka")
	}
	kafkaOnce.Do(func() {
		kafkaTopic = fmt.Sprintf("gale-bench-%d", time.Now().UnixNano())
		admin, err := sarama.NewClusterAdmin([]string{brokers}, benchSarama())
		if err != nil {
			kafkaErr = err
			return
		}
		defer admin.Close()
		if kafkaErr = admin.CreateTopic(kafkaTopic, &sarama.TopicDetail{NumPartitions: kafkaPartitions, ReplicationFactor: 1}, false); kafkaErr != nil {
			return
		}
		prod, err := sarama.NewSyncProducer([]string{brokers}, benchSarama())
		if err != nil {
			kafkaErr = err
			return
		}
		defer prod.Close()
		value := make([]byte, kafkaValueSize)
		for i := range value {
			value[i] = 'a' + byte(i%26)
		}
		batch := make([]*sarama.ProducerMessage, 0, 2000)
		for i := range kafkaRecords {
			batch = append(batch, &sarama.ProducerMessage{Topic: kafkaTopic, Partition: int32(i % kafkaPartitions),
				Value: sarama.ByteEncoder(value)})
			if len(batch) == cap(batch) || i == kafkaRecords-1 {
				if kafkaErr = prod.SendMessages(batch); kafkaErr != nil {
					return
				}
				batch = batch[:0]
			}
		}
	})
	if kafkaErr != nil {
		b.Fatal(kafkaErr)
	}
	return brokers, kafkaTopic
}

// deleteKafkaBenchTopic deletes the topic kafkaBenchTopic made, if any.
func deleteKafkaBenchTopic() {
	if kafkaTopic == "" {
		return
	}
	admin, err := sarama.NewClusterAdmin([]string{os.Getenv("GALE_KAFKA_BROKERS")}, benchSarama())
	if err != nil {
		fmt.Fprintf(os.Stderr, "delete topic %s: %v\n", kafkaTopic, err)
		return
	}
	defer admin.Close()
	if err := admin.DeleteTopic(kafkaTopic); err != nil {
		fmt.Fprintf(os.Stderr, "delete topic %s: %v\n", kafkaTopic, err)
	}
}

// BenchmarkKafka reads the same topic of 500k records of 100 bytes twice
// in one run: with a bare sarama consumer (the baseline), and through
// Gale's kafka spout (batches planned in the file ledger, acking on) into a
// bolt that acks. One iteration reads the whole topic.
func BenchmarkKafka(b *testing.B) {
	brokers, topic := kafkaBenchTopic(b)
	b.Run("bare-sarama-consumer", func(b *testing.B) { readAll(b, bareConsume, brokers, topic) })
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
			want := int64(kafkaRecords / kafkaPartitions)
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

func galeConsume(b *testing.B, brokers, topic string) int64 {
	return galeConsumeWith(b, brokers, topic, 2000, map[string]any{"dir": b.TempDir()})
}

// galeConsumeWith is galeConsume with batches of records records and the
// spout's ledger config.
func galeConsumeWith(b *testing.B, brokers, topic string, records int, ledgerCfg map[string]any) int64 {
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
		"deserializer": "raw", "batch": map[string]any{"records": records, "time": "100ms"},
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
