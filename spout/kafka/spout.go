package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/schemareg"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Spout reads Kafka partitions batch by batch; see the package doc.
type Spout struct {
	cfg   *Config
	tc    *topology.TaskContext
	out   spout.Collector
	group string

	store   ledger.Store
	box     *mailbox        // the partitions' ledger loops answer here
	loops   sync.WaitGroup  // the ledger loops
	client  sarama.Client   // metadata, offsets, the group's offsets, dead letters
	fetcher *fetcher        // reads the records (franz-go)
	msgs    []spout.Message // emit's messages, kept for the next batch
	offsets sarama.OffsetManager
	dlq     sarama.SyncProducer
	dec     *schemareg.Decoder // avro, protobuf, json_schema: the registry's decoder

	parts map[tp]*partition
	order []*partition
	rr    int

	// The task's share of the partitions (spout.Resizer): the i-th of all
	// (sorted) with i mod n == index; none when index is -1 (the task
	// leaves). From the TaskContext, then from Resize.
	n, index int
	all      []tp // every partition of the topics, sorted, as of the last assign
	// resized: Resize was called; partitions entering the share from then
	// on wait for their previous owner (waiting) before they are opened
	resized  bool
	waiting  map[tp]*handover
	reads    sync.WaitGroup // the handover polls (ledger reads)
	releases sync.WaitGroup // released partitions being closed
	// closing are the released partitions being closed: closed when
	// done (their consumer and offset manager may then be made again)
	closing map[tp]chan struct{}
	// the last NextTuple's pace (spout.Pacer): the time it waited for
	// records, and whether a partition was held while none emitted
	waited      time.Duration
	heldBack    bool
	retryAt     time.Time     // next connection or assignment attempt after a failure
	backoff     time.Duration // current connection or assignment backoff
	lastRefresh time.Time
	// unassigned: the last assign failed (a partition's leader not known
	// yet, its ledger not answering...): it is tried again with the
	// backoff, not at the next metadata refresh
	unassigned bool

	// Counters, safe to read from any goroutine.
	Batches atomic.Int64 // batches planned
	Replays atomic.Int64 // batches emitted again
	Poison  atomic.Int64 // records sent to the dead-letter topic
	Commits atomic.Int64 // batches committed
	Fenced  atomic.Int64 // partitions lost to a newer owner
	Records atomic.Int64 // tuples emitted (replays included)
	Lost    atomic.Int64 // offsets recorded lost (deleted by Kafka before they were read)
	Held    atomic.Int64 // batch decodes put off: the schema registry was unavailable
	// Handovers are the partitions taken over after a Resize; Released,
	// those given up (closed once all they had planned was committed).
	Handovers atomic.Int64
	Released  atomic.Int64

	status      atomic.Pointer[[]local.PartitionStatus] // for TaskStatus
	publishedAt time.Time
	closed      bool
	answerErrs  []error // from the ledger's answers, for NextTuple to return

	// wrapStore, when set (by tests), wraps the ledger store the spout opens.
	wrapStore func(ledger.Store) ledger.Store
}

var (
	_ spout.Spout          = (*Spout)(nil)
	_ spout.Pacer          = (*Spout)(nil)
	_ local.StatusReporter = (*Spout)(nil)
	_ spout.Resizer        = (*Spout)(nil)
)

type tp struct {
	topic     string
	partition int32
}

// batchRef is the message id of every tuple of one batch.
type batchRef struct {
	topic     string
	partition int32
	seq       uint64
}

type batch struct {
	plan ledger.Plan
	// from is the first offset of the plan Kafka may still have: Start,
	// unless [Start, from) was lost (deleted before it was read)
	from        int64
	records     []*kgo.Record // nil until fetched (replays after a restart)
	outstanding int
	failed      bool
	committing  bool // its tuples all acked: the ledger loop commits it
}

type partition struct {
	tp
	key     ledger.Key
	w       ledger.Writer
	pc      *partReader // the live reader, from next
	pom     sarama.PartitionOffsetManager
	next    int64  // where the next new batch starts
	nextSeq uint64 // its seq
	end     int64  // bounded: the high watermark when the spout started
	lw      *ledgerLoop
	// loopDone is closed when the ledger loop's goroutine returned
	loopDone chan struct{}
	// ops are the ledger writes submitted and not answered yet
	ops int
	// releasing: the partition left the task's share (Resize): nothing new
	// is read or cut; what is planned completes, then it is closed
	releasing bool
	// pcClosed is closed once a reader closed by a release is (nil:
	// none): a new one for the partition waits for it
	pcClosed chan struct{}
	// readTries counts the reader's errors in a row; after one, the
	// reader is opened again at reopenAt
	readTries int
	reopenAt  time.Time
	// stopped is why the spout stopped emitting for the partition (a newer
	// owner fenced it, its ledger is gone, data lost with on_data_loss
	// "fail"); nil while it runs
	stopped error

	buf      []*kgo.Record // read, not planned yet
	bufBytes int
	lastCut  int // records in the last batch cut: the next buf's capacity
	firstAt  time.Time

	inflight map[uint64]*batch // emitted, not committed yet
	// held are planned batches (by seq) not emitted yet because their
	// records could not be decoded: the schema registry did not answer.
	// The first is decoded again at holdRetryAt; while any is held the
	// partition emits nothing else (see holdBatch).
	held        []*batch
	holdTries   int
	holdRetryAt time.Time
	replay      []*batch         // to emit again, by seq
	fetch       []*batch         // pending plans from the ledger, records not read yet
	committed   uint64           // batches committed contiguously
	done        map[uint64]int64 // committed out of order: seq -> end offset

	// planning are the batches cut and not emitted yet, contiguous from
	// next: planOp is writing the plans of the first of them (those cut
	// later go in the next write), or they will be written again at
	// planRetryAt after a failure
	planning []*batch
	// sinksBehind: the partition reached max_pending_batches (the sinks are
	// behind) since its last cut; its next batch may grow to max_records
	sinksBehind bool
	// heldBack: the last step found the partition at max_pending_batches
	heldBack    bool
	planOp      *ledgerOp
	planTries   int
	planRetryAt time.Time
	committing  int // batches in inflight whose commit is with the ledger loop

	lostOffsets int64            // recorded lost in the ledger, ever
	lastLost    *local.LostRange // the latest lost range

	lastErr   string // the last error of the partition the spout saw itself
	lastErrAt time.Time

	groupOffset int64 // the consumer group's offset (next record to read)
	hwm         int64 // high watermark as last seen, -1 unknown
}

