package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// KafkaStore keeps the ledgers of many partitions in one compacted Kafka
// topic, for production: a worker that dies loses nothing, and any worker
// can take a partition over.
//
// Records are keyed "topology/spout/topic/partition/plan/seq" (and
// ".../commit/seq"), values are JSON. Each partition's writer is a
// transactional producer whose transactional.id derives from the
// partition's key: opening a ledger initialises that producer, which
// fences any older writer of the same partition (Kafka aborts its open
// transaction and refuses its next one: ErrFenced), and only then reads
// the topic back (read_committed), so no write of the old owner can land
// after the read.
type KafkaStore struct {
	brokers []string
	topic   string
	client  sarama.Client
}

var _ Store = (*KafkaStore)(nil)

func kafkaConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Metadata.AllowAutoTopicCreation = false
	c.Consumer.IsolationLevel = sarama.ReadCommitted
	c.Net.DialTimeout = 5 * time.Second
	return c
}

// NewKafkaStore connects to brokers and creates the ledger topic (one
// partition, compacted) when it is missing.
func NewKafkaStore(brokers []string, topic string) (*KafkaStore, error) {
	client, err := sarama.NewClient(brokers, kafkaConfig())
	if err != nil {
		return nil, fmt.Errorf("ledger on kafka %v: %w", brokers, err)
	}
	s := &KafkaStore{brokers: brokers, topic: topic, client: client}
	if err := s.ensureTopic(); err != nil {
		client.Close()
		return nil, err
	}
	return s, nil
}

func (s *KafkaStore) ensureTopic() error {
	admin, err := sarama.NewClusterAdminFromClient(s.client)
	if err != nil {
		return fmt.Errorf("ledger topic %q: %w", s.topic, err)
	}
	compact := "compact"
	err = admin.CreateTopic(s.topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: -1,
		ConfigEntries: map[string]*string{"cleanup.policy": &compact}}, false)
	var te *sarama.TopicError
	if err != nil && !(errors.As(err, &te) && te.Err == sarama.ErrTopicAlreadyExists) && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		return fmt.Errorf("create ledger topic %q: %w", s.topic, err)
	}
	return s.client.RefreshMetadata(s.topic)
}

// Close closes the store's client (writers have their own producers).
func (s *KafkaStore) Close() error { return s.client.Close() }

func (k Key) prefix() string { return k.String() + "/" }

// Open fences earlier owners of key's ledger and reads it back.
func (s *KafkaStore) Open(ctx context.Context, key Key) (Writer, State, error) {
	c := kafkaConfig()
	c.Producer.Idempotent = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Retry.Max = 5
	c.Net.MaxOpenRequests = 1
	c.Producer.Transaction.ID = "gale-ledger-" + key.String()
	c.Producer.Transaction.Retry.Max = 5
	prod, err := sarama.NewSyncProducer(s.brokers, c) // InitProducerID: fences older owners
	if err != nil {
		return nil, State{}, fmt.Errorf("open ledger %s: %w", key, err)
	}
	w := &kafkaWriter{key: key, topic: s.topic, prod: prod, st: newState()}
	// A read barrier: our own "open" record, committed after the fencing;
	// reading up to it reads every record committed before it. (The end of
	// a transactional topic is a commit marker consumers never see, so
	// "read to the end" cannot tell when it is done.)
	barrier, err := w.send("open", kafkaRecord{})
	if err != nil {
		prod.Close()
		return nil, State{}, fmt.Errorf("open ledger %s: %w", key, err)
	}
	if err := s.read(ctx, key, w.st, barrier); err != nil {
		prod.Close()
		return nil, State{}, fmt.Errorf("read ledger %s: %w", key, err)
	}
	return w, w.st.export(), nil
}

type kafkaRecord struct {
	Seq   uint64 `json:"seq"`
	Start int64  `json:"start,omitempty"`
	End   int64  `json:"end,omitempty"`
}

// fold adds one record of the ledger topic to st when it is key's.
func fold(st *state, key Key, k string, v []byte) {
	rest, ok := strings.CutPrefix(k, key.prefix())
	if !ok {
		return
	}
	var r kafkaRecord
	if json.Unmarshal(v, &r) != nil {
		return
	}
	switch {
	case strings.HasPrefix(rest, "plan/"):
		if p := (Plan{Key: key, Seq: r.Seq, Start: r.Start, End: r.End}); st.checkPlan(p) == nil {
			st.addPlan(p)
		}
	case strings.HasPrefix(rest, "commit/"):
		if st.checkCommit(r.Seq) == nil {
			st.addCommit(r.Seq)
		}
	case strings.HasPrefix(rest, "lost/"):
		if st.checkLose(r.Seq, r.Start, r.End) == nil {
			st.addLost(Lost{Seq: r.Seq, Start: r.Start, End: r.End})
		}
	}
}

