package peers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka is the driver's side of Kafka: topics, groups, and the producers.
type Kafka struct {
	Brokers []string
}

func (k *Kafka) config() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.ClientID = "gale-benchpeers"
	return c
}

// CreateTopic creates topic with partitions partitions (replication 1)
// and waits until every partition's leader answers a ListOffsets request.
func (k *Kafka) CreateTopic(ctx context.Context, topic string, partitions int) error {
	client, err := sarama.NewClient(k.Brokers, k.config())
	if err != nil {
		return fmt.Errorf("kafka %v: %w", k.Brokers, err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return err
	}
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: int32(partitions), ReplicationFactor: 1}, false); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := client.RefreshMetadata(topic); err == nil {
			ps, err := client.Partitions(topic)
			ok := err == nil && len(ps) == partitions
			for _, p := range ps {
				// the leader must answer ListOffsets: right after the
				// creation it may still say NOT_LEADER, which a consumer
				// starting then would meet
				if _, err := client.GetOffset(topic, p, sarama.OffsetOldest); err != nil {
					ok = false
				}
			}
			if ok {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %s: no leader for every partition after 30 s", topic)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// DeleteTopicsWithPrefix deletes every topic whose name starts with
// prefix and returns their names.
func (k *Kafka) DeleteTopicsWithPrefix(prefix string) ([]string, error) {
	admin, err := sarama.NewClusterAdmin(k.Brokers, k.config())
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	topics, err := admin.ListTopics()
	if err != nil {
		return nil, err
	}
	var deleted []string
	var errs []error
	for t := range topics {
		if !strings.HasPrefix(t, prefix) {
			continue
		}
		if err := admin.DeleteTopic(t); err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("delete topic %s: %w", t, err))
			continue
		}
		deleted = append(deleted, t)
	}
	return deleted, errors.Join(errs...)
}

// DeleteGroups deletes the consumer groups named (missing ones are fine).
func (k *Kafka) DeleteGroups(groups ...string) error {
	admin, err := sarama.NewClusterAdmin(k.Brokers, k.config())
	if err != nil {
		return err
	}
	defer admin.Close()
	var errs []error
	for _, g := range groups {
		if err := admin.DeleteConsumerGroup(g); err != nil &&
			!errors.Is(err, sarama.ErrGroupIDNotFound) && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("delete group %s: %w", g, err))
		}
	}
	return errors.Join(errs...)
}

// Produced is what a producer wrote.
type Produced struct {
	// PerPartition[p] records, ids p-0 .. p-(n-1).
	PerPartition []int64
	// Start and End: the first and the last record handed to the
	// producer; Acked: when Kafka had acknowledged them all.
	Start, End, Acked time.Time
	// FirstTS is the ts of the first record (Unix µs).
	FirstTS int64
}

// Total is the number of records produced.
func (p *Produced) Total() int64 {
	var n int64
	for _, c := range p.PerPartition {
		n += c
	}
	return n
}

// Rate is the records/s achieved.
func (p *Produced) Rate() float64 {
	if d := p.End.Sub(p.Start).Seconds(); d > 0 {
		return float64(p.Total()) / d
	}
	return 0
}

// producer writes records round robin over the partitions, each record's
// id the next seq of its partition. It is a franz-go client (about twice
// sarama's rate here, so that on two shared cores the steady producer
// takes less of the engines' CPU and reaches higher rates).
type producer struct {
	cl       *kgo.Client
	topic    string
	size     int
	res      Produced
	next     int
	failed   chan struct{} // closed at the first error
	once     sync.Once
	firstErr atomic.Pointer[error]
}