// New returns a kafka spout for cfg.
func New(cfg *Config) *Spout {
	return &Spout{cfg: cfg, parts: map[tp]*partition{}, waiting: map[tp]*handover{}, closing: map[tp]chan struct{}{}, box: newMailbox()}
}

// Open prepares the spout; it connects to Kafka lazily in NextTuple, so
// that brokers that are down give reported errors and retries with backoff,
// not a failed start.
func (s *Spout) Open(_ context.Context, tc *topology.TaskContext, out spout.Collector) error {
	s.tc, s.out = tc, out
	s.n, s.index = max(1, tc.Component.Parallelism), tc.TaskIndex
	s.group = s.cfg.Group
	if s.group == "" {
		s.group = "gale-" + tc.Topology.Name + "-" + tc.Component.ID
	}
	if s.cfg.usesRegistry() {
		if err := s.openDecoder(); err != nil {
			return fmt.Errorf("kafka spout %q: %w", tc.Component.ID, err)
		}
	}
	if s.cfg.Ledger.Kind == "file" {
		store, err := ledger.NewFileStore(s.cfg.Ledger.Dir)
		if err != nil {
			return fmt.Errorf("kafka spout %q: %w", tc.Component.ID, err)
		}
		s.setStore(store)
	}
	return nil
}

// openDecoder makes the schema registry client and decoder (it reads the
// password and TLS files; the registry is asked nothing yet).
func (s *Spout) openDecoder() error {
	rs, err := s.cfg.readerSchema()
	if err != nil {
		return fmt.Errorf("reader_schema: %w", err)
	}
	c, err := schemareg.New(*s.cfg.SchemaRegistry)
	if err != nil {
		return fmt.Errorf("schema_registry: %w", err)
	}
	s.dec, err = schemareg.NewDecoder(c, s.cfg.Deserializer, rs)
	if err != nil {
		return fmt.Errorf("reader_schema: %w", err)
	}
	return nil
}

func (s *Spout) setStore(store ledger.Store) {
	if s.wrapStore != nil {
		store = s.wrapStore(store)
	}
	s.store = store
}

func (s *Spout) saramaConfig() (*sarama.Config, error) {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.ClientID = "gale-" + s.group
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond // also bounds Close
	c.Producer.Return.Successes = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Metadata.Retry.Max = 1
	c.Metadata.AllowAutoTopicCreation = false // a missing topic is an error, never created by reading it
	c.Net.DialTimeout = 5 * time.Second
	if err := s.cfg.Security.Apply(c); err != nil {
		return nil, err
	}
	return c, nil
}

// connect builds the Kafka clients (and the Kafka ledger store) and takes
// the spout's partitions.
func (s *Spout) connect(ctx context.Context) error {
	sc, err := s.saramaConfig()
	if err != nil {
		return err
	}
	if s.store == nil {
		store, err := ledger.NewKafkaStore(s.cfg.Brokers, s.cfg.Ledger.Topic, ledger.WithSecurity(s.cfg.Security))
		if err != nil {
			return unreachable(err)
		}
		s.setStore(store)
	}
	client, err := sarama.NewClient(s.cfg.Brokers, sc)
	if err != nil {
		return unreachable(fmt.Errorf("brokers %v: %w", s.cfg.Brokers, s.cfg.Security.Explain(s.cfg.Brokers, err)))
	}
	s.offsets, err = sarama.NewOffsetManagerFromClient(s.group, client)
	if err == nil {
		s.dlq, err = sarama.NewSyncProducerFromClient(client)
	}
	if err == nil {
		s.fetcher, err = newFetcher(s.cfg.Brokers, sc.ClientID, s.cfg.Security, s.pauseBytes())
	}
	if err != nil {
		s.closeClients()
		client.Close()
		return unreachable(s.cfg.Security.Explain(s.cfg.Brokers, err))
	}
	s.client = client
	return s.assign(ctx)
}

// pauseBytes is how much a partition's reader queues before its fetching
// pauses: two batches' bytes, within [8, 64] MiB.
func (s *Spout) pauseBytes() int {
	return min(max(8<<20, 2*s.cfg.Batch.Bytes), 64<<20)
}

// connectOrAssign connects, or after a connection whose assignment
// failed, assigns again (the partitions opened before stay open).
func (s *Spout) connectOrAssign(ctx context.Context) error {
	if s.client == nil {
		return s.connect(ctx)
	}
	return s.assign(ctx)
}

// assign takes the partitions of this task: the i-th of all the topics'
// partitions (sorted) goes to task i mod parallelism (the task's share,
// see reshare: after a Resize, one entering the share is opened once its
// previous owner released it). Called again periodically so that added
// partitions are picked up.
func (s *Spout) assign(ctx context.Context) (err error) {
	s.lastRefresh = time.Now()
	defer func() { s.unassigned = err != nil }()
	var all []tp
	topics, err := s.topics()
	if err != nil {
		return err
	}
	for _, topic := range topics {
		if err := s.client.RefreshMetadata(topic); err != nil {
			return fmt.Errorf("topic %q: %w: %w", topic, ErrMissingTopic, err)
		}
		ps, err := s.client.Partitions(topic)
		if err != nil || len(ps) == 0 {
			return fmt.Errorf("topic %q: %w", topic, ErrMissingTopic)
		}
		slices.Sort(ps)
		for _, p := range ps {
			all = append(all, tp{topic, p})
		}
	}
	s.all = all
	todo := s.reshare(time.Now())
	return errors.Join(s.openAll(ctx, todo)...)
}

// openAll opens the partitions todo and adds those opened to the spout's;
// errs[i] is why todo[i] was not opened (nil: it was).
func (s *Spout) openAll(ctx context.Context, todo []tp) (errs []error) {
	// opened at once: opening a partition's ledger fences its previous
	// owner and then reads the ledger up to its end, which a dead owner's
	// open transaction holds back (a Kafka ledger is one partition) until
	// that owner is fenced too — perhaps by the next partition of this
	// very task. One by one, each waited for the broker to time the
	// others' transactions out (TestStatefulCount_Kills: two minutes of
	// "read barrier ... deadline exceeded" after ten SIGKILLs).
	opened := make([]*partition, len(todo))
	errs = make([]error, len(todo))
	var wg sync.WaitGroup
	for i, t := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opened[i], errs[i] = s.openPartition(ctx, t)
		}()
	}
	wg.Wait()
	for i, p := range opened {
		if p != nil {
			s.parts[todo[i]] = p
			s.order = append(s.order, p)
		}
	}
	return errs
}

