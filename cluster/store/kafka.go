package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
)

// KafkaStore keeps the cluster state in one compacted, single-partition
// Kafka topic, for production: workers keep nothing, and a worker that
// restarts reads everything back from the topic.
//
// Records are keyed "topology/NAME", "assignment/NAME" and "lease/NAME"; values are the
// same JSON as the FileStore's files; a deletion is a tombstone (a null
// value), which compaction eventually removes.
//
// Reads come from a goka View of the topic, materialised in memory and
// kept up to date by the view's consumer (isolation read_committed). The
// view's update callback also feeds Watch, so watchers learn of changes
// as soon as the record is consumed, without polling.
//
// Writes are compare-and-set, linearizable over all the KafkaStores on the
// topic (any number of processes), through Kafka's transactional fencing:
// every KafkaStore on a topic writes with the same transactional.id
// ("gale-store-" + topic), so initialising a producer (InitProducerID)
// fences every other writer: their open transaction is aborted and their
// next one refused. A write, serialised with the other writes of the same
// store, is
//
//  1. a read barrier: a record (a tombstone keyed "barrier") sent with a
//     goka Emitter, waiting until the view has consumed it, so that the
//     view holds every record committed before;
//  2. the check (version, epoch) against the view: a conflict fails here,
//     without disturbing anyone;
//  3. a new transactional producer: InitProducerID fences the others;
//  4. a second barrier and the check again: a writer may have committed
//     between 1 and 3;
//  5. the record, in a transaction of its own, whose commit succeeds only
//     if no other store initialised a producer since 3: no other write
//     can have slipped in between the check of 4 and the commit;
//  6. waiting until the view has consumed the record (read your writes),
//     and closing the producer.
//
// A write fenced by another retries (WriteAttempts, with jittered
// backoff), fencing first. Before checking again it compares the stored
// record with the one it failed to commit, so a commit whose outcome was
// unknown (a lost response) is reported as the success it was (a
// deletion cannot be recognised so: retried, it may report ErrNotFound
// although it deleted the record). Writers that come one after the other
// cost a producer initialisation each (a few ms); writers that overlap
// fence each other and retry, so the writes of a topic are serialised:
// this is a store for control-plane state, not for data.
//
// A writer that died in the middle of its transaction (a window of a few
// milliseconds) holds every read_committed reader back until its
// transaction times out (its TransactionTimeout, then the coordinator's
// periodic check); the next write waits 2 s for its first barrier, then
// fences the dead writer, which aborts that transaction at once.
//
// Reads are served from the local view: a store reads its own writes, and
// a Watch event's version or a newer one, but may lag other stores' writes
// by the time the view takes to consume them (milliseconds); Sync waits
// for them. A new store reads the whole topic before OpenKafkaStore
// returns.
//
// Durability is Kafka's: a write returns once its transaction committed
// with acks=all. Production wants a replication factor of 3,
// min.insync.replicas 2 and no unclean leader election, on the topic and
// on __transaction_state.
type KafkaStore struct {
	cfg     KafkaConfig
	view    *goka.View
	emitter *goka.Emitter
	hub     *hub

	closed   atomic.Bool
	done     chan struct{} // closed by Close
	stopView context.CancelFunc
	viewDone chan struct{} // closed when the view's Run returned
	viewErr  error         // Run's error; read after viewDone
	// viewClients are the clients built for the view (by NewView, in this
	// goroutine); closed after the view's Run returned.
	viewClients []interface{ Close() error }
	writeMu     sync.Mutex // serialises the writes of this store

	appliedMu sync.Mutex    // guards the fields below
	applied   int64         // offset of the last record the view consumed
	appliedCh chan struct{} // closed (and replaced) when applied grows
}

var (
	_ Store  = (*KafkaStore)(nil)
	_ Syncer = (*KafkaStore)(nil)
)

