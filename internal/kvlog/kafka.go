package kvlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"

	"github.com/gale-stream/gale/internal/kafkasec"
)

// KafkaLog is a Log in a compacted Kafka topic of one partition, for
// production: any number of processes share it, and a process that
// restarts reads it back.
//
// Reads come from a goka View of the topic, materialised in memory and
// kept up to date by the view's consumer (isolation read_committed); its
// update callback also feeds Watch. Sync is a read barrier: a record (a
// tombstone keyed "\x00barrier") sent with a goka Emitter, waited for
// until the view has consumed it — read_committed, so the view then holds
// every transaction committed before.
//
// A Writer is a transactional producer whose transactional.id is the
// configured prefix and the owner: initialising it (InitProducerID) fences
// every earlier producer of that id — the broker aborts its open
// transaction and refuses its next one. A Write is one transaction; it
// returns once committed with acks=all and consumed by this log's view.
//
// Durability and compaction are Kafka's: the topic is created with
// cleanup.policy=compact and settings that compact it quickly (small
// segments, a low dirty ratio, tombstones kept for KafkaConfig.TombstoneRetention),
// so that opening it reads about its live keys; an existing topic must have
// one partition and compact (else OpenKafka refuses it). Production wants a
// replication factor of 3, min.insync.replicas 2 and no unclean leader
// election, on the topic and on __transaction_state.
type KafkaLog struct {
	cfg     KafkaConfig
	view    *goka.View
	emitter *goka.Emitter
	hub     *hub

	closed   atomic.Bool
	viewMu   sync.RWMutex  // Get and Scan read the view under it; Close stops the view under it
	done     chan struct{} // closed by Close
	stopView context.CancelFunc
	viewDone chan struct{} // closed when the view's Run returned
	viewErr  error         // Run's error; read after viewDone
	// viewClients are the clients built for the view (by NewView, in this
	// goroutine); closed after the view's Run returned.
	viewClients []interface{ Close() error }

	appliedMu sync.Mutex    // guards the fields below
	applied   int64         // offset of the last record the view consumed
	appliedCh chan struct{} // closed (and replaced) when applied grows
}

var _ Log = (*KafkaLog)(nil)

// KafkaConfig configures a KafkaLog. Zero fields, but Brokers and Topic,
// take the values of DefaultKafkaConfig.
type KafkaConfig struct {
	// Brokers are the bootstrap brokers ("host:port").
	Brokers []string
	// Security is the TLS and SASL of every client of the log.
	Security kafkasec.Security
	// Topic holds the log; created when missing.
	Topic string
	// ReplicationFactor is used when creating the topic; 0 means the
	// broker's default. Production wants 3.
	ReplicationFactor int16
	// KafkaVersion is the protocol version spoken ("4.0.0" by default).
	KafkaVersion string
	// ClientID prefixes the Kafka client ids.
	ClientID string
	// TransactionalIDPrefix prefixes the owners' transactional ids.
	TransactionalIDPrefix string
	// Timeout bounds opening the log, each read barrier, each Write, and
	// every request to the brokers.
	Timeout time.Duration
	// TransactionTimeout is the transaction timeout: a writer that dies in
	// the middle of a Write holds the readers of the topic back until it
	// expires or the owner's next Writer fences it.
	TransactionTimeout time.Duration
	// SegmentTime, DirtyRatio, TombstoneRetention and MaxCompactionLag
	// are the compaction settings of a topic the log creates (segment.ms,
	// min.cleanable.dirty.ratio, delete.retention.ms,
	// max.compaction.lag.ms). The last makes the cleaner run on a log
	// that gets few writes, so that its tombstones go too.
	SegmentTime        time.Duration
	DirtyRatio         float64
	TombstoneRetention time.Duration
	MaxCompactionLag   time.Duration
	// Lazy makes OpenKafka return once the view has started, without
	// waiting for it to read the topic: until a Sync (taking a Writer
	// syncs), reads see what it applied so far. For logs whose reads all
	// follow a Sync, such as the batch ledger: a writer that died in the
	// middle of a Write holds every read_committed reader of the topic
	// until its owner's next Writer aborts its transaction, and that
	// Writer — perhaps in a process just (re)started — must not wait for
	// the view first.
	Lazy bool
	// Logger receives goka's messages; nil keeps goka's default.
	Logger goka.Logger
}