// topics lists the topics to read, sorted: the configured ones, or those
// matching the pattern now (internal topics such as __consumer_offsets and
// dead-letter topics excluded).
func (s *Spout) topics() ([]string, error) {
	if s.cfg.TopicPattern == "" {
		t := slices.Clone(s.cfg.Topics)
		sort.Strings(t)
		return t, nil
	}
	re := regexp.MustCompile("^(?:" + s.cfg.TopicPattern + ")$") // checked by Validate
	if err := s.client.RefreshMetadata(); err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	all, err := s.client.Topics()
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var t []string
	for _, name := range all {
		if re.MatchString(name) && !strings.HasPrefix(name, "__") && !strings.HasSuffix(name, ".dlq") {
			t = append(t, name)
		}
	}
	sort.Strings(t)
	return t, nil
}

func (s *Spout) openPartition(ctx context.Context, t tp) (*partition, error) {
	key := s.key(t)
	octx, cancel := context.WithTimeout(ctx, time.Duration(s.cfg.Ledger.Timeout))
	w, st, err := s.store.Open(octx, key)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("ledger of %s/%d: %w", t.topic, t.partition, err)
	}
	p := &partition{tp: t, key: key, w: w, nextSeq: st.NextSeq, committed: st.Committed,
		inflight: map[uint64]*batch{}, done: map[uint64]int64{}, end: -1, hwm: -1, lostOffsets: st.LostOffsets}
	if n := len(st.Lost); n > 0 {
		p.lastLost = lostRange(key, st.Lost[n-1].Seq, st.Lost[n-1].Start, st.Lost[n-1].End)
	}
	if p.pom, err = s.offsets.ManagePartition(t.topic, t.partition); err != nil {
		w.Close()
		return nil, fmt.Errorf("offsets of %s/%d: %w", t.topic, t.partition, err)
	}
	if p.groupOffset, _ = p.pom.NextOffset(); p.groupOffset < 0 {
		p.groupOffset = -1 // nothing committed yet: set to where reading starts, below
	}
	for _, pl := range st.Pending {
		b := &batch{plan: pl, from: pl.Start}
		// what a previous owner recorded lost of it (ranges from its start,
		// in order) is not read again, nor recorded twice
		for _, l := range st.Lost {
			if l.Seq == pl.Seq && l.Start == b.from {
				b.from = l.End
			}
		}
		p.fetch = append(p.fetch, b)
	}
	// batches between Committed and NextSeq that are not pending were
	// committed out of order before this open: the contiguous point must
	// move over them once the pending ones before them commit (they are
	// never sent again, and bolts that apply batches in order wait on
	// tuple.BatchMeta.Committed). A run of them ends where the next
	// pending plan starts, or at NextStart.
	runEnd := st.NextStart
	for seq, i := st.NextSeq, len(st.Pending)-1; seq > st.Committed; {
		seq--
		if i >= 0 && st.Pending[i].Seq == seq {
			runEnd = st.Pending[i].Start
			i--
			continue
		}
		p.done[seq] = runEnd
	}
	if st.NextStart >= 0 {
		p.next = st.NextStart
	} else if p.next, err = s.startOffset(t); err != nil {
		p.close()
		return nil, err
	}
	if p.groupOffset < 0 {
		p.groupOffset = p.next
	}
	if s.cfg.Bounded {
		if p.end, err = s.client.GetOffset(t.topic, t.partition, sarama.OffsetNewest); err != nil {
			p.close()
			return nil, fmt.Errorf("end offset of %s/%d: %w", t.topic, t.partition, err)
		}
	}
	// from now on the ledger loop alone uses w, until Close
	p.lw = newLedgerLoop(w, time.Duration(s.cfg.Ledger.Timeout), s.box)
	p.loopDone = make(chan struct{})
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		defer close(p.loopDone)
		p.lw.run()
	}()
	return p, nil
}

func lostRange(key ledger.Key, seq uint64, start, end int64) *local.LostRange {
	return &local.LostRange{Batch: ledger.Plan{Key: key, Seq: seq}.BatchID(), Start: start, End: end}
}

// startOffset is where a partition with no ledger history starts.
func (s *Spout) startOffset(t tp) (int64, error) {
	var at int64
	switch s.cfg.Start {
	case "latest":
		at = sarama.OffsetNewest
	case "timestamp":
		ts, _ := time.Parse(time.RFC3339, s.cfg.StartTimestamp) // checked by Validate
		at = ts.UnixMilli()
	case "committed":
		pom, err := s.offsets.ManagePartition(t.topic, t.partition)
		if err == nil {
			off, _ := pom.NextOffset()
			pom.AsyncClose()
			if off >= 0 {
				return off, nil
			}
		}
		at = sarama.OffsetOldest
	default:
		at = sarama.OffsetOldest
	}
	off, err := s.client.GetOffset(t.topic, t.partition, at)
	if err != nil {
		return 0, fmt.Errorf("start offset of %s/%d: %w", t.topic, t.partition, err)
	}
	return off, nil
}

// NextTuple emits one batch (a replay first, else a new one) of one of the
// spout's partitions, round robin. It first takes the ledger loops'
// answers: batches committed since the last call advance the partitions.
func (s *Spout) NextTuple(ctx context.Context) (err error) {
	s.waited, s.heldBack = 0, false
	s.drainLedger(ctx)
	defer func() {
		if len(s.answerErrs) > 0 {
			err = errors.Join(append([]error{err}, s.answerErrs...)...)
			s.answerErrs = nil
		}
	}()
	s.retireReleased()
	if s.index < 0 && len(s.order) == 0 && len(s.waiting) == 0 {
		s.publish() // the final status: NextTuple is not called again
		return fmt.Errorf("kafka spout %q: the task left its component, its partitions released: %w", s.tc.Component.ID, spout.ErrStop)
	}
	if time.Since(s.publishedAt) >= statusEvery {
		s.publish()
	}
	if s.client == nil || s.unassigned {
		if time.Now().Before(s.retryAt) {
			if s.client == nil {
				return nil
			}
		} else if err := s.connectOrAssign(ctx); err != nil {
			s.backoff = min(max(2*s.backoff, 500*time.Millisecond), 30*time.Second)
			s.retryAt = time.Now().Add(s.backoff)
			return fmt.Errorf("%w (retrying in %v)", err, s.backoff)
		} else {
			s.backoff = 0
		}
	}
	if time.Since(s.lastRefresh) > time.Duration(s.cfg.MetadataRefresh) && !s.cfg.Bounded && !s.unassigned {
		if err := s.assign(ctx); err != nil {
			s.unassigned = true
			s.backoff = 500 * time.Millisecond
			s.retryAt = time.Now().Add(s.backoff)
			return fmt.Errorf("%w (retrying in %v)", err, s.backoff)
		}
	}
	var errs []error
	if err := s.takeOver(ctx); err != nil {
		errs = append(errs, err)
	}
	if s.cfg.Bounded && !s.unassigned && s.finished() {
		s.publish() // the final status: NextTuple is not called again
		if len(errs) == 0 {
			return spout.ErrStop
		}
		return errors.Join(append(errs, spout.ErrStop)...)
	}
	held := false
	for i := range s.order {
		p := s.order[(s.rr+i)%len(s.order)]
		emitted, err := s.step(ctx, p)
		if err != nil {
			p.lastErr, p.lastErrAt = err.Error(), time.Now()
			errs = append(errs, err)
		}
		if emitted {
			s.rr = (s.rr + i + 1) % len(s.order)
			return errors.Join(errs...)
		}
		held = held || p.heldBack
	}
	s.heldBack = held
	return errors.Join(errs...)
}