func (k *Kafka) newProducer(topic string, partitions, size int, steady bool) (*producer, error) {
	linger := 5 * time.Millisecond
	if steady {
		linger = time.Millisecond
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(k.Brokers...),
		kgo.ClientID("gale-benchpeers"),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.DisableIdempotentWrite(),                      // leader acks, as sarama's WaitForLocal
		kgo.ProducerBatchCompression(kgo.NoCompression()), // as sarama's default: the engines' consumers do not decompress
		kgo.ProducerLinger(linger),
		kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(1<<16),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka %v: %w", k.Brokers, err)
	}
	return &producer{cl: cl, topic: topic, size: size, failed: make(chan struct{}),
		res: Produced{PerPartition: make([]int64, partitions)}}, nil
}

// promise records the first error of a produce.
func (p *producer) promise(_ *kgo.Record, err error) {
	if err != nil {
		p.once.Do(func() {
			p.firstErr.Store(&err)
			close(p.failed)
		})
	}
}

// send queues n records produced at ts (Unix µs); it blocks while the
// client's buffer is full.
func (p *producer) send(ctx context.Context, n int, ts int64) error {
	slab := make([]byte, 0, n*p.size)
	for range n {
		part := int32(p.next % len(p.res.PerPartition))
		p.next++
		seq := p.res.PerPartition[part]
		start := len(slab)
		var err error
		slab, err = AppendRecord(slab, part, seq, ts, p.size)
		if err != nil {
			return err
		}
		select {
		case <-p.failed:
			return fmt.Errorf("produce to %s: %w", p.topic, *p.firstErr.Load())
		default:
		}
		p.cl.Produce(ctx, &kgo.Record{Partition: part, Value: slab[start:len(slab):len(slab)]}, p.promise)
		if err := ctx.Err(); err != nil {
			return err
		}
		p.res.PerPartition[part]++
		if p.res.FirstTS == 0 {
			p.res.FirstTS = ts
		}
	}
	return nil
}

// close flushes and waits for the acknowledgements.
func (p *producer) close() error {
	err := p.cl.Flush(context.Background())
	p.cl.Close()
	p.res.Acked = time.Now()
	if e := p.firstErr.Load(); e != nil {
		err = *e
	}
	if err != nil {
		return fmt.Errorf("produce to %s: %w", p.topic, err)
	}
	return nil
}

// Prefill writes n records of size bytes as fast as it can, spread evenly
// over the partitions, and returns once Kafka has acknowledged them all.
func (k *Kafka) Prefill(ctx context.Context, topic string, partitions int, n int64, size int) (*Produced, error) {
	p, err := k.newProducer(topic, partitions, size, false)
	if err != nil {
		return nil, err
	}
	p.res.Start = time.Now()
	const chunk = 4096
	for done := int64(0); done < n; done += chunk {
		if err := p.send(ctx, int(min(chunk, n-done)), time.Now().UnixMicro()); err != nil {
			p.close()
			return nil, err
		}
	}
	p.res.End = time.Now()
	if err := p.close(); err != nil {
		return nil, err
	}
	return &p.res, nil
}

// Steady writes records at rate records/s for d, paced by a token bucket
// that a tick of every 5 ms drains (each tick's records carry the tick's
// time as ts), then flushes. It stops early when ctx ends. The bucket
// keeps at most half a second of tokens: a producer held back longer falls
// behind, and Produced.Rate shows it.
func (k *Kafka) Steady(ctx context.Context, topic string, partitions int, rate float64, d time.Duration, size int) (*Produced, error) {
	p, err := k.newProducer(topic, partitions, size, true)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	p.res.Start = start
	bucket := NewTokenBucket(rate, rate/2, start)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	stop := start.Add(d)
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			p.close()
			return &p.res, ctx.Err()
		case now = <-tick.C:
		}
		if now.After(stop) {
			now = stop
		}
		if n := bucket.Take(now); n > 0 {
			if err := p.send(ctx, n, time.Now().UnixMicro()); err != nil {
				p.close()
				return &p.res, err
			}
			p.res.End = time.Now()
		}
		if !now.Before(stop) {
			break
		}
	}
	return &p.res, p.close()
}