// DefaultKafkaConfig returns the defaults for brokers and topic.
func DefaultKafkaConfig(brokers []string, topic string) KafkaConfig {
	return KafkaConfig{
		Brokers:               brokers,
		Topic:                 topic,
		KafkaVersion:          "4.0.0",
		ClientID:              "gale",
		TransactionalIDPrefix: "gale-" + topic + "-",
		Timeout:               30 * time.Second,
		TransactionTimeout:    10 * time.Second,
		SegmentTime:           10 * time.Minute,
		DirtyRatio:            0.1,
		TombstoneRetention:    10 * time.Minute,
		MaxCompactionLag:      time.Hour,
	}
}

// withDefaults fills the zero fields with the defaults.
func (c KafkaConfig) withDefaults() KafkaConfig {
	d := DefaultKafkaConfig(c.Brokers, c.Topic)
	if c.KafkaVersion == "" {
		c.KafkaVersion = d.KafkaVersion
	}
	if c.ClientID == "" {
		c.ClientID = d.ClientID
	}
	if c.TransactionalIDPrefix == "" {
		c.TransactionalIDPrefix = d.TransactionalIDPrefix
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.TransactionTimeout == 0 {
		c.TransactionTimeout = d.TransactionTimeout
	}
	if c.SegmentTime == 0 {
		c.SegmentTime = d.SegmentTime
	}
	if c.DirtyRatio == 0 {
		c.DirtyRatio = d.DirtyRatio
	}
	if c.TombstoneRetention == 0 {
		c.TombstoneRetention = d.TombstoneRetention
	}
	if c.MaxCompactionLag == 0 {
		c.MaxCompactionLag = d.MaxCompactionLag
	}
	return c
}

// Validate checks the configuration.
func (c KafkaConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers"))
	}
	if c.Topic == "" || len(c.Topic) > 249 || strings.Trim(c.Topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
		errs = append(errs, fmt.Errorf("topic %q: want 1 to 249 letters, digits, '.', '_' or '-'", c.Topic))
	}
	if _, err := sarama.ParseKafkaVersion(c.KafkaVersion); err != nil {
		errs = append(errs, fmt.Errorf("kafka version: %w", err))
	}
	if c.ReplicationFactor < 0 {
		errs = append(errs, fmt.Errorf("replication factor %d", c.ReplicationFactor))
	}
	if c.Timeout <= 0 || c.TransactionTimeout <= 0 || c.SegmentTime <= 0 || c.TombstoneRetention <= 0 || c.MaxCompactionLag <= 0 {
		errs = append(errs, errors.New("timeouts and compaction times must be positive"))
	}
	if c.DirtyRatio <= 0 || c.DirtyRatio > 1 {
		errs = append(errs, fmt.Errorf("dirty ratio %v: want (0, 1]", c.DirtyRatio))
	}
	if err := c.Security.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafka log config: %w", err)
	}
	return nil
}