// LastNextTuple implements spout.Pacer: the time the last NextTuple
// waited for records to fill a batch, and whether a partition was held at
// max_pending_batches (the sinks behind) while none emitted.
func (s *Spout) LastNextTuple() (waited time.Duration, heldBack bool) { return s.waited, s.heldBack }

// statusEvery is how often the spout publishes its partitions' status.
const statusEvery = 500 * time.Millisecond

// publish copies the partitions' progress for TaskStatus (which other
// goroutines call).
func (s *Spout) publish() {
	s.publishedAt = time.Now()
	out := make([]local.PartitionStatus, 0, len(s.order))
	for _, p := range s.order {
		if p.pc != nil {
			if hwm := p.pc.HighWaterMarkOffset(); hwm >= 0 {
				p.hwm = hwm
			}
		} else if p.end >= 0 {
			p.hwm = p.end
		}
		st := local.PartitionStatus{
			Topic: p.topic, Partition: p.partition,
			Planned: p.nextSeq, Committed: p.committed,
			InFlight: len(p.inflight), Replaying: len(p.replay) + len(p.fetch), Committing: p.committing,
			NextOffset: p.next, CommittedOffset: p.groupOffset, HighWatermark: p.hwm,
			LastError: p.lastErr, LastErrorAt: p.lastErrAt,
			LostOffsets: p.lostOffsets, LastLost: p.lastLost,
		}
		retries, lastErr, at := p.lw.stats()
		st.CommitRetries = retries
		if at.After(st.LastErrorAt) {
			st.LastError, st.LastErrorAt = lastErr, at
		}
		if p.stopped != nil {
			st.Stopped = p.stopped.Error()
		}
		out = append(out, st)
	}
	s.status.Store(&out)
}

// TaskStatus reports the task's partitions: batches planned, in flight and
// committed, offsets, ledger errors and lost records (as of at most half a
// second ago).
func (s *Spout) TaskStatus() local.TaskStatus {
	p := s.status.Load()
	if p == nil {
		return local.TaskStatus{}
	}
	return local.TaskStatus{Partitions: *p}
}

// finished reports whether every partition reached its end (bounded mode).
func (s *Spout) finished() bool {
	if len(s.waiting) > 0 {
		return false
	}
	for _, p := range s.order {
		if p.stopped == nil && (p.next < p.end || len(p.inflight) > 0 || len(p.replay) > 0 || len(p.fetch) > 0 || len(p.planning) > 0 || len(p.held) > 0) {
			return false
		}
	}
	return true
}

// step makes progress on one partition; it reports whether it emitted.
func (s *Spout) step(ctx context.Context, p *partition) (bool, error) {
	p.heldBack = false
	if p.stopped != nil {
		return false, nil
	}
	if len(p.held) > 0 {
		// the registry did not answer for the first held batch: nothing
		// else of the partition goes out before it (backpressure: reading
		// stops too, as no batch is cut meanwhile)
		if time.Now().Before(p.holdRetryAt) {
			return false, nil
		}
		return s.emit(ctx, p, p.held[0])
	}
	if len(p.fetch) > 0 {
		if err := s.fetchPending(p); err != nil || p.stopped != nil {
			return false, err
		}
	}
	if len(p.replay) > 0 {
		b := p.replay[0]
		p.replay = p.replay[1:]
		s.Replays.Add(1)
		return s.emit(ctx, p, b)
	}
	if p.releasing {
		return false, nil // nothing new: what it planned completes
	}
	s.plan(p)
	// batches being planned or emitted count against max_pending_batches;
	// those whose commit is with the ledger against a second allowance as
	// large, so that the ledger's latency overlaps the next batches' work
	// (a ledger that stays down still holds the partition: plans fail too)
	p.heldBack = len(p.inflight)-p.committing+len(p.planning) >= s.cfg.MaxPendingBatches || p.committing >= s.cfg.MaxPendingBatches
	if p.heldBack {
		p.sinksBehind = true
		return false, nil
	}
	if p.pc == nil {
		if p.pcClosed != nil {
			select {
			case <-p.pcClosed: // the reader closed by a release is gone
				p.pcClosed = nil
			default:
				return false, nil
			}
		}
		if time.Now().Before(p.reopenAt) {
			return false, nil
		}
		if start, _ := p.cutAt(); s.cfg.Bounded && start >= p.end {
			return false, nil
		}
		from := p.readFrom()
		// records deleted already are known now, not after a first fetch
		// (the reader would report them too)
		if start, err := s.client.GetOffset(p.topic, p.partition, sarama.OffsetOldest); err == nil && from < start {
			return false, s.outOfRange(p, from, kerr.OffsetOutOfRange)
		}
		p.pc = s.fetcher.open(p.tp, from)
	}
	var errs []error
	lim := s.cfg.Batch
	// Fill the batch: take what is there; while the batch is started but
	// not full, wait a little for more (up to 5 ms, within its time limit)
	// rather than cutting many small batches. While the ledger writes the
	// previous plans, the batch is full at max_records or max_bytes: it is
	// cut when the write returns; so it is after the partition was held at
	// max_pending_batches, for the sinks then are the bottleneck: fewer,
	// larger batches (fewer files, fewer object writes) as the rate rises
	// (see BatchLimits.MaxRecords and MaxBytes).
	records, size := lim.Records, lim.Bytes
	if p.planOp != nil || p.sinksBehind {
		records, size = lim.maxRecords(), lim.maxBytes()
	}
	var wait *time.Timer
read:
	for len(p.buf) < records && p.bufBytes < size {
		recs, err := p.pc.take(records-len(p.buf), size-p.bufBytes)
		if err != nil {
			if err := s.readError(p, err); err != nil {
				errs = append(errs, err)
			}
			break
		}
		if len(recs) > 0 {
			p.readTries = 0
			for _, m := range recs {
				if s.take(p, m) {
					break read
				}
			}
			continue
		}
		if len(p.buf) == 0 {
			break // nothing started: no wait
		}
		left := time.Duration(lim.Time) - time.Since(p.firstAt)
		if left <= 0 {
			break
		}
		if wait == nil {
			wait = time.NewTimer(min(left, 5*time.Millisecond))
			defer wait.Stop()
		}
		waitFrom := time.Now()
		select {
		case <-p.pc.ready:
			s.waited += time.Since(waitFrom)
		case <-wait.C:
			s.waited += time.Since(waitFrom)
			break read
		}
	}
	n := len(p.buf)
	if n == 0 {
		return false, errors.Join(errs...)
	}
	full := n >= records || p.bufBytes >= size || time.Since(p.firstAt) >= time.Duration(lim.Time)
	if !full && !(s.cfg.Bounded && p.buf[n-1].Offset+1 >= p.end) {
		return false, errors.Join(errs...)
	}
	s.cut(p)
	s.plan(p)
	return false, errors.Join(errs...)
}

