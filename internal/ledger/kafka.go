package ledger

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/kvlog"
)

// KafkaStore keeps the ledgers of many partitions in one compacted Kafka
// topic (a kvlog.KafkaLog), for production: a worker that dies loses
// nothing, and any worker can take a partition over.
//
// The stores of one process on the same brokers and topic share one log:
// one view of the topic, kept up to date as it is written, so that opening
// a partition's ledger costs a fencing and a read barrier, not a read of
// the topic. The topic holds the partitions' checkpoints and pending
// batches (see the package doc) and compacts, so that reading it when the
// process starts costs about its live keys, not the history.
//
// Each partition's writer is a transactional producer whose
// transactional.id is "gale-ledger-" and the partition's key: opening a
// ledger fences any older writer of the same partition, in this process
// or another (Kafka aborts its open transaction and refuses its next one:
// ErrFenced), and only then reads the partition's records. The id is the
// one Gale's first ledger used, so that an older Gale still running during
// a rolling upgrade is fenced too; a ledger it wrote is migrated when
// opened.
type KafkaStore struct {
	shared *sharedLog
	once   sync.Once
}

var _ Store = (*KafkaStore)(nil)
var _ Reader = (*KafkaStore)(nil)

// KafkaTimeout bounds opening the ledger topic and each request to Kafka.
const KafkaTimeout = 30 * time.Second

// sharedLog is one process's view of a ledger topic.
type sharedLog struct {
	id   string
	log  *kvlog.KafkaLog
	refs int // guarded by sharedMu
}

var (
	sharedMu   sync.Mutex // guards shared and every sharedLog's refs
	sharedLogs = map[string]*sharedLog{}
)

// TransactionTimeout is the Kafka ledger writers' transaction timeout:
// the longest stall of the brokers during a ledger write that the write
// survives. After a longer one the write is aborted, its writer sees
// itself fenced and the spout stops the partition (restart the task).
const TransactionTimeout = 2 * time.Minute

// KafkaOption is an option of NewKafkaStore.
type KafkaOption func(*kvlog.KafkaConfig)

// WithSecurity connects with TLS and SASL as sec says.
func WithSecurity(sec kafkasec.Security) KafkaOption {
	return func(c *kvlog.KafkaConfig) { c.Security = sec }
}

// NewKafkaStore connects to brokers and reads the ledger topic, created
// (one partition, compacting) when it is missing; an existing topic that
// does not compact is refused. Stores of one process share a log when
// their brokers, topic and security are the same.
func NewKafkaStore(brokers []string, topic string, opts ...KafkaOption) (*KafkaStore, error) {
	cfg := kvlog.DefaultKafkaConfig(brokers, topic)
	for _, o := range opts {
		o(&cfg)
	}
	// Security's Password prints as [hidden]: two programs' passwords for
	// one user share a log
	id := strings.Join(slices.Sorted(slices.Values(brokers)), ",") + "|" + topic + "|" + fmt.Sprintf("%+v", cfg.Security)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sl, ok := sharedLogs[id]; ok {
		sl.refs++
		return &KafkaStore{shared: sl}, nil
	}
	cfg.ClientID = "gale-ledger"
	cfg.TransactionalIDPrefix = "gale-ledger-"
	cfg.Timeout = KafkaTimeout
	// a write under way when the brokers stall (a GC pause, a hung disk)
	// must not be aborted by the coordinator when they come back: its
	// producer would find its epoch bumped, which looks exactly like a
	// newer owner's fence, and the partition would stop. A writer that
	// died mid-write is fenced by the partition's next owner long before.
	cfg.TransactionTimeout = TransactionTimeout
	// every read of the store follows a read barrier (Open's writer, Read,
	// Keys), and Open fences (which aborts a dead writer's transaction,
	// that holds every view of the topic) before it waits for the view
	cfg.Lazy = true
	ctx, cancel := context.WithTimeout(context.Background(), KafkaTimeout)
	defer cancel()
	l, err := kvlog.OpenKafka(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ledger on kafka %v: %w", brokers, err)
	}
	sl := &sharedLog{id: id, log: l, refs: 1}
	sharedLogs[id] = sl
	return &KafkaStore{shared: sl}, nil
}

// Close releases the store; the last store of a topic closes its view.
// Its writers must be closed first.
func (s *KafkaStore) Close() error {
	var err error
	s.once.Do(func() {
		sharedMu.Lock()
		defer sharedMu.Unlock()
		s.shared.refs--
		if s.shared.refs == 0 {
			delete(sharedLogs, s.shared.id)
			err = s.shared.log.Close()
		}
	})
	return err
}

// Open fences earlier owners of key's ledger and reads it.
func (s *KafkaStore) Open(ctx context.Context, key Key) (Writer, State, error) {
	w, st, err := openWriter(ctx, s.shared.log, key, key.String(), nil)
	if err != nil {
		return nil, State{}, err
	}
	return w, st, nil
}

// Read reads key's ledger without fencing its writer: a read barrier,
// then the view.
func (s *KafkaStore) Read(ctx context.Context, key Key) (State, error) {
	if err := s.shared.log.Sync(ctx); err != nil {
		return State{}, fmt.Errorf("read ledger %s: %w", key, mapErr(err))
	}
	return readOnly(ctx, s.shared.log, key)
}

// Keys lists the partitions with a ledger under topology and spout.
func (s *KafkaStore) Keys(ctx context.Context, topology, spout string) ([]Key, error) {
	if err := s.shared.log.Sync(ctx); err != nil {
		return nil, fmt.Errorf("ledgers of %s/%s: %w", topology, spout, mapErr(err))
	}
	return scanKeys(ctx, s.shared.log, topology, spout)
}

// scanKeys lists the partitions that have records under topology/spout/
// in l.
func scanKeys(ctx context.Context, l kvlog.Log, topology, spout string) ([]Key, error) {
	prefix := topology + "/" + spout + "/"
	seen := map[Key]bool{}
	var keys []Key
	err := l.Scan(ctx, prefix, func(k string, _ []byte) error {
		f := strings.SplitN(strings.TrimPrefix(k, prefix), "/", 3) // topic, partition, the rest
		if len(f) != 3 {
			return nil
		}
		n, err := strconv.ParseInt(f[1], 10, 32)
		if err != nil {
			return nil
		}
		key := Key{Topology: topology, Spout: spout, Topic: f[0], Partition: int32(n)}
		if !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledgers of %s/%s: %w", topology, spout, mapErr(err))
	}
	return keys, nil
}