// read folds the committed records of key into st, up to the barrier
// offset.
func (s *KafkaStore) read(ctx context.Context, key Key, st *state, barrier int64) error {
	consumer, err := sarama.NewConsumerFromClient(s.client)
	if err != nil {
		return err
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(s.topic, 0, sarama.OffsetOldest)
	if err != nil {
		return err
	}
	defer pc.Close()
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case m := <-pc.Messages():
			if m.Value != nil {
				fold(st, key, string(m.Key), m.Value)
			}
			if m.Offset >= barrier {
				return nil
			}
		case err := <-pc.Errors():
			return err
		case <-timeout.C:
			return fmt.Errorf("reading the ledger topic %q timed out", s.topic)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

type kafkaWriter struct {
	key    Key
	topic  string
	prod   sarama.SyncProducer
	st     *state
	closed bool
	broken error // a fencing or a lost topic: every later write fails with it
}

// write sends one record in a transaction of its own.
func (w *kafkaWriter) write(kind string, r kafkaRecord) error {
	if w.closed {
		return ErrClosed
	}
	if w.broken != nil {
		return w.broken
	}
	_, err := w.send(kind, r)
	if errors.Is(err, ErrFenced) || errors.Is(err, ErrGone) {
		w.broken = err
	}
	return err
}

// send writes one record in a transaction and returns its offset.
func (w *kafkaWriter) send(kind string, r kafkaRecord) (int64, error) {
	b, _ := json.Marshal(r)
	msg := &sarama.ProducerMessage{Topic: w.topic, Partition: 0,
		Key:   sarama.StringEncoder(fmt.Sprintf("%s%s/%012d", w.key.prefix(), kind, r.Seq)),
		Value: sarama.ByteEncoder(b)}
	var off int64
	err := w.prod.BeginTxn()
	if err == nil {
		if _, off, err = w.prod.SendMessage(msg); err == nil {
			err = w.prod.CommitTxn()
		} else {
			_ = w.prod.AbortTxn()
		}
	}
	if err == nil {
		return off, nil
	}
	return 0, w.classify(err)
}

// classify maps a producer error to ErrFenced, ErrGone or itself.
func (w *kafkaWriter) classify(err error) error {
	switch {
	case errors.Is(err, sarama.ErrProducerFenced), errors.Is(err, sarama.ErrInvalidProducerEpoch),
		w.prod.TxnStatus()&sarama.ProducerTxnFlagFatalError != 0 && !errors.Is(err, sarama.ErrUnknownTopicOrPartition):
		return fmt.Errorf("ledger %s: %w: %w", w.key, err, ErrFenced)
	case errors.Is(err, sarama.ErrUnknownTopicOrPartition):
		return fmt.Errorf("ledger %s: topic %q: %w: %w", w.key, w.topic, err, ErrGone)
	}
	return fmt.Errorf("ledger %s: %w", w.key, err)
}

func (w *kafkaWriter) Plan(_ context.Context, p Plan) error {
	p.Key = w.key
	if err := w.st.checkPlan(p); err != nil {
		return err
	}
	if err := w.write("plan", kafkaRecord{Seq: p.Seq, Start: p.Start, End: p.End}); err != nil {
		return err
	}
	w.st.addPlan(p)
	return nil
}

func (w *kafkaWriter) Commit(_ context.Context, seq uint64) error {
	if err := w.st.checkCommit(seq); err != nil {
		return err
	}
	if err := w.write("commit", kafkaRecord{Seq: seq}); err != nil {
		return err
	}
	w.st.addCommit(seq)
	return nil
}

func (w *kafkaWriter) Lose(_ context.Context, seq uint64, start, end int64) error {
	if err := w.st.checkLose(seq, start, end); err != nil {
		return err
	}
	if err := w.write("lost", kafkaRecord{Seq: seq, Start: start, End: end}); err != nil {
		return err
	}
	w.st.addLost(Lost{Seq: seq, Start: start, End: end})
	return nil
}

func (w *kafkaWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	return w.prod.Close()
}

// scan calls fn for every record of the ledger topic, in order, without
// writing anything: it reads up to the high watermark seen at the start
// (the last offsets may be transaction markers that consumers never see,
// so an idle second also ends the scan).
func (s *KafkaStore) scan(ctx context.Context, fn func(key string, value []byte)) error {
	hwm, err := s.client.GetOffset(s.topic, 0, sarama.OffsetNewest)
	if err != nil {
		return err
	}
	if hwm <= 0 {
		return nil
	}
	consumer, err := sarama.NewConsumerFromClient(s.client)
	if err != nil {
		return err
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(s.topic, 0, sarama.OffsetOldest)
	if err != nil {
		return err
	}
	defer pc.Close()
	idle := time.NewTimer(10 * time.Second) // the first fetch may be slow
	defer idle.Stop()
	for {
		select {
		case m, ok := <-pc.Messages():
			if !ok {
				return fmt.Errorf("reading the ledger topic %q: the consumer stopped", s.topic)
			}
			if m.Value != nil {
				fn(string(m.Key), m.Value)
			}
			if m.Offset >= hwm-1 {
				return nil
			}
			idle.Reset(time.Second)
		case err := <-pc.Errors():
			return err
		case <-idle.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Read reads key's ledger without fencing its writer.
func (s *KafkaStore) Read(ctx context.Context, key Key) (State, error) {
	st := newState()
	err := s.scan(ctx, func(k string, v []byte) { fold(st, key, k, v) })
	if err != nil {
		return State{}, fmt.Errorf("read ledger %s: %w", key, err)
	}
	return st.export(), nil
}

// Keys lists the partitions with a ledger under topology and spout.
func (s *KafkaStore) Keys(ctx context.Context, topology, spout string) ([]Key, error) {
	prefix := topology + "/" + spout + "/"
	seen := map[Key]bool{}
	var keys []Key
	err := s.scan(ctx, func(k string, _ []byte) {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			return
		}
		f := strings.Split(rest, "/") // topic, partition, kind, seq
		if len(f) != 4 {
			return
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return
		}
		key := Key{Topology: topology, Spout: spout, Topic: f[0], Partition: int32(n)}
		if !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	})
	return keys, err
}