// take adds m, read from p's reader, to p's batch being filled. It
// reports whether the batch ends here: a bounded read reached its end (m
// is past it, or its last).
func (s *Spout) take(p *partition, m *kgo.Record) (end bool) {
	if s.cfg.Bounded && m.Offset >= p.end {
		return true
	}
	if len(p.buf) == 0 {
		p.firstAt = time.Now()
		if p.buf == nil {
			p.buf = make([]*kgo.Record, 0, max(p.lastCut, 64))
		}
	}
	p.buf = append(p.buf, m)
	p.bufBytes += len(m.Value)
	return s.cfg.Bounded && m.Offset+1 >= p.end
}

// readFrom is where p's reader starts: after the records of the batch
// being filled, else where the next batch starts.
func (p *partition) readFrom() int64 {
	if n := len(p.buf); n > 0 {
		return p.buf[n-1].Offset + 1
	}
	from, _ := p.cutAt()
	return from
}

// readError handles an error of p's reader: the reader is closed and
// opened again after a backoff, from the next record; offsets out of
// range are handled as outOfRange says (lost to retention, or an error).
func (s *Spout) readError(p *partition, err error) error {
	p.pc.Close()
	p.pc = nil
	from := p.readFrom()
	if errors.Is(err, kerr.OffsetOutOfRange) {
		return s.outOfRange(p, from, err)
	}
	wait := p.readLater()
	return fmt.Errorf("read %s/%d from %d: %w (reading again in %v)", p.topic, p.partition, from,
		s.cfg.Security.Explain(s.cfg.Brokers, err), wait.Round(time.Millisecond))
}

// readLater puts off opening p's reader again by a backoff that grows with
// the errors in a row; it returns the wait.
func (p *partition) readLater() time.Duration {
	p.readTries++
	wait := backoff(p.readTries)
	p.reopenAt = time.Now().Add(wait)
	return wait
}

// cutAt is where the partition's next batch starts, and its seq: after
// the batches cut and not planned yet, else after the last one planned.
func (p *partition) cutAt() (start int64, seq uint64) {
	if n := len(p.planning); n > 0 {
		last := p.planning[n-1].plan
		return last.End, last.Seq + 1
	}
	return p.next, p.nextSeq
}

// cut makes the records read so far the partition's next batch; its plan
// is written next, and its boundaries never change again.
func (s *Spout) cut(p *partition) {
	start, seq := p.cutAt()
	plan := ledger.Plan{Key: p.key, Seq: seq, Start: start, End: p.buf[len(p.buf)-1].Offset + 1}
	p.planning = append(p.planning, &batch{plan: plan, from: plan.Start, records: p.buf})
	p.buf, p.bufBytes, p.sinksBehind, p.lastCut = nil, 0, false, len(p.buf)
}

// plan hands the plans of the batches cut to the ledger loop, unless a
// write of plans is on its way (those cut meanwhile go in the next one)
// or a failed one waits for its backoff. It does not wait: a batch is
// emitted when the loop's answer says its plan is durable (planned), and
// never before; the loop answers within ledger.timeout.
func (s *Spout) plan(p *partition) {
	if len(p.planning) == 0 || p.planOp != nil || time.Now().Before(p.planRetryAt) {
		return
	}
	op := &ledgerOp{kind: opPlan, p: p, plan: p.planning[0].plan}
	for _, b := range p.planning {
		op.plans = append(op.plans, b.plan)
	}
	p.planOp = op
	s.submit(p, op)
}

// planned takes the ledger's answer to plans: their batches are emitted,
// or the plans are written again later, or the partition stops (a final
// error).
func (s *Spout) planned(ctx context.Context, p *partition, op *ledgerOp) {
	if p.planOp != op {
		return // the partition stopped meanwhile
	}
	p.planOp = nil
	if op.err != nil {
		// never emit a batch that is not in the ledger
		err := fmt.Errorf("plan batch %s: %w", op.plan.BatchID(), op.err)
		if errors.Is(op.err, context.DeadlineExceeded) {
			err = fmt.Errorf("plan batch %s: no answer from the ledger within %v: %w", op.plan.BatchID(), time.Duration(s.cfg.Ledger.Timeout), op.err)
		}
		p.lastErr, p.lastErrAt = err.Error(), time.Now()
		s.answerErrs = append(s.answerErrs, err)
		if finalErr(op.err) {
			s.stop(p, err)
		} else if p.releasing {
			// not written: the next owner cuts them again from the
			// ledger's NextStart (or replays them if they were)
			p.planning = nil
		} else {
			p.planTries++
			p.planRetryAt = time.Now().Add(backoff(p.planTries))
		}
		return
	}
	p.planTries = 0
	if s.closed {
		return // closing: the batches are planned, and replayed by the next run
	}
	done := p.planning[:len(op.plans)]
	p.planning = append([]*batch(nil), p.planning[len(op.plans):]...)
	for _, b := range done {
		s.Batches.Add(1)
		p.next, p.nextSeq = b.plan.End, b.plan.Seq+1
		if b.from > b.plan.Start {
			// a batch cut over offsets Kafka had deleted: recorded lost
			// before it may commit (the loop keeps a batch's writes in
			// order)
			s.lose(p, b, b.plan.Start, b.from)
		}
		if _, err := s.emit(ctx, p, b); err != nil {
			s.answerErrs = append(s.answerErrs, err)
		}
	}
	s.plan(p) // those cut meanwhile
}