// saramaConfig is the base configuration of every client of the log; it
// fails when the files or the password of c.Security cannot be read.
func (c KafkaConfig) saramaConfig(role string) (*sarama.Config, error) {
	sc := sarama.NewConfig()
	sc.Version, _ = sarama.ParseKafkaVersion(c.KafkaVersion)
	sc.ClientID = c.ClientID + "-" + role
	sc.Net.DialTimeout = 5 * time.Second
	sc.Net.ReadTimeout = c.Timeout
	sc.Net.WriteTimeout = c.Timeout
	sc.Metadata.AllowAutoTopicCreation = false
	sc.Consumer.IsolationLevel = sarama.ReadCommitted
	sc.Consumer.Return.Errors = true
	sc.Consumer.MaxWaitTime = 100 * time.Millisecond
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	sc.Producer.Partitioner = sarama.NewManualPartitioner
	if err := c.Security.Apply(sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// explain adds to err, from a client of the log, the listener and the
// mechanism of a refused login, or the cause of a failed TLS handshake.
func (c KafkaConfig) explain(err error) error { return c.Security.Explain(c.Brokers, err) }

const barrierKey = "\x00barrier"

// OpenKafka validates cfg, creates the topic when missing, reads it into a
// view and returns once the view holds every record committed before the
// call (at once with cfg.Lazy). ctx bounds the opening only.
func OpenKafka(ctx context.Context, cfg KafkaConfig) (*KafkaLog, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	// the files and password of cfg.Security, read before anything starts
	if _, err := cfg.saramaConfig("check"); err != nil {
		return nil, fmt.Errorf("kafka log %q on %v: %w", cfg.Topic, cfg.Brokers, err)
	}
	if err := ensureTopic(ctx, cfg); err != nil {
		return nil, err
	}
	l := &KafkaLog{cfg: cfg, hub: newHub(), done: make(chan struct{}), viewDone: make(chan struct{}),
		applied: -1, appliedCh: make(chan struct{})}
	tmc := goka.NewTopicManagerConfig()
	tmc.NoCreate = true
	viewOpts := []goka.ViewOption{
		goka.WithViewClientID(cfg.ClientID + "-view"),
		goka.WithViewCallback(l.update),
		goka.WithViewStorageBuilder(viewStoreBuilder),
		// goka's View never closes the consumer and the topic manager it
		// builds: the log keeps them and closes them after the view.
		goka.WithViewConsumerSaramaBuilder(func(brokers []string, _ string) (sarama.Consumer, error) {
			sc, err := cfg.saramaConfig("view")
			if err != nil {
				return nil, err
			}
			c, err := sarama.NewConsumer(brokers, sc)
			if err != nil {
				return nil, cfg.explain(err)
			}
			l.viewClients = append(l.viewClients, c)
			return c, nil
		}),
		goka.WithViewTopicManagerBuilder(func(brokers []string) (goka.TopicManager, error) {
			sc, err := cfg.saramaConfig("view-tm")
			if err != nil {
				return nil, err
			}
			tm, err := goka.NewTopicManager(brokers, sc, tmc)
			if err != nil {
				return nil, cfg.explain(err)
			}
			l.viewClients = append(l.viewClients, tm)
			return tm, nil
		}),
		goka.WithViewAutoReconnect(),
		goka.WithViewBackoffBuilder(func() (goka.Backoff, error) {
			return goka.NewSimpleBackoff(500*time.Millisecond, 5*time.Second), nil
		}),
	}
	if cfg.Logger != nil {
		viewOpts = append(viewOpts, goka.WithViewLogger(cfg.Logger))
	}
	view, err := goka.NewView(cfg.Brokers, goka.Table(cfg.Topic), new(codec.Bytes), viewOpts...)
	if err != nil {
		l.closeViewClients()
		return nil, fmt.Errorf("open log %q: view: %w", cfg.Topic, err)
	}
	l.view = view
	pc, err := cfg.saramaConfig("emitter")
	if err != nil {
		l.closeViewClients()
		return nil, fmt.Errorf("open log %q: emitter: %w", cfg.Topic, err)
	}
	pc.Producer.Flush.Frequency = 0 // a barrier goes out at once
	emitterOpts := []goka.EmitterOption{
		goka.WithEmitterClientID(cfg.ClientID + "-emitter"),
		goka.WithEmitterProducerBuilder(goka.ProducerBuilderWithConfig(pc)),
	}
	if cfg.Logger != nil {
		emitterOpts = append(emitterOpts, goka.WithEmitterLogger(cfg.Logger))
	}
	l.emitter, err = goka.NewEmitter(cfg.Brokers, goka.Stream(cfg.Topic), new(codec.Bytes), emitterOpts...)
	if err != nil {
		l.closeViewClients()
		return nil, fmt.Errorf("open log %q: emitter: %w", cfg.Topic, cfg.explain(err))
	}
	viewCtx, stop := context.WithCancel(context.Background())
	l.stopView = stop
	go func() {
		defer close(l.viewDone)
		l.viewErr = view.Run(viewCtx)
	}()
	if cfg.Lazy {
		return l, nil
	}
	if err := l.barrier(ctx, cfg.Timeout); err != nil {
		l.Close()
		return nil, fmt.Errorf("open log %q: read the topic: %w", cfg.Topic, err)
	}
	return l, nil
}

// ensureTopic creates the topic, or checks that the existing one has one
// partition and compacts.
func ensureTopic(ctx context.Context, cfg KafkaConfig) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	sc, err := cfg.saramaConfig("admin")
	if err != nil {
		return fmt.Errorf("kafka log %q on %v: %w", cfg.Topic, cfg.Brokers, err)
	}
	admin, err := sarama.NewClusterAdmin(cfg.Brokers, sc)
	if err != nil {
		return fmt.Errorf("kafka log %q on %v: %w", cfg.Topic, cfg.Brokers, cfg.explain(err))
	}
	defer admin.Close()
	rf := cfg.ReplicationFactor
	if rf == 0 {
		rf = -1
	}
	str := func(s string) *string { return &s }
	err = admin.CreateTopic(cfg.Topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: rf,
		ConfigEntries: map[string]*string{
			"cleanup.policy":            str("compact"),
			"segment.ms":                str(strconv.FormatInt(cfg.SegmentTime.Milliseconds(), 10)),
			"min.cleanable.dirty.ratio": str(strconv.FormatFloat(cfg.DirtyRatio, 'f', -1, 64)),
			"delete.retention.ms":       str(strconv.FormatInt(cfg.TombstoneRetention.Milliseconds(), 10)),
			"max.compaction.lag.ms":     str(strconv.FormatInt(cfg.MaxCompactionLag.Milliseconds(), 10)),
		}}, false)
	var te *sarama.TopicError
	if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) && !(errors.As(err, &te) && te.Err == sarama.ErrTopicAlreadyExists) {
		return fmt.Errorf("create topic %q: %w", cfg.Topic, err)
	}
	// a topic just created may show no partitions for a moment
	var meta []*sarama.TopicMetadata
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		meta, err = admin.DescribeTopics([]string{cfg.Topic})
		if err != nil {
			return fmt.Errorf("describe topic %q: %w", cfg.Topic, err)
		}
		if len(meta) == 1 && meta[0].Err == sarama.ErrNoError && len(meta[0].Partitions) > 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			continue
		case <-ctx.Done():
			t.Stop()
		}
		if len(meta) == 1 && meta[0].Err != sarama.ErrNoError {
			return fmt.Errorf("describe topic %q: %w", cfg.Topic, meta[0].Err)
		}
		return fmt.Errorf("topic %q has no partitions: %w", cfg.Topic, ctx.Err())
	}
	if n := len(meta[0].Partitions); n != 1 {
		return fmt.Errorf("topic %q has %d partitions, want 1 (the log needs one order of writes)", cfg.Topic, n)
	}
	entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: cfg.Topic,
		ConfigNames: []string{"cleanup.policy"}})
	if err != nil {
		return fmt.Errorf("describe the config of topic %q: %w", cfg.Topic, err)
	}
	for _, e := range entries {
		if e.Name == "cleanup.policy" && !slices.Contains(strings.Split(e.Value, ","), "compact") {
			return fmt.Errorf("topic %q has cleanup.policy=%s, want compact (a deleted segment would lose live records, "+
				"and an uncompacted log grows forever)", cfg.Topic, e.Value)
		}
	}
	return nil
}