// KafkaConfig configures a KafkaStore. Zero fields, but Brokers, take the
// values of DefaultKafkaConfig.
type KafkaConfig struct {
	// Brokers are the bootstrap brokers ("host:port").
	Brokers []string
	// Topic holds the state; created when missing (one partition,
	// cleanup.policy=compact). An existing topic must have one partition
	// and a compacting cleanup policy.
	Topic string
	// ReplicationFactor is used when creating the topic; 0 means the
	// broker's default. Production wants 3 (and min.insync.replicas 2 on
	// the topic or the broker).
	ReplicationFactor int16
	// KafkaVersion is the protocol version spoken ("4.0.0" by default).
	KafkaVersion string
	// ClientID prefixes the Kafka client ids.
	ClientID string
	// Timeout bounds opening the store, each read barrier, and waiting for
	// the view to consume a write.
	Timeout time.Duration
	// WriteAttempts is how often a write is tried when it is fenced by a
	// concurrent writer or fails on the way.
	WriteAttempts int
	// TransactionTimeout is the transaction timeout; a writer that dies
	// in the middle of a write holds the readers of the topic back until
	// it expires or the next write fences it.
	TransactionTimeout time.Duration
	// Logger receives goka's messages; nil keeps goka's default (the
	// standard logger's output).
	Logger goka.Logger
}

// DefaultKafkaConfig returns the defaults for brokers.
func DefaultKafkaConfig(brokers ...string) KafkaConfig {
	return KafkaConfig{
		Brokers:            brokers,
		Topic:              "gale-cluster-state",
		KafkaVersion:       "4.0.0",
		ClientID:           "gale-store",
		Timeout:            30 * time.Second,
		WriteAttempts:      10,
		TransactionTimeout: 10 * time.Second,
	}
}

// withDefaults fills the zero fields (but Brokers) with the defaults.
func (c KafkaConfig) withDefaults() KafkaConfig {
	d := DefaultKafkaConfig()
	if c.Topic == "" {
		c.Topic = d.Topic
	}
	if c.KafkaVersion == "" {
		c.KafkaVersion = d.KafkaVersion
	}
	if c.ClientID == "" {
		c.ClientID = d.ClientID
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.WriteAttempts == 0 {
		c.WriteAttempts = d.WriteAttempts
	}
	if c.TransactionTimeout == 0 {
		c.TransactionTimeout = d.TransactionTimeout
	}
	return c
}

// Validate checks the configuration; zero fields (but Brokers) stand for
// the defaults of DefaultKafkaConfig.
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
	if c.Timeout <= 0 || c.TransactionTimeout <= 0 {
		errs = append(errs, fmt.Errorf("timeouts %v, %v must be positive", c.Timeout, c.TransactionTimeout))
	}
	if c.WriteAttempts < 1 {
		errs = append(errs, fmt.Errorf("write attempts %d < 1", c.WriteAttempts))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafka store config: %w", err)
	}
	return nil
}

// saramaConfig is the base configuration of every client of the store.
func (c KafkaConfig) saramaConfig(role string) *sarama.Config {
	sc := sarama.NewConfig()
	sc.Version, _ = sarama.ParseKafkaVersion(c.KafkaVersion)
	sc.ClientID = c.ClientID + "-" + role
	sc.Net.DialTimeout = 5 * time.Second
	sc.Metadata.AllowAutoTopicCreation = false
	sc.Consumer.IsolationLevel = sarama.ReadCommitted
	sc.Consumer.Return.Errors = true
	sc.Consumer.MaxWaitTime = 100 * time.Millisecond
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	sc.Producer.Partitioner = sarama.NewManualPartitioner
	return sc
}

const barrierKey = "barrier"