// drainLedger takes the ledger loops' answers: commits advance the
// partitions, lost ranges are counted, plans are emitted (a failed plan's
// error goes to answerErrs); a write that failed for good stops its
// partition.
func (s *Spout) drainLedger(ctx context.Context) {
	for _, op := range s.box.take() {
		p := op.p
		if p != nil {
			p.ops--
		}
		switch op.kind {
		case opRead:
			s.polled(op)
		case opPlan:
			s.planned(ctx, p, op)
		case opLose:
			if op.err != nil {
				s.stop(p, fmt.Errorf("record lost offsets [%d, %d) of batch %s: %w", op.start, op.end, op.plan.BatchID(), op.err))
				continue
			}
			p.lostOffsets += op.end - op.start
			p.lastLost = lostRange(p.key, op.plan.Seq, op.start, op.end)
			s.Lost.Add(op.end - op.start)
		case opCommit:
			if op.err != nil {
				s.stop(p, fmt.Errorf("commit batch %s: %w", op.plan.BatchID(), op.err))
				continue
			}
			s.committed(p, op.plan)
		}
	}
}

// committed advances p over a batch the ledger committed: the consumer
// group's offset moves over the contiguous committed batches.
func (s *Spout) committed(p *partition, plan ledger.Plan) {
	if b := p.inflight[plan.Seq]; b != nil && b.committing {
		delete(p.inflight, plan.Seq)
		p.committing--
	}
	s.Commits.Add(1)
	p.done[plan.Seq] = plan.End
	end := int64(-1)
	for {
		e, ok := p.done[p.committed]
		if !ok {
			break
		}
		delete(p.done, p.committed)
		p.committed++
		end = e
	}
	if end >= 0 && p.pom != nil {
		p.pom.MarkOffset(end, "") // the consumer group's offset: the next record to read
		p.groupOffset = end
	}
}

// outOfRange handles a read refused because from is outside the offsets
// Kafka has: when retention deleted them, the loss is made explicit (see
// the package doc); else it is an error.
func (s *Spout) outOfRange(p *partition, from int64, cause error) error {
	logStart, err := s.client.GetOffset(p.topic, p.partition, sarama.OffsetOldest)
	if err == nil && from >= logStart {
		err = fmt.Errorf("the log starts at %d", logStart)
	}
	if err != nil {
		wait := p.readLater()
		return fmt.Errorf("read %s/%d from %d: %w (%w; reading again in %v)", p.topic, p.partition, from, cause, err, wait.Round(time.Millisecond))
	}
	if len(p.buf) > 0 {
		// the rest of the started batch is gone: it ends with what was read
		s.cut(p)
		s.plan(p)
		return nil
	}
	end := logStart
	if s.cfg.Bounded {
		end = min(end, p.end)
	}
	start, seq := p.cutAt()
	plan := ledger.Plan{Key: p.key, Seq: seq, Start: start, End: end}
	if s.cfg.OnDataLoss == "fail" {
		s.stop(p, &DataLossError{Topic: p.topic, Partition: p.partition, Batch: plan.BatchID(), Start: plan.Start, End: plan.End, LogStart: logStart})
		return nil
	}
	// one batch over the deleted offsets, all of them lost: planned,
	// recorded lost, emitted empty (so that the sinks record it too)
	p.planning = append(p.planning, &batch{plan: plan, from: plan.End})
	s.plan(p)
	return nil
}

// lose records [start, end) of batch b lost in the ledger (through the
// loop; the batch's commit waits for it).
func (s *Spout) lose(p *partition, b *batch, start, end int64) {
	s.submit(p, &ledgerOp{kind: opLose, p: p, plan: b.plan, start: start, end: end})
	b.from = end
}

// fetchPending reads the records of the batches a previous owner planned
// but did not commit, with exactly their planned ranges. Offsets Kafka
// deleted meanwhile are recorded lost (or stop the partition), per
// on_data_loss.
func (s *Spout) fetchPending(p *partition) error {
	for _, b := range p.fetch {
		b.records = nil // left by an attempt that failed midway
	}
	logStart, err := s.client.GetOffset(p.topic, p.partition, sarama.OffsetOldest)
	if err != nil {
		return fmt.Errorf("replay %s/%d: reading the log start: %w", p.topic, p.partition, err)
	}
	for _, b := range p.fetch {
		to := min(logStart, b.plan.End)
		if b.from >= to {
			continue
		}
		if s.cfg.OnDataLoss == "fail" {
			s.stop(p, &DataLossError{Topic: p.topic, Partition: p.partition, Batch: b.plan.BatchID(), Start: b.from, End: to, LogStart: logStart})
			return nil
		}
		s.lose(p, b, b.from, to)
	}
	// what is left to read: from the first batch not wholly lost to the
	// end of the last one
	first, last := int64(-1), int64(-1)
	for _, b := range p.fetch {
		if b.from < b.plan.End {
			if first < 0 {
				first = b.from
			}
			last = b.plan.End
		}
	}
	if first >= 0 {
		if err := s.readPending(p, first, last); err != nil {
			return err
		}
	}
	p.replay = append(p.replay, p.fetch...)
	p.fetch = nil
	return nil
}

// readPending reads [first, last) into the pending batches.
func (s *Spout) readPending(p *partition, first, last int64) error {
	if p.pc != nil {
		p.pc.Close() // opened again after the batch being filled
		p.pc = nil
	}
	r := s.fetcher.open(p.tp, first)
	defer r.Close()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	i := 0
	for i < len(p.fetch) {
		recs, err := r.take(int(last-first), math.MaxInt)
		if err != nil {
			return fmt.Errorf("replay %s/%d: %w", p.topic, p.partition, s.cfg.Security.Explain(s.cfg.Brokers, err))
		}
		if len(recs) == 0 {
			select {
			case <-r.ready:
				continue
			case <-timeout.C:
				return fmt.Errorf("replay %s/%d: offsets [%d, %d) not read within 30s", p.topic, p.partition, first, last)
			}
		}
		for _, m := range recs {
			for i < len(p.fetch) && m.Offset >= p.fetch[i].plan.End {
				i++
			}
			if i < len(p.fetch) && m.Offset >= p.fetch[i].from {
				p.fetch[i].records = append(p.fetch[i].records, m)
			}
			if m.Offset >= last-1 {
				i = len(p.fetch)
				break
			}
		}
	}
	return nil
}