// update is the view's callback: it applies a record to the view's
// storage, tells the watchers, and advances the consumed offset.
func (l *KafkaLog) update(ctx goka.UpdateContext, st storage.Storage, key string, value []byte) error {
	if key != "" && key[0] != 0 {
		var err error
		if value == nil {
			err = st.Delete(key)
		} else {
			err = st.Set(key, value)
		}
		if err != nil {
			return fmt.Errorf("apply %s: %w", key, err)
		}
		l.hub.publish(Change{Key: key, Deleted: value == nil})
	}
	l.appliedMu.Lock()
	if off := ctx.Offset(); off > l.applied {
		l.applied = off
		close(l.appliedCh)
		l.appliedCh = make(chan struct{})
	}
	l.appliedMu.Unlock()
	return nil
}

// waitApplied waits until the view has consumed offset off.
func (l *KafkaLog) waitApplied(ctx context.Context, off int64) error {
	for {
		l.appliedMu.Lock()
		applied, ch := l.applied, l.appliedCh
		l.appliedMu.Unlock()
		if applied >= off {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			return ErrClosed
		case <-l.viewDone:
			select {
			case <-l.done: // Close stopped the view: its error is context.Canceled
				return ErrClosed
			default:
			}
			return fmt.Errorf("the view of topic %q stopped: %w", l.cfg.Topic, l.viewErr)
		}
	}
}