// OpenKafkaStore validates cfg, creates the topic if needed, reads it into a view and
// returns once the view holds every record committed before the call. ctx
// bounds the opening only.
func OpenKafkaStore(ctx context.Context, cfg KafkaConfig) (*KafkaStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := ensureTopic(ctx, cfg); err != nil {
		return nil, err
	}
	s := &KafkaStore{cfg: cfg, hub: newHub(), done: make(chan struct{}), viewDone: make(chan struct{}),
		applied: -1, appliedCh: make(chan struct{})}

	tmc := goka.NewTopicManagerConfig()
	tmc.NoCreate = true
	viewOpts := []goka.ViewOption{
		goka.WithViewClientID(cfg.ClientID + "-view"),
		goka.WithViewCallback(s.update),
		goka.WithViewStorageBuilder(storage.MemoryBuilder()),
		// goka's View never closes the consumer and the topic manager it
		// builds: the store keeps them and closes them after the view.
		goka.WithViewConsumerSaramaBuilder(func(brokers []string, _ string) (sarama.Consumer, error) {
			c, err := sarama.NewConsumer(brokers, cfg.saramaConfig("view"))
			if err == nil {
				s.viewClients = append(s.viewClients, c)
			}
			return c, err
		}),
		goka.WithViewTopicManagerBuilder(func(brokers []string) (goka.TopicManager, error) {
			tm, err := goka.NewTopicManager(brokers, cfg.saramaConfig("view-tm"), tmc)
			if err == nil {
				s.viewClients = append(s.viewClients, tm)
			}
			return tm, err
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
		s.closeViewClients()
		return nil, fmt.Errorf("open kafka store on %q: view: %w", cfg.Topic, err)
	}
	s.view = view
	pc := cfg.saramaConfig("emitter")
	pc.Producer.Flush.Frequency = 0 // a barrier goes out at once
	emitterOpts := []goka.EmitterOption{
		goka.WithEmitterClientID(cfg.ClientID + "-emitter"),
		goka.WithEmitterProducerBuilder(goka.ProducerBuilderWithConfig(pc)),
	}
	if cfg.Logger != nil {
		emitterOpts = append(emitterOpts, goka.WithEmitterLogger(cfg.Logger))
	}
	s.emitter, err = goka.NewEmitter(cfg.Brokers, goka.Stream(cfg.Topic), new(codec.Bytes), emitterOpts...)
	if err != nil {
		s.closeViewClients()
		return nil, fmt.Errorf("open kafka store on %q: emitter: %w", cfg.Topic, err)
	}
	viewCtx, stop := context.WithCancel(context.Background())
	s.stopView = stop
	go func() {
		defer close(s.viewDone)
		s.viewErr = view.Run(viewCtx)
	}()
	if err := s.barrier(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open kafka store on %q: read the topic: %w", cfg.Topic, err)
	}
	return s, nil
}

// ensureTopic creates the topic, or checks that the existing one has one
// partition and is compacted.
func ensureTopic(ctx context.Context, cfg KafkaConfig) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	admin, err := sarama.NewClusterAdmin(cfg.Brokers, cfg.saramaConfig("admin"))
	if err != nil {
		return fmt.Errorf("kafka store on %v: %w", cfg.Brokers, err)
	}
	defer admin.Close()
	compact := "compact"
	rf := cfg.ReplicationFactor
	if rf == 0 {
		rf = -1
	}
	err = admin.CreateTopic(cfg.Topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: rf,
		ConfigEntries: map[string]*string{"cleanup.policy": &compact}}, false)
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
		return fmt.Errorf("topic %q has %d partitions, want 1 (the store needs one order of writes)", cfg.Topic, n)
	}
	entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: cfg.Topic,
		ConfigNames: []string{"cleanup.policy"}})
	if err != nil {
		return fmt.Errorf("describe the config of topic %q: %w", cfg.Topic, err)
	}
	for _, e := range entries {
		if e.Name == "cleanup.policy" && !slices.Contains(strings.Split(e.Value, ","), "compact") {
			return fmt.Errorf("topic %q has cleanup.policy=%s, want compact (deleted segments would lose records)", cfg.Topic, e.Value)
		}
	}
	return nil
}

// update is the view's callback: it applies a record of the topic to the
// view's storage, tells the watchers, and advances the consumed offset.
func (s *KafkaStore) update(ctx goka.UpdateContext, st storage.Storage, key string, value []byte) error {
	if kind, name, ok := parseKey(key); ok {
		ev := Event{Kind: kind, Name: name}
		var err error
		if value == nil {
			err = st.Delete(key)
			ev.Deleted = true
		} else {
			err = st.Set(key, value)
			if n, v, derr := decodeVersion(kind, value); derr == nil && n == name {
				ev.Version = v
			}
		}
		if err != nil {
			return fmt.Errorf("apply %s: %w", key, err)
		}
		if kind != KindLease {
			s.hub.publish(ev)
		}
	}
	s.appliedMu.Lock()
	if off := ctx.Offset(); off > s.applied {
		s.applied = off
		close(s.appliedCh)
		s.appliedCh = make(chan struct{})
	}
	s.appliedMu.Unlock()
	return nil
}