// decoded is a record of a batch, deserialized: its values, or the error
// that makes it poison.
type decoded struct {
	value any
	extra []any
	err   error
}

// decodeBatch deserializes the records of b. It stops at the first
// transient error (the schema registry did not answer) and returns it:
// the batch is held, none of its records is dead-lettered yet. With the
// raw deserializer there is nothing to do: it returns nil, and each
// record's value is its bytes.
func (s *Spout) decodeBatch(ctx context.Context, b *batch) ([]decoded, error) {
	if s.dec == nil && s.cfg.Deserializer == "raw" {
		return nil, nil // the values as they are: emit takes them itself
	}
	out := make([]decoded, len(b.records))
	for i, m := range b.records {
		v, extra, err := s.deserialize(ctx, m.Value)
		if err != nil && !errors.Is(err, ErrPoison) {
			return nil, fmt.Errorf("decode %s/%d/%d: %w", m.Topic, m.Partition, m.Offset, err)
		}
		out[i] = decoded{v, extra, err}
	}
	return out, nil
}

// holdBatch keeps b, planned but not decodable now (the schema registry
// did not answer: cause), to decode again later with backoff, in seq
// order with the batches held before it (a nil cause: b waits behind
// them, it was not tried). While a batch is held its
// partition emits nothing else and cuts no new batch: nothing goes past
// it, nothing is dead-lettered or skipped, and the consumer stops
// reading once its buffer is full (backpressure). Batch boundaries are
// untouched: the plan is already in the ledger.
func (s *Spout) holdBatch(p *partition, b *batch, cause error) error {
	i, found := slices.BinarySearchFunc(p.held, b.plan.Seq, func(h *batch, seq uint64) int {
		return cmp.Compare(h.plan.Seq, seq)
	})
	if !found {
		p.held = slices.Insert(p.held, i, b)
	}
	if cause == nil {
		return nil
	}
	p.holdTries++
	wait := backoff(p.holdTries)
	p.holdRetryAt = time.Now().Add(wait)
	s.Held.Add(1)
	err := fmt.Errorf("%w: %s, decoded again in %v: %w", ErrBatchHeld, b.plan.BatchID(), wait.Round(time.Millisecond), cause)
	p.lastErr, p.lastErrAt = err.Error(), time.Now()
	return err
}

// emit sends every record of b as a tuple of batch b; poison records go to
// the dead-letter topic instead. It reports whether it emitted: a batch
// whose records cannot be decoded now (the schema registry is
// unavailable) is held instead, and the error says why.
func (s *Spout) emit(ctx context.Context, p *partition, b *batch) (bool, error) {
	if len(p.held) > 0 && p.held[0] != b {
		return false, s.holdBatch(p, b, nil)
	}
	values, err := s.decodeBatch(ctx, b)
	if err != nil {
		return false, s.holdBatch(p, b, err)
	}
	if len(p.held) > 0 { // b was held[0]: decoded now
		p.held = p.held[1:]
		if len(p.held) == 0 {
			p.held, p.holdTries = nil, 0
		}
	}
	b.outstanding, b.failed = 0, false
	p.inflight[b.plan.Seq] = b
	ref := batchRef{p.topic, p.partition, b.plan.Seq}
	id := b.plan.BatchID()
	// boxed once per batch, and each id built in one scratch buffer: an
	// allocation per record fewer for each (the values and ids of one
	// record are still their own, so that a bolt keeping a tuple keeps
	// only its own)
	prefix := fmt.Appendf(make([]byte, 0, len(p.topic)+32), "%s/%d/", p.topic, p.partition)
	idBuf := prefix
	var topic, partition, msgID any = p.topic, p.partition, ref
	var tsBox any // the last record's timestamp (Unix ms), boxed
	var lastMs int64
	// the messages go in a slice kept from batch to batch: the collector
	// takes their values, not the slice (spout.TreeSender)
	msgs := s.msgs[:0]
	if cap(msgs) < len(b.records) {
		msgs = make([]spout.Message, 0, len(b.records))
	}
	defer func() { clear(msgs); s.msgs = msgs[:0] }()
	for i, m := range b.records {
		var value any = m.Value // raw (values nil): franz-go does not reuse a record's buffer
		var extra []any
		var err error
		if values != nil {
			value, extra, err = values[i].value, values[i].extra, values[i].err
		}
		if err != nil {
			s.deadLetter(m, err)
			continue
		}
		var headers map[string]string // nil (empty) when the record has none
		if len(m.Headers) > 0 {
			headers = make(map[string]string, len(m.Headers))
			for _, h := range m.Headers {
				headers[h.Key] = string(h.Value)
			}
		}
		var key any
		if m.Key != nil {
			key = string(m.Key)
		}
		// records produced together share their millisecond: one box
		if ms := m.Timestamp.UnixMilli(); ms != lastMs || tsBox == nil {
			lastMs, tsBox = ms, ms
		}
		values := append(make(tuple.Values, 0, 7+len(extra)), topic, partition, m.Offset, key, value, tsBox, headers)
		values = append(values, extra...)
		idBuf = strconv.AppendInt(idBuf[:len(prefix)], m.Offset, 10)
		msgs = append(msgs, spout.Message{Values: values, MsgID: msgID, BatchID: id, ID: string(idBuf)})
	}
	s.Records.Add(int64(len(msgs)))
	bs, batchSender := s.out.(spout.BatchSender)
	ts, treeSender := s.out.(spout.TreeSender)
	switch {
	case batchSender:
		// one tree, with end markers so that batch sinks downstream write
		// it as one unit; sent even when empty (every record dead-lettered,
		// or lost) so that the sinks record the batch too
		b.outstanding = 1
		bs.SendBatch(ref, &tuple.BatchMeta{ID: id, Source: p.topic, Partition: p.partition, Seq: b.plan.Seq,
			Start: b.plan.Start, End: b.plan.End, Records: len(msgs), Committed: p.committed}, msgs)
	case len(msgs) == 0:
	case treeSender:
		// the whole batch is one tuple tree: one Ack or Fail for it
		b.outstanding = 1
		ts.SendTree(ref, msgs)
	default:
		b.outstanding = len(msgs)
		for _, m := range msgs {
			s.out.Send(m)
		}
	}
	if b.outstanding == 0 {
		s.complete(p, b)
	}
	return true, nil
}