// barrier returns once the view holds every record committed before the
// call, or fails with ErrStalled after d.
func (l *KafkaLog) barrier(ctx context.Context, d time.Duration) error {
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	stalled := func(err error) error {
		if outer.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w within %v: %w", ErrStalled, d, err)
		}
		return err
	}
	type result struct {
		off int64
		err error
	}
	res := make(chan result, 1)
	p, err := l.emitter.Emit(barrierKey, nil)
	if err != nil {
		return fmt.Errorf("read barrier: %w", err)
	}
	p.ThenWithMessage(func(m *sarama.ProducerMessage, err error) {
		if err != nil {
			res <- result{-1, err}
			return
		}
		res <- result{m.Offset, nil}
	})
	select {
	case r := <-res:
		if r.err != nil {
			return fmt.Errorf("read barrier: %w", r.err)
		}
		if err := l.waitApplied(ctx, r.off); err != nil {
			return fmt.Errorf("read barrier at offset %d: %w", r.off, stalled(err))
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("read barrier: %w", stalled(ctx.Err()))
	case <-l.done:
		return ErrClosed
	}
}

func (l *KafkaLog) check(ctx context.Context) error {
	if l.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// Get implements Log.
func (l *KafkaLog) Get(ctx context.Context, key string) ([]byte, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	l.viewMu.RLock()
	defer l.viewMu.RUnlock()
	if l.closed.Load() {
		return nil, ErrClosed // Close stopped the view
	}
	v, err := l.view.Get(key)
	if err != nil || v == nil {
		return nil, err
	}
	b, _ := v.([]byte)
	return bytes.Clone(b), nil
}

// Scan implements Log.
func (l *KafkaLog) Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	all, err := l.snapshot(prefix)
	if err != nil {
		return err
	}
	for _, e := range all {
		if err := fn(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

type kv struct {
	k string
	v []byte
}

// snapshot copies the view's keys with prefix, in key order; Scan calls
// fn after, out of the view's lock (fn may read the log).
func (l *KafkaLog) snapshot(prefix string) ([]kv, error) {
	l.viewMu.RLock()
	defer l.viewMu.RUnlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	var it goka.Iterator
	var err error
	if prefix == "" {
		it, err = l.view.Iterator()
	} else {
		it, err = l.view.IteratorWithRange(prefix, "")
	}
	if err != nil {
		return nil, err
	}
	// the view's storage (viewStore) iterates over the keys with prefix,
	// in key order
	var all []kv
	for it.Next() {
		k := it.Key()
		v, err := it.Value()
		if err != nil {
			it.Release()
			return nil, err
		}
		b, _ := v.([]byte)
		all = append(all, kv{k, bytes.Clone(b)})
	}
	it.Release()
	if err := it.Err(); err != nil {
		return nil, err
	}
	return all, nil
}

// Sync implements Log with a read barrier bounded by the config's Timeout.
func (l *KafkaLog) Sync(ctx context.Context) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	return l.barrier(ctx, l.cfg.Timeout)
}

// Watch implements Log: changes come from the view as it consumes the
// topic.
func (l *KafkaLog) Watch(ctx context.Context) (<-chan Change, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	return l.hub.watch(ctx)
}

// Writer implements Log: a new transactional producer for owner, which
// fences the older ones, then a read barrier.
func (l *KafkaLog) Writer(ctx context.Context, owner string) (Writer, error) {
	if err := checkOwner(owner); err != nil {
		return nil, err
	}
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	c, err := l.cfg.saramaConfig("writer")
	if err != nil {
		return nil, fmt.Errorf("writer %q: %w", owner, err)
	}
	c.Producer.Idempotent = true
	// sarama retries a batch even once the producer is fenced: a failed
	// write is retried by the caller instead, with a new writer
	c.Producer.Retry.Max = 1
	c.Producer.Retry.Backoff = 20 * time.Millisecond
	c.Net.MaxOpenRequests = 1
	c.Producer.Transaction.ID = l.cfg.TransactionalIDPrefix + owner
	c.Producer.Transaction.Timeout = l.cfg.TransactionTimeout
	c.Producer.Transaction.Retry.Max = 20
	c.Producer.Transaction.Retry.Backoff = 20 * time.Millisecond
	w := &kafkaWriter{l: l, owner: owner, ready: make(chan struct{})}
	// sarama's calls take no context: a broker that hangs is waited for
	// on a goroutine of the writer, which Close waits for
	err = w.run(ctx, func() error {
		p, err := sarama.NewSyncProducer(l.cfg.Brokers, c)
		if err != nil {
			return fmt.Errorf("transactional producer: %w", l.cfg.explain(err))
		}
		w.prod = p
		return nil
	})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("writer %q: %w", owner, w.classify(err))
	}
	if err := l.Sync(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("writer %q: %w", owner, err)
	}
	return w, nil
}

// Close stops the view, the watchers and the emitter; writers must be
// closed first. It may be called more than once.
func (l *KafkaLog) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	close(l.done)
	l.hub.close()
	var errs []error
	if l.emitter != nil {
		errs = append(errs, l.emitter.Finish())
	}
	// the reads under way end before the view stops; later ones see closed
	l.viewMu.Lock()
	defer l.viewMu.Unlock()
	if l.stopView != nil {
		l.stopView()
		<-l.viewDone
		if l.viewErr != nil && !errors.Is(l.viewErr, context.Canceled) {
			errs = append(errs, l.viewErr)
		}
	}
	l.closeViewClients()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close log %q: %w", l.cfg.Topic, err)
	}
	return nil
}

