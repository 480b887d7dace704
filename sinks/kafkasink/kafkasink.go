package kafkasink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/topology"
)

// Config configures the "kafka_sink" type.
type Config struct {
	sinks.Common
	Brokers []string `json:"brokers"`
	// Security is the brokers' TLS ("tls") and SASL ("sasl"); see package
	// kafkasec. The password comes from sasl.password_env or
	// sasl.password_file: a topology holds no secret.
	kafkasec.Security
	Topic       string `json:"topic"`
	CreateTopic bool   `json:"create_topic"`
	Partitions  int32  `json:"partitions"`
	Group       string `json:"group,omitempty"`
	Key         string `json:"key"`
	// Timestamp of the produced records: "now" (the producer's clock, the
	// default) or "record" (the record's own time; brokers refuse times
	// too far from theirs, log.message.timestamp.*.max.ms).
	Timestamp string `json:"timestamp"`
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	c := &Config{Common: sinks.DefaultCommon(), CreateTopic: true, Partitions: 1, Key: "id", Timestamp: "now"}
	c.MaxInflight = 1 // a partition's batches go out in order
	return c
}

// Validate checks the config.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.Format != sinks.FormatJSON && c.Format != sinks.FormatLines {
		return fmt.Errorf("kafka_sink: format %q: want %q or %q (each record is one message): %w", c.Format, sinks.FormatJSON, sinks.FormatLines, sinks.ErrConfig)
	}
	if err := c.Security.Validate(); err != nil {
		return fmt.Errorf("%w: %w", err, sinks.ErrConfig)
	}
	switch {
	case len(c.Brokers) == 0:
		return fmt.Errorf("brokers: at least one is required: %w", sinks.ErrConfig)
	case c.Topic == "":
		return fmt.Errorf("topic is required: %w", sinks.ErrConfig)
	case c.Partitions < 1:
		return fmt.Errorf("partitions %d: want at least 1: %w", c.Partitions, sinks.ErrConfig)
	case c.Key != "id" && c.Key != "none":
		return fmt.Errorf("key %q: want \"id\" or \"none\": %w", c.Key, sinks.ErrConfig)
	case c.Timestamp != "now" && c.Timestamp != "record":
		return fmt.Errorf("timestamp %q: want \"now\" or \"record\": %w", c.Timestamp, sinks.ErrConfig)
	case c.TimePartition != sinks.PartitionNone:
		return fmt.Errorf("time_partition does not apply to a Kafka topic: %w", sinks.ErrConfig)
	}
	return nil
}

// TypeName is the sink type's name in topologies.
const TypeName = "kafka_sink"

// Type is the "kafka_sink" bolt type.
func Type() registry.Bolt[Config] {
	return sinks.Type(TypeName, "produces each batch to a Kafka topic in one transaction, with the source offsets: replays are never visible twice to read_committed consumers",
		NewConfig, func(ctx context.Context, c *Config, tc *topology.TaskContext) (sinks.Writer, error) {
			return c.Open(ctx, tc.Topology.Name, tc.Component.ID)
		})
}

// Writer produces batches; see the package doc. The transactional
// producers are shared by every Writer of the process (the tasks of one
// component): two producers with one transactional id would fence each
// other.
type Writer struct {
	cfg      *Config
	topology string
	comp     string
	group    string
	client   sarama.Client
	admin    sarama.ClusterAdmin
	// maxBytes is the producer's limit on one message
	// (Producer.MaxMessageBytes): a record above it fails every attempt
	maxBytes int

	mu   sync.Mutex
	held map[string]bool // transactional ids this writer holds a reference to
}

var (
	_ sinks.Writer          = (*Writer)(nil)
	_ sinks.RejectingWriter = (*Writer)(nil)
)

// txnProducer is one source partition's transactional producer. Writes
// through it are serialised; last caches the seq of the last batch written
// (-2: not read from the group yet).
type txnProducer struct {
	mu    sync.Mutex
	moved chan struct{} // closed and replaced whenever last advances
	prod  sarama.SyncProducer
	last  int64
	refs  int
}

var (
	sharedMu  sync.Mutex
	producers = map[string]*txnProducer{}
)