// deadLetter sends a record the deserializer rejected to the dead-letter
// topic with the error in a header. It is counted and never blocks its
// partition; a record that cannot be dead-lettered is reported.
func (s *Spout) deadLetter(m *kgo.Record, cause error) {
	s.Poison.Add(1)
	topic := s.cfg.DeadLetterTopic
	if topic == "" {
		topic = m.Topic + ".dlq"
	}
	msg := &sarama.ProducerMessage{Topic: topic, Key: sarama.ByteEncoder(m.Key), Value: sarama.ByteEncoder(m.Value),
		Headers: []sarama.RecordHeader{
			{Key: []byte("gale.error"), Value: []byte(cause.Error())},
			{Key: []byte("gale.source"), Value: []byte(fmt.Sprintf("%s/%d/%d", m.Topic, m.Partition, m.Offset))},
		}}
	_, _, err := s.dlq.SendMessage(msg)
	if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		if cerr := s.createTopic(topic); cerr != nil {
			err = fmt.Errorf("%w (creating it: %w)", err, cerr)
		} else {
			_, _, err = s.dlq.SendMessage(msg)
		}
	}
	if err != nil {
		s.out.ReportError(fmt.Errorf("dead-letter %s/%d/%d to %q: %w", m.Topic, m.Partition, m.Offset, topic, err))
	}
}

// createTopic creates the dead-letter topic (one partition, the broker's
// default replication) the first time it is needed.
func (s *Spout) createTopic(topic string) error {
	admin, err := sarama.NewClusterAdminFromClient(s.client)
	if err != nil {
		return err
	}
	// not admin.Close(): it would close the shared client
	err = admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: -1}, false)
	if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		var te *sarama.TopicError
		if !errors.As(err, &te) || te.Err != sarama.ErrTopicAlreadyExists {
			return err
		}
	}
	return s.client.RefreshMetadata(topic)
}

func (s *Spout) batchOf(id any) (*partition, *batch) {
	ref, ok := id.(batchRef)
	if !ok {
		return nil, nil
	}
	p := s.parts[tp{ref.topic, ref.partition}]
	if p == nil {
		return nil, nil
	}
	b := p.inflight[ref.seq]
	if b == nil || b.committing {
		return nil, nil
	}
	return p, b
}

// Ack counts one tuple of a batch done. It never waits for the ledger: a
// batch whose tuples are all done is handed to its partition's ledger
// loop to commit.
func (s *Spout) Ack(id any) {
	p, b := s.batchOf(id)
	if b == nil {
		return
	}
	b.outstanding--
	if b.outstanding == 0 {
		s.complete(p, b)
	}
}

// Fail fails the tuple's whole batch: once its other tuples settle, the
// batch is emitted again with the same plan.
func (s *Spout) Fail(id any) {
	p, b := s.batchOf(id)
	if b == nil {
		return
	}
	b.failed = true
	b.outstanding--
	if b.outstanding == 0 {
		s.complete(p, b)
	}
}

// complete ends a batch whose tuples all settled: a failed one is queued
// for replay; a good one goes to the ledger loop to commit, and stays in
// flight (committing) until the loop answers (drainLedger).
func (s *Spout) complete(p *partition, b *batch) {
	if b.failed {
		b.failed = false
		i := sort.Search(len(p.replay), func(i int) bool { return p.replay[i].plan.Seq > b.plan.Seq })
		p.replay = slices.Insert(p.replay, i, b)
		return
	}
	b.committing, b.records = true, nil // nothing is emitted again
	p.committing++
	s.submit(p, &ledgerOp{kind: opCommit, p: p, plan: b.plan})
}

// stop stops the partition for good (for this spout): a newer owner
// writes its plans now, its ledger is gone, or data was lost under
// on_data_loss "fail". The reason is reported once and shown in the
// status; batches already emitted may still commit.
func (s *Spout) stop(p *partition, why error) {
	if p.stopped != nil {
		return
	}
	if errors.Is(why, ledger.ErrFenced) {
		s.Fenced.Add(1)
		// expected when the partition moved to another task; not when two
		// clusters (or runs) share a topology name and a ledger
		where := "ledger topic " + s.cfg.Ledger.Topic
		if s.cfg.Ledger.Kind == "file" {
			where = "ledger directory " + s.cfg.Ledger.Dir
		}
		why = fmt.Errorf("%w (another task took the partition: a move, or another cluster or gale run running topology %q with the same %s)",
			why, s.tc.Topology.Name, where)
	}
	p.stopped = why
	p.lastErr, p.lastErrAt = why.Error(), time.Now()
	p.replay, p.buf, p.fetch, p.planning, p.planOp, p.held = nil, nil, nil, nil, nil, nil
	s.out.ReportError(fmt.Errorf("partition %s/%d: stopped emitting: %w", p.topic, p.partition, why))
}

// close releases the partition; its ledger loop has returned.
func (p *partition) close() {
	if p.pc != nil {
		p.pc.Close()
		p.pc = nil
	}
	if p.pom != nil {
		p.pom.Close()
		p.pom = nil
	}
	if p.w != nil {
		p.w.Close()
	}
}

func (s *Spout) closeClients() {
	if s.fetcher != nil {
		s.fetcher.close()
		s.fetcher = nil
	}
	if s.dlq != nil {
		s.dlq.Close()
		s.dlq = nil
	}
	if s.offsets != nil {
		s.offsets.Close()
		s.offsets = nil
	}
}

// Close releases the partitions and the clients. The commits still queued
// get one last try (within ledger.timeout); the committed offsets are
// flushed to Kafka. Close may be called twice.
func (s *Spout) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	for _, p := range s.order {
		p.lw.close()
	}
	s.loops.Wait()
	s.reads.Wait()                      // the handover polls, each within ledger.timeout
	s.drainLedger(context.Background()) // closed: nothing is emitted
	s.answerErrs = nil
	s.publish() // the final status stays readable
	// Start every partition's shutdown at once: a PartitionOffsetManager's
	// Close waits for a commit round, one after the other would add up.
	var wg sync.WaitGroup
	for _, p := range s.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.close()
		}()
	}
	// ...and flush the offsets now rather than at the next auto-commit
	// tick: Commit also releases the closing partition managers (up to
	// 200 ms saved at every stop)
	done := make(chan struct{})
	go func() { wg.Wait(); s.releases.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			if s.offsets != nil {
				s.offsets.Commit()
			}
		}
	}
	s.closeClients()
	var err error
	if s.client != nil {
		err = s.client.Close()
	}
	if s.store != nil {
		err = errors.Join(err, s.store.Close())
	}
	return err
}