// waitApplied waits until the view has consumed offset off.
func (s *KafkaStore) waitApplied(ctx context.Context, off int64) error {
	for {
		s.appliedMu.Lock()
		applied, ch := s.applied, s.appliedCh
		s.appliedMu.Unlock()
		if applied >= off {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return ErrClosed
		case <-s.viewDone:
			select {
			case <-s.done: // Close stopped the view: its error is context.Canceled
				return ErrClosed
			default:
			}
			return fmt.Errorf("the view of topic %q stopped: %w", s.cfg.Topic, s.viewErr)
		}
	}
}

// barrier returns once the view holds every record committed before the
// call: it appends a record and waits until the view has consumed it
// (read_committed, so it also waits for the transactions before it to
// end).
func (s *KafkaStore) barrier(ctx context.Context) error {
	return s.barrierWithin(ctx, s.cfg.Timeout)
}

// errStalled: a read barrier timed out.
var errStalled = errors.New("the view does not advance")

// barrierWithin is barrier, failing with errStalled after d.
func (s *KafkaStore) barrierWithin(ctx context.Context, d time.Duration) error {
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	stalled := func(err error) error {
		if outer.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w within %v: %w", errStalled, d, err)
		}
		return err
	}
	type result struct {
		off int64
		err error
	}
	res := make(chan result, 1)
	p, err := s.emitter.Emit(barrierKey, nil)
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
		if err := s.waitApplied(ctx, r.off); err != nil {
			return fmt.Errorf("read barrier at offset %d: %w", r.off, stalled(err))
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("read barrier: %w", stalled(ctx.Err()))
	case <-s.done:
		return ErrClosed
	}
}

// Sync implements Syncer with a read barrier.
func (s *KafkaStore) Sync(ctx context.Context) error {
	if err := s.checkOpen(ctx); err != nil {
		return wrap("sync", "", "", err)
	}
	return wrap("sync", "", "", s.barrier(ctx))
}

// Close stops the view, the watchers and the producers. A write in
// progress fails with ErrClosed (it may still have happened).
func (s *KafkaStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.done)
	s.hub.close()
	var errs []error
	s.writeMu.Lock() // a write in progress ends (ErrClosed) and closes its producer
	s.writeMu.Unlock()
	if s.emitter != nil {
		errs = append(errs, s.emitter.Finish())
	}
	if s.stopView != nil {
		s.stopView()
		<-s.viewDone
		if s.viewErr != nil && !errors.Is(s.viewErr, context.Canceled) {
			errs = append(errs, s.viewErr)
		}
	}
	s.closeViewClients()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close kafka store on %q: %w", s.cfg.Topic, err)
	}
	return nil
}

// closeViewClients closes the Kafka clients goka's View leaves open; goka
// closed one of the topic managers itself, hence the errors are ignored.
func (s *KafkaStore) closeViewClients() {
	for _, c := range s.viewClients {
		_ = c.Close()
	}
	s.viewClients = nil
}