// closeViewClients closes the Kafka clients goka's View leaves open; goka
// closed one of the topic managers itself, hence the errors are ignored.
func (l *KafkaLog) closeViewClients() {
	for _, c := range l.viewClients {
		_ = c.Close()
	}
	l.viewClients = nil
}

// kafkaWriter is one owner's transactional producer.
type kafkaWriter struct {
	l     *KafkaLog
	owner string
	prod  sarama.SyncProducer

	mu     sync.Mutex    // guards the fields below
	ready  chan struct{} // closed when no call is in progress (reset per call)
	busy   bool
	broken error // fenced or gone: every later write fails with it
	closed bool
}

// run runs op (sarama calls, which take no context) on a goroutine of the
// writer and waits for it until ctx ends; a call still running then makes
// the next one wait for it, and Close too.
func (w *kafkaWriter) run(ctx context.Context, op func() error) error {
	w.mu.Lock()
	for w.busy {
		ready := w.ready
		w.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return fmt.Errorf("an earlier call is still running: %w", ctx.Err())
		}
		w.mu.Lock()
	}
	w.busy = true
	w.ready = make(chan struct{})
	ready := w.ready
	w.mu.Unlock()
	res := make(chan error, 1)
	go func() {
		err := op()
		w.mu.Lock()
		w.busy = false
		close(ready)
		w.mu.Unlock()
		res <- err
	}()
	timeout := time.NewTimer(w.l.cfg.Timeout)
	defer timeout.Stop()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout.C:
		return fmt.Errorf("no answer from the brokers within %v: %w", w.l.cfg.Timeout, context.DeadlineExceeded)
	}
}