// saramaConfig is the base configuration of the sink's clients; it fails
// when the files or the password of c.Security cannot be read.
func (c *Config) saramaConfig() (*sarama.Config, error) {
	sc := sarama.NewConfig()
	sc.Version = sarama.V4_0_0_0
	sc.Net.DialTimeout = 5 * time.Second
	sc.Metadata.AllowAutoTopicCreation = false
	sc.Producer.Return.Successes = true
	if err := c.Security.Apply(sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// Open connects to the brokers (creating the topic when allowed) for the
// component comp of topology.
func (c *Config) Open(_ context.Context, topology, comp string) (*Writer, error) {
	sc, err := c.saramaConfig()
	if err != nil {
		return nil, fmt.Errorf("kafka sink %q: %w", comp, err)
	}
	client, err := sarama.NewClient(c.Brokers, sc)
	if err != nil {
		return nil, fmt.Errorf("kafka sink %q: brokers %v: %w", comp, c.Brokers, c.Security.Explain(c.Brokers, err))
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("kafka sink %q: %w", comp, err)
	}
	w := &Writer{cfg: c, topology: topology, comp: comp, group: c.Group, client: client, admin: admin,
		maxBytes: sc.Producer.MaxMessageBytes, held: map[string]bool{}}
	if w.group == "" {
		w.group = "gale-sink-" + topology + "-" + comp
	}
	if err := w.ensureTopic(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func (w *Writer) ensureTopic() error {
	topics, err := w.admin.ListTopics()
	if err != nil {
		return fmt.Errorf("kafka sink %q: list topics: %w", w.comp, err)
	}
	if _, ok := topics[w.cfg.Topic]; ok {
		return nil
	}
	if !w.cfg.CreateTopic {
		return fmt.Errorf("kafka sink %q: topic %q does not exist and create_topic is false: %w", w.comp, w.cfg.Topic, sinks.ErrConfig)
	}
	err = w.admin.CreateTopic(w.cfg.Topic, &sarama.TopicDetail{NumPartitions: w.cfg.Partitions, ReplicationFactor: 1}, false)
	if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		return fmt.Errorf("kafka sink %q: create topic %q: %w", w.comp, w.cfg.Topic, err)
	}
	return nil
}

// TransactionalID is the transactional id of a source partition's producer.
func (w *Writer) TransactionalID(source string, partition int32) string {
	return fmt.Sprintf("gale-sink-%s-%s-%s-%d", w.topology, w.comp, source, partition)
}

func (w *Writer) producer(id string) (*txnProducer, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	p := producers[id]
	if p == nil {
		sc, err := w.cfg.saramaConfig()
		if err != nil {
			return nil, fmt.Errorf("kafka sink %q: transactional producer %s: %w", w.comp, id, err)
		}
		sc.Producer.Idempotent = true
		sc.Producer.RequiredAcks = sarama.WaitForAll
		sc.Producer.Retry.Max = 5
		sc.Net.MaxOpenRequests = 1
		sc.Producer.Transaction.ID = id
		sc.Producer.Transaction.Retry.Max = 5
		prod, err := sarama.NewSyncProducer(w.cfg.Brokers, sc) // InitProducerID: fences an older owner
		if err != nil {
			return nil, fmt.Errorf("kafka sink %q: transactional producer %s: %w", w.comp, id, w.cfg.Security.Explain(w.cfg.Brokers, err))
		}
		p = &txnProducer{prod: prod, last: -2, moved: make(chan struct{})}
		producers[id] = p
	}
	w.mu.Lock()
	if !w.held[id] {
		w.held[id] = true
		p.refs++
	}
	w.mu.Unlock()
	return p, nil
}

// committed returns the seq of the last batch of source/partition written
// (-1 when none).
func (w *Writer) committed(source string, partition int32) (int64, error) {
	resp, err := w.admin.ListConsumerGroupOffsets(w.group, map[string][]int32{source: {partition}})
	if err != nil {
		return 0, err
	}
	blk := resp.GetBlock(source, partition)
	if blk == nil || blk.Offset < 0 {
		return -1, nil
	}
	if blk.Err != sarama.ErrNoError {
		return 0, blk.Err
	}
	seq, ok := strings.CutPrefix(blk.Metadata, "seq=")
	if !ok {
		return 0, fmt.Errorf("group %q holds offset %d for %s/%d without gale's seq (%q): is the group used by someone else?",
			w.group, blk.Offset, source, partition, blk.Metadata)
	}
	return strconv.ParseInt(seq, 10, 64)
}

// waitBefore is how long a batch waits for the batch before it (written by
// another task) before it is sent back for a replay.
var waitBefore = 3 * time.Second

// WriteBatch produces b in one transaction with its source offset; see the
// package doc.
func (w *Writer) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	n, rejected, err := w.WriteBatchRejecting(ctx, b)
	if err == nil && len(rejected) > 0 {
		err = fmt.Errorf("kafka sink %q: %d records refused, first %s: %s", w.comp, len(rejected), rejected[0].ID, rejected[0].Error)
	}
	return n, err
}

// WriteBatchRejecting writes b as WriteBatch does, but for the records
// that can never be produced — larger than the producer's limit on a
// message — which it returns instead (the sink bolt sends them to its
// dead-letter files), so that one such record does not fail its batch at
// every retry. The same records are refused on a replay.
func (w *Writer) WriteBatchRejecting(ctx context.Context, b *sinks.Batch) (int64, []sinks.Rejection, error) {
	m := b.Meta
	id := w.TransactionalID(m.Source, m.Partition)
	p, err := w.producer(id)
	if err != nil {
		return 0, nil, err
	}
	deadline := time.Now().Add(waitBefore)
	p.mu.Lock()
	for {
		if p.last == -2 {
			last, err := w.committed(m.Source, m.Partition)
			if err != nil {
				p.mu.Unlock()
				return 0, nil, fmt.Errorf("kafka sink %q: read the written offsets of %s/%d (group %q): %w", w.comp, m.Source, m.Partition, w.group, err)
			}
			p.last = last
		}
		seq := int64(m.Seq)
		if seq <= p.last {
			p.mu.Unlock()
			return 0, w.oversized(b), nil // written before: a replay
		}
		if seq == p.last+1 {
			break
		}
		// an earlier batch is not written yet: wait a little for another
		// task to write it, then send this one back for a replay
		moved := p.moved
		p.mu.Unlock()
		select {
		case <-moved:
		case <-time.After(time.Until(deadline)):
			return 0, nil, fmt.Errorf("kafka sink %q: batch %s comes before batch %d of %s/%d is written: %w",
				w.comp, m.ID, p.lastSeen()+1, m.Source, m.Partition, sinks.ErrReplayLater)
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
		p.mu.Lock()
	}
	defer p.mu.Unlock()
	var n int64
	var rejected []sinks.Rejection
	msgs := make([]*sarama.ProducerMessage, 0, len(b.Records))
	for _, r := range b.Records {
		msg := w.message(m.ID, r)
		if reason := w.tooLarge(msg); reason != "" {
			rejected = append(rejected, sinks.Rejection{ID: r.ID, Error: reason})
			continue
		}
		msgs = append(msgs, msg)
		n += int64(len(r.Line))
	}
	meta := "seq=" + strconv.FormatUint(m.Seq, 10)
	err = p.prod.BeginTxn()
	if err == nil && len(msgs) > 0 {
		err = p.prod.SendMessages(msgs)
	}
	if err == nil {
		err = p.prod.AddOffsetsToTxn(map[string][]*sarama.PartitionOffsetMetadata{
			m.Source: {{Partition: m.Partition, Offset: m.End, Metadata: &meta}}}, w.group)
	}
	if err == nil {
		err = p.prod.CommitTxn()
	}
	if err != nil {
		// abort what can be aborted; a producer that is not ready again
		// (a fatal error, fenced, or a failed abort) is replaced
		if p.prod.TxnStatus()&(sarama.ProducerTxnFlagInTransaction|sarama.ProducerTxnFlagAbortableError) != 0 {
			_ = p.prod.AbortTxn()
		}
		p.last = -2 // read it again: the commit may or may not have happened
		if p.prod.TxnStatus() != sarama.ProducerTxnFlagReady {
			w.drop(id, p)
		}
		var pe sarama.ProducerErrors
		if errors.As(err, &pe) && len(pe) > 0 {
			err = fmt.Errorf("%w (first: %w)", err, pe[0].Err)
		}
		return 0, nil, fmt.Errorf("kafka sink %q: produce batch %s to %q: %w", w.comp, m.ID, w.cfg.Topic, err)
	}
	p.last = int64(m.Seq)
	close(p.moved)
	p.moved = make(chan struct{})
	return n, rejected, nil
}

// message is the message of record r of batch id.
func (w *Writer) message(id string, r sinks.Record) *sarama.ProducerMessage {
	msg := &sarama.ProducerMessage{Topic: w.cfg.Topic, Value: sarama.ByteEncoder(r.Line),
		Headers: []sarama.RecordHeader{{Key: []byte("gale.batch"), Value: []byte(id)}}}
	if w.cfg.Key == "id" {
		msg.Key = sarama.StringEncoder(r.ID)
	}
	if w.cfg.Timestamp == "record" && !r.Time.IsZero() {
		msg.Timestamp = r.Time
	}
	return msg
}

// tooLarge says why msg can never be produced, or "".
func (w *Writer) tooLarge(msg *sarama.ProducerMessage) string {
	if size := msg.ByteSize(2); size > w.maxBytes {
		return fmt.Sprintf("a message of %d bytes is larger than the producer's limit of %d bytes (Producer.MaxMessageBytes): it would fail every attempt", size, w.maxBytes)
	}
	return ""
}

// oversized returns the records of b that tooLarge refuses: a batch
// written before (a replay) reports them again, as its first write did.
func (w *Writer) oversized(b *sinks.Batch) []sinks.Rejection {
	var rejected []sinks.Rejection
	for _, r := range b.Records {
		if reason := w.tooLarge(w.message(b.Meta.ID, r)); reason != "" {
			rejected = append(rejected, sinks.Rejection{ID: r.ID, Error: reason})
		}
	}
	return rejected
}

func (p *txnProducer) lastSeen() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// drop forgets a producer in a fatal state (fenced, or broken): the next
// write makes a new one. The caller holds p.mu.
func (w *Writer) drop(id string, p *txnProducer) {
	sharedMu.Lock()
	if producers[id] == p {
		delete(producers, id)
	}
	sharedMu.Unlock()
	p.prod.Close()
}

// Close releases the writer's producers (closed with their last user) and
// its client.
func (w *Writer) Close() error {
	w.mu.Lock()
	ids := w.held
	w.held = map[string]bool{}
	w.mu.Unlock()
	sharedMu.Lock()
	for id := range ids {
		if p := producers[id]; p != nil {
			p.refs--
			if p.refs <= 0 {
				delete(producers, id)
				p.prod.Close()
			}
		}
	}
	sharedMu.Unlock()
	if w.admin != nil {
		w.admin.Close() // closes the client too
	}
	return nil
}
