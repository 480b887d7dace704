package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lovoo/goka"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/kvlog"
)

// KafkaStore keeps the cluster state in one compacted, single-partition
// Kafka topic, for production: workers keep nothing, and a worker that
// restarts reads everything back from the topic.
//
// The topic is a kvlog.KafkaLog, the core the batch ledger sits on too: it
// creates and checks the topic (one partition, compacting), reads it into
// a view kept up to date by a read_committed consumer (which feeds Watch
// as well), makes Sync a read barrier, and fences writers through Kafka's
// transactions. Records are keyed "topology/NAME", "assignment/NAME" and
// "lease/NAME"; values are the JSON of codec.go; a deletion is a
// tombstone, which compaction eventually removes.
//
// Every write is a kvlog.Update by one owner for the whole topic, whose
// transactional.id is "gale-store-" + topic: it reads the record from the
// view up to date, checks the version or epoch (a conflict fails there,
// fencing no one), fences every other writer of the topic, reads and checks
// again, and commits in a transaction that only succeeds if no one fenced
// it in between; a fenced write is retried (WriteAttempts), and a write
// whose outcome was unknown is reported as the success it was when the
// view holds what it wrote. So writes are compare-and-set, linearizable
// over all the KafkaStores on the topic; they are serialised, which suits
// control-plane state, not data. The transactional.id is the one of the
// KafkaStore Gale had before kvlog, whose topic this store reads as is:
// old and new workers fence each other, so a rolling upgrade is safe.
//
// A writer that died in the middle of its transaction holds the view back
// until its transaction times out (TransactionTimeout); the next write
// waits 2 s for its read barrier, then fences the dead writer, which
// aborts that transaction at once.
//
// Reads are served from the local view: a store reads its own writes, and
// a Watch event's version or a newer one, but may lag other stores' writes
// by the time the view takes to consume them (milliseconds); Sync waits
// for them. A new store reads the topic before OpenKafkaStore returns.
//
// Durability is Kafka's: a write returns once its transaction committed
// with acks=all. Production wants a replication factor of 3,
// min.insync.replicas 2 and no unclean leader election, on the topic and
// on __transaction_state.
type KafkaStore struct {
	*logStore
	topic string
}

var (
	_ Store  = (*KafkaStore)(nil)
	_ Syncer = (*KafkaStore)(nil)
)

// KafkaConfig configures a KafkaStore. Zero fields, but Brokers, take the
// values of DefaultKafkaConfig. A topic the store creates compacts with
// kvlog's defaults (kvlog.DefaultKafkaConfig).
type KafkaConfig struct {
	// Brokers are the bootstrap brokers ("host:port").
	Brokers []string
	// Security is the brokers' TLS and SASL (`gale worker --store-tls-*
	// --store-sasl-*`); the zero value is plaintext without a login.
	Security kafkasec.Security
	// Topic holds the state; created when missing (one partition,
	// compacting). An existing topic must have one partition and a
	// compacting cleanup policy.
	Topic string
	// ReplicationFactor is used when creating the topic; 0 means the
	// broker's default. Production wants 3 (and min.insync.replicas 2 on
	// the topic or the broker).
	ReplicationFactor int16
	// KafkaVersion is the protocol version spoken ("4.0.0" by default).
	KafkaVersion string
	// ClientID prefixes the Kafka client ids.
	ClientID string
	// Timeout bounds opening the store, each read barrier, each commit,
	// and every request to the brokers.
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

// logConfig is the configuration of the store's log.
func (c KafkaConfig) logConfig() kvlog.KafkaConfig {
	c = c.withDefaults()
	lc := kvlog.DefaultKafkaConfig(c.Brokers, c.Topic)
	lc.Security = c.Security
	lc.ReplicationFactor = c.ReplicationFactor
	lc.KafkaVersion = c.KafkaVersion
	lc.ClientID = c.ClientID
	// the owner is the topic: "gale-store-" + topic, as before kvlog
	lc.TransactionalIDPrefix = "gale-store-"
	lc.Timeout = c.Timeout
	lc.TransactionTimeout = c.TransactionTimeout
	lc.Logger = c.Logger
	return lc
}

// Validate checks the configuration; zero fields (but Brokers) stand for
// the defaults of DefaultKafkaConfig.
func (c KafkaConfig) Validate() error {
	c = c.withDefaults()
	errs := []error{c.logConfig().Validate()}
	if c.WriteAttempts < 1 {
		errs = append(errs, fmt.Errorf("write attempts %d < 1", c.WriteAttempts))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafka store config: %w", err)
	}
	return nil
}

// OpenKafkaStore validates cfg, creates the topic if needed, reads it into
// a view and returns once the view holds every record committed before
// the call. ctx bounds the opening only.
func OpenKafkaStore(ctx context.Context, cfg KafkaConfig) (*KafkaStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	l, err := kvlog.OpenKafka(ctx, cfg.logConfig())
	if err != nil {
		return nil, fmt.Errorf("open kafka store: %w", err)
	}
	return &KafkaStore{logStore: newLogStore(l, cfg.Topic, kvlog.UpdateOptions{Attempts: cfg.WriteAttempts}), topic: cfg.Topic}, nil
}

// Sync implements Syncer with a read barrier.
func (s *KafkaStore) Sync(ctx context.Context) error { return s.sync(ctx) }

// Close stops the view, the watchers and the writes in progress, which
// fail with ErrClosed (they may still have happened). It may be called
// more than once.
func (s *KafkaStore) Close() error {
	if err := s.close(); err != nil {
		return fmt.Errorf("close kafka store on %q: %w", s.topic, err)
	}
	return nil
}