// classify maps a producer error to ErrFenced, ErrGone or itself.
func (w *kafkaWriter) classify(err error) error {
	switch {
	case errors.Is(err, sarama.ErrProducerFenced), errors.Is(err, sarama.ErrInvalidProducerEpoch),
		w.prod != nil && w.prod.TxnStatus()&sarama.ProducerTxnFlagFatalError != 0 && !errors.Is(err, sarama.ErrUnknownTopicOrPartition):
		return fmt.Errorf("%w: %w", ErrFenced, err)
	case errors.Is(err, sarama.ErrUnknownTopicOrPartition):
		return fmt.Errorf("topic %q: %w: %w", w.l.cfg.Topic, ErrGone, err)
	}
	return err
}

// Write implements Writer: one transaction.
func (w *kafkaWriter) Write(ctx context.Context, records ...Record) error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := checkRecords(records); err != nil {
		return err
	}
	if err := w.l.check(ctx); err != nil {
		return err
	}
	var last int64 = -1
	err := w.run(ctx, func() error {
		if _, err := w.settle(); err != nil {
			return err
		}
		if err := w.prod.BeginTxn(); err != nil {
			return err
		}
		msgs := make([]*sarama.ProducerMessage, len(records))
		for i, r := range records {
			msgs[i] = &sarama.ProducerMessage{Topic: w.l.cfg.Topic, Partition: 0, Key: sarama.StringEncoder(r.Key)}
			if r.Value != nil {
				msgs[i].Value = sarama.ByteEncoder(r.Value)
			}
		}
		if err := w.prod.SendMessages(msgs); err != nil {
			err = unwrapProducerErrors(err)
			if w.prod.TxnStatus()&sarama.ProducerTxnFlagFatalError == 0 {
				err = errors.Join(err, w.prod.AbortTxn())
			}
			w.finishLeftover()
			return err
		}
		for _, m := range msgs {
			last = max(last, m.Offset)
		}
		if err := w.prod.CommitTxn(); err != nil {
			if w.finishLeftover() {
				return nil // its commit, sent again, went through
			}
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writer %q: %w", w.owner, w.failed(err))
	}
	// read your writes; the records are committed whatever happens here
	wctx, cancel := context.WithTimeout(context.Background(), w.l.cfg.Timeout)
	defer cancel()
	return w.l.waitApplied(wctx, last)
}

// Settle implements Writer: it waits for a Write's call still running,
// then commits or aborts the transaction it left open (settle).
func (w *kafkaWriter) Settle(ctx context.Context) error {
	if err := w.usable(); err != nil {
		return err
	}
	err := w.run(ctx, func() error {
		if _, err := w.settle(); err != nil {
			return err
		}
		if w.prod.TxnStatus()&sarama.ProducerTxnFlagFatalError != 0 {
			// fenced: its transaction is the coordinator's to abort
			return sarama.ErrProducerFenced
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writer %q: settle: %w", w.owner, w.failed(err))
	}
	return nil
}

// usable returns why the writer may not write any more, or nil.
func (w *kafkaWriter) usable() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.broken
}

// failed classifies a call's error; once fenced or gone, the writer stays
// broken.
func (w *kafkaWriter) failed(err error) error {
	err = w.classify(err)
	if errors.Is(err, ErrFenced) || errors.Is(err, ErrGone) {
		w.mu.Lock()
		w.broken = err
		w.mu.Unlock()
	}
	return err
}

// settle ends the transaction a write left unfinished, so that a new
// one may begin (sarama refuses to begin another until then): a write
// whose EndTxn got no answer while the brokers stalled left its commit (or
// abort) under way, which is sent again — the coordinator completes it or
// answers that it did —, and a transaction left in error is aborted. The
// producer keeps its epoch (or bumps it itself, as Kafka allows): nobody is
// fenced. committed reports a commit completed so. A failed write may so
// be committed late: its caller relies on it neither way (see
// Writer.Write), and one that writes what it computed from what it
// believes the log holds (the ledger) calls Settle and reads the view
// before it writes again.
func (w *kafkaWriter) settle() (committed bool, err error) {
	st := w.prod.TxnStatus()
	switch {
	case st&sarama.ProducerTxnFlagReady != 0 || st&sarama.ProducerTxnFlagFatalError != 0:
		return false, nil // ready, or fenced for good (BeginTxn says so)
	case st&sarama.ProducerTxnFlagEndTransaction != 0 && st&sarama.ProducerTxnFlagCommittingTransaction != 0 && st&sarama.ProducerTxnFlagInError == 0:
		err = w.prod.CommitTxn()
		committed = err == nil
	default: // in error, aborting, or initializing after an epoch bump
		err = w.prod.AbortTxn()
	}
	if err != nil {
		return false, fmt.Errorf("end the transaction an earlier write left unfinished (%v): %w", st, err)
	}
	return committed, nil
}

// finishLeftover settles the transaction a failed write left unfinished
// at once, trying again (every 100 ms to 1 s) until it is ended, the
// writer closes, or the transaction timeout has passed (the coordinator
// aborted it then): while it stays open, Kafka holds every read_committed
// reader of the topic before it — the views of every process, waiting to
// read the other owners' writes too. It reports whether it committed the
// transaction.
func (w *kafkaWriter) finishLeftover() (committed bool) {
	deadline := time.Now().Add(w.l.cfg.TransactionTimeout)
	for d := 100 * time.Millisecond; ; d = min(2*d, time.Second) {
		committed, err := w.settle()
		if err == nil {
			return committed
		}
		w.mu.Lock()
		closed := w.closed
		w.mu.Unlock()
		if closed || time.Now().After(deadline) {
			return false
		}
		time.Sleep(d)
	}
}

// Close implements Writer: it waits for a call still running, then closes
// the producer.
func (w *kafkaWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	for w.busy {
		ready := w.ready
		w.mu.Unlock()
		<-ready
		w.mu.Lock()
	}
	w.mu.Unlock()
	if w.prod != nil {
		return w.prod.Close()
	}
	return nil
}

// unwrapProducerErrors turns sarama's ProducerErrors (which errors.Is
// cannot see into) into a join of its distinct errors.
func unwrapProducerErrors(err error) error {
	var pes sarama.ProducerErrors
	if !errors.As(err, &pes) || len(pes) == 0 {
		return err
	}
	var errs []error
	seen := map[string]bool{}
	for _, pe := range pes {
		if pe != nil && pe.Err != nil && !seen[pe.Err.Error()] {
			seen[pe.Err.Error()] = true
			errs = append(errs, pe.Err)
		}
	}
	return fmt.Errorf("%d records failed: %w", len(pes), errors.Join(errs...))
}

// Topic returns the log's topic.
func (l *KafkaLog) Topic() string { return l.cfg.Topic }