func (s *KafkaStore) checkOpen(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// raw returns the stored value of key in the view, nil when none.
func (s *KafkaStore) raw(key string) ([]byte, error) {
	v, err := s.view.Get(key)
	if err != nil || v == nil {
		return nil, err
	}
	b, _ := v.([]byte)
	return b, nil
}

func (s *KafkaStore) topology(name string) (*Topology, error) {
	b, err := s.raw(recordKey(KindTopology, name))
	if err != nil || b == nil {
		return nil, err
	}
	t, err := decodeTopology(b)
	if err == nil && t.Name != name {
		err = fmt.Errorf("%w: the record holds topology %q", ErrCorrupt, t.Name)
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *KafkaStore) assignment(name string) (*Assignment, error) {
	b, err := s.raw(recordKey(KindAssignment, name))
	if err != nil || b == nil {
		return nil, err
	}
	a, err := decodeAssignment(b)
	if err == nil && a.Topology != name {
		err = fmt.Errorf("%w: the record holds the assignment of %q", ErrCorrupt, a.Topology)
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// newProducer initialises a transactional producer, which fences every
// other writer of the topic: their open transaction is aborted, their next
// one refused.
func (s *KafkaStore) newProducer() (sarama.SyncProducer, error) {
	c := s.cfg.saramaConfig("writer")
	c.Producer.Idempotent = true
	// sarama retries a batch even once the producer is fenced; a fenced or
	// failed write is retried by write instead, with a new producer
	c.Producer.Retry.Max = 1
	c.Producer.Retry.Backoff = 20 * time.Millisecond
	c.Net.MaxOpenRequests = 1
	c.Producer.Transaction.ID = "gale-store-" + s.cfg.Topic
	c.Producer.Transaction.Timeout = s.cfg.TransactionTimeout
	c.Producer.Transaction.Retry.Max = 20
	c.Producer.Transaction.Retry.Backoff = 20 * time.Millisecond
	p, err := sarama.NewSyncProducer(s.cfg.Brokers, c)
	if err != nil {
		return nil, fmt.Errorf("transactional producer: %w", err)
	}
	return p, nil
}

// commit writes one record (value nil: a tombstone) in a transaction and
// returns its offset.
func (s *KafkaStore) commit(prod sarama.SyncProducer, key string, value []byte) (int64, error) {
	if err := prod.BeginTxn(); err != nil {
		return -1, err
	}
	msg := &sarama.ProducerMessage{Topic: s.cfg.Topic, Partition: 0, Key: sarama.StringEncoder(key)}
	if value != nil {
		msg.Value = sarama.ByteEncoder(value)
	}
	_, off, err := prod.SendMessage(msg)
	if err != nil {
		if prod.TxnStatus()&sarama.ProducerTxnFlagFatalError == 0 {
			err = errors.Join(err, prod.AbortTxn())
		}
		return -1, err
	}
	if err := prod.CommitTxn(); err != nil {
		return -1, err
	}
	return off, nil
}

// stallPatience is how long the first read barrier of a write may take
// before the write fences the other writers and tries again.
const stallPatience = 2 * time.Second

// errFenced marks a write that lost its producer to another writer.
var errFenced = errors.New("fenced by another writer")

// write runs the compare-and-set protocol of the type's doc for key:
// decide reads the view and returns the value to write (nil: delete the
// record) or the error of the check. decide may run several times.
func (s *KafkaStore) write(ctx context.Context, key string, decide func() ([]byte, error)) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var (
		attempted []byte // the value of a commit that failed
		lastErr   error
	)
	for attempt := range s.cfg.WriteAttempts {
		if attempt > 0 {
			// jittered backoff: the writer that fenced us gets time to
			// finish before we fence it in turn
			d := time.Duration(5+rand.IntN(20)) * time.Millisecond << min(attempt-1, 5)
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return errors.Join(ctx.Err(), lastErr)
			case <-s.done:
				t.Stop()
				return ErrClosed
			}
		}
		done, tried, err := s.tryWrite(ctx, key, decide, attempt > 0, attempted)
		if done {
			return err
		}
		lastErr = err
		if tried != nil {
			attempted = tried
		}
	}
	return fmt.Errorf("%d attempts: %w", s.cfg.WriteAttempts, lastErr)
}

// tryWrite makes one attempt of write; done is false when the attempt
// failed in a way that a new attempt may fix, and then tried is the value
// it failed to commit, if it got that far. retry says whether an earlier
// attempt failed; attempted is what it tried to write.
func (s *KafkaStore) tryWrite(ctx context.Context, key string, decide func() ([]byte, error), retry bool, attempted []byte) (done bool, tried []byte, err error) {
	var prod sarama.SyncProducer
	defer func() {
		if prod != nil {
			_ = prod.Close()
		}
	}()
	if retry {
		// fence first: this ends a transaction an earlier attempt may
		// have left open, which would hold the barrier back
		if prod, err = s.newProducer(); err != nil {
			return false, nil, err
		}
	}
	if s.closed.Load() {
		return true, nil, ErrClosed
	}
	// A writer that died in the middle of its transaction holds the
	// read_committed view back until its transaction times out; a new
	// producer aborts that transaction at once. So a barrier that stalls
	// is retried, fencing first.
	patience := s.cfg.Timeout
	if !retry {
		patience = min(patience, stallPatience)
	}
	if err := s.barrierWithin(ctx, patience); err != nil {
		return retry || !errors.Is(err, errStalled), nil, err
	}
	if attempted != nil {
		if cur, err := s.raw(key); err == nil && bytes.Equal(cur, attempted) {
			return true, nil, nil // the failed commit had gone through
		}
	}
	value, err := decide() // a conflict fails here without fencing anyone
	if err != nil {
		return true, nil, err
	}
	if prod == nil {
		if prod, err = s.newProducer(); err != nil {
			return false, nil, err
		}
		// a writer may have committed between the barrier and the fencing
		if err := s.barrier(ctx); err != nil {
			return true, nil, err
		}
		if value, err = decide(); err != nil {
			return true, nil, err
		}
	}
	off, err := s.commit(prod, key, value)
	switch {
	case err == nil:
	case errors.Is(err, sarama.ErrMessageSizeTooLarge):
		return true, nil, err // no attempt can fix it
	case errors.Is(err, sarama.ErrProducerFenced) || errors.Is(err, sarama.ErrInvalidProducerEpoch):
		return false, value, fmt.Errorf("%w: %w", errFenced, err)
	default:
		return false, value, err
	}
	// read your writes; the record is committed whatever happens here
	wctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	_ = s.waitApplied(wctx, off)
	cancel()
	return true, nil, nil
}

// PutTopology implements Store.
func (s *KafkaStore) PutTopology(ctx context.Context, t Topology, expected uint64) (Topology, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Topology{}, wrap("put", KindTopology, t.Name, err)
	}
	if err := checkTopology("put", t); err != nil {
		return Topology{}, err
	}
	var out Topology
	err := s.write(ctx, recordKey(KindTopology, t.Name), func() ([]byte, error) {
		cur, err := s.topology(t.Name)
		if err != nil {
			return nil, err
		}
		if err := checkPut(t.Name, cur, expected); err != nil {
			return nil, err
		}
		out = nextTopology(t, cur, now())
		return encodeTopology(out)
	})
	if err != nil {
		return Topology{}, wrap("put", KindTopology, t.Name, err)
	}
	return out, nil
}

// GetTopology implements Store.
func (s *KafkaStore) GetTopology(ctx context.Context, name string) (Topology, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Topology{}, wrap("get", KindTopology, name, err)
	}
	if err := checkName("get", KindTopology, name); err != nil {
		return Topology{}, err
	}
	t, err := s.topology(name)
	if err != nil {
		return Topology{}, wrap("get", KindTopology, name, err)
	}
	if t == nil {
		return Topology{}, &RecordError{Op: "get", Kind: KindTopology, Name: name, Err: ErrNotFound}
	}
	return *t, nil
}

// ListTopologies implements Store.
func (s *KafkaStore) ListTopologies(ctx context.Context) ([]Topology, error) {
	if err := s.checkOpen(ctx); err != nil {
		return nil, wrap("list", KindTopology, "", err)
	}
	it, err := s.view.IteratorWithRange(topologyPrefix, "")
	if err != nil {
		return nil, wrap("list", KindTopology, "", err)
	}
	defer it.Release()
	var ts []Topology
	for it.Next() {
		kind, name, ok := parseKey(it.Key())
		if !ok || kind != KindTopology {
			continue
		}
		v, err := it.Value()
		if err != nil {
			return nil, wrap("list", KindTopology, name, err)
		}
		b, _ := v.([]byte)
		t, err := decodeTopology(b)
		if err == nil && t.Name != name {
			err = fmt.Errorf("%w: the record holds topology %q", ErrCorrupt, t.Name)
		}
		if err != nil {
			return nil, wrap("list", KindTopology, name, err)
		}
		ts = append(ts, t)
	}
	if err := it.Err(); err != nil {
		return nil, wrap("list", KindTopology, "", err)
	}
	slices.SortFunc(ts, func(a, b Topology) int { return strings.Compare(a.Name, b.Name) })
	return ts, nil
}

// DeleteTopology implements Store.
func (s *KafkaStore) DeleteTopology(ctx context.Context, name string, expected uint64) error {
	if err := s.checkOpen(ctx); err != nil {
		return wrap("delete", KindTopology, name, err)
	}
	if err := checkName("delete", KindTopology, name); err != nil {
		return err
	}
	err := s.write(ctx, recordKey(KindTopology, name), func() ([]byte, error) {
		cur, err := s.topology(name)
		if err != nil {
			return nil, err
		}
		return nil, checkDelete(name, cur, expected)
	})
	return wrap("delete", KindTopology, name, err)
}

// PutAssignment implements Store.
func (s *KafkaStore) PutAssignment(ctx context.Context, a Assignment) (Assignment, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Assignment{}, wrap("put", KindAssignment, a.Topology, err)
	}
	if err := checkAssignment("put", a); err != nil {
		return Assignment{}, err
	}
	var out Assignment
	err := s.write(ctx, recordKey(KindAssignment, a.Topology), func() ([]byte, error) {
		cur, err := s.assignment(a.Topology)
		if err != nil {
			return nil, err
		}
		if err := checkEpoch(a, cur); err != nil {
			return nil, err
		}
		out = nextAssignment(a, now())
		return encodeAssignment(out)
	})
	if err != nil {
		return Assignment{}, wrap("put", KindAssignment, a.Topology, err)
	}
	return out, nil
}

// GetAssignment implements Store.
func (s *KafkaStore) GetAssignment(ctx context.Context, name string) (Assignment, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Assignment{}, wrap("get", KindAssignment, name, err)
	}
	if err := checkName("get", KindAssignment, name); err != nil {
		return Assignment{}, err
	}
	a, err := s.assignment(name)
	if err != nil {
		return Assignment{}, wrap("get", KindAssignment, name, err)
	}
	if a == nil {
		return Assignment{}, &RecordError{Op: "get", Kind: KindAssignment, Name: name, Err: ErrNotFound}
	}
	return *a, nil
}

// DeleteAssignment implements Store.
func (s *KafkaStore) DeleteAssignment(ctx context.Context, name string, epoch uint64) error {
	if err := s.checkOpen(ctx); err != nil {
		return wrap("delete", KindAssignment, name, err)
	}
	if err := checkName("delete", KindAssignment, name); err != nil {
		return err
	}
	err := s.write(ctx, recordKey(KindAssignment, name), func() ([]byte, error) {
		cur, err := s.assignment(name)
		if err != nil {
			return nil, err
		}
		return nil, checkDeleteAssignment(name, cur, epoch)
	})
	return wrap("delete", KindAssignment, name, err)
}

// Watch implements Store: events come from the view as it consumes the
// topic.
func (s *KafkaStore) Watch(ctx context.Context) (<-chan Event, error) {
	if err := s.checkOpen(ctx); err != nil {
		return nil, wrap("watch", "", "", err)
	}
	return s.hub.watch(ctx)
}

func (s *KafkaStore) lease(name string) (*Lease, error) {
	b, err := s.raw(recordKey(KindLease, name))
	if err != nil || b == nil {
		return nil, err
	}
	l, err := decodeLease(b)
	if err == nil && l.Name != name {
		err = fmt.Errorf("%w: the record holds lease %q", ErrCorrupt, l.Name)
	}
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// PutLease implements Store.
func (s *KafkaStore) PutLease(ctx context.Context, l Lease, expected uint64) (Lease, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Lease{}, wrap("put", KindLease, l.Name, err)
	}
	if err := checkLease("put", l); err != nil {
		return Lease{}, err
	}
	var out Lease
	err := s.write(ctx, recordKey(KindLease, l.Name), func() ([]byte, error) {
		cur, err := s.lease(l.Name)
		if err != nil {
			return nil, err
		}
		if err := checkLeasePut(l.Name, cur, expected); err != nil {
			return nil, err
		}
		out = nextLease(l, cur, now())
		return encodeLease(out)
	})
	if err != nil {
		return Lease{}, wrap("put", KindLease, l.Name, err)
	}
	return out, nil
}

// GetLease implements Store.
func (s *KafkaStore) GetLease(ctx context.Context, name string) (Lease, error) {
	if err := s.checkOpen(ctx); err != nil {
		return Lease{}, wrap("get", KindLease, name, err)
	}
	if err := checkName("get", KindLease, name); err != nil {
		return Lease{}, err
	}
	l, err := s.lease(name)
	if err != nil {
		return Lease{}, wrap("get", KindLease, name, err)
	}
	if l == nil {
		return Lease{}, &RecordError{Op: "get", Kind: KindLease, Name: name, Err: ErrNotFound}
	}
	return *l, nil
}
