package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

func taskContext() *topology.TaskContext {
	return &topology.TaskContext{
		Topology:  &topology.Topology{Name: "kafka-test"},
		Component: &topology.Component{ID: "events", Parallelism: 1},
	}
}

func newSpout(t *testing.T, cfg *kafkaspout.Config) (*kafkaspout.Spout, *galetest.SpoutCollector) {
	t.Helper()
	return newWrappedSpout(t, cfg, nil)
}

// newWrappedSpout is newSpout whose ledger store is wrapped by wrap (nil:
// not wrapped), to inject ledger faults.
func newWrappedSpout(t *testing.T, cfg *kafkaspout.Config, wrap func(ledger.Store) ledger.Store) (*kafkaspout.Spout, *galetest.SpoutCollector) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := kafkaspout.New(cfg)
	if wrap != nil {
		kafkaspout.WrapStore(s, wrap)
	}
	out := &galetest.SpoutCollector{}
	if err := s.Open(context.Background(), taskContext(), out); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, out
}

// pump calls NextTuple until the spout emitted at least n tuples.
func pump(t *testing.T, s *kafkaspout.Spout, out *galetest.SpoutCollector, n int) {
	t.Helper()
	galetest.Eventually(t, fmt.Sprintf("the spout to emit %d tuples", n), 20*time.Second, func() bool {
		if err := s.NextTuple(context.Background()); err != nil {
			t.Fatalf("NextTuple: %v", err)
		}
		em, _ := out.Snapshot()
		return len(em) >= n
	})
}

// TestSpout_SecondOwnerFencesFirst: two spouts that both believe they own
// the partition: the second one's start fences the first, whose next plan
// is refused; the ledger holds one history.
func TestSpout_SecondOwnerFencesFirst(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	// The first spout must still have batches to plan once the second
	// started: were its batches to grow while its ledger is slow (a loaded
	// machine) or were it held at max_pending_batches, it would plan
	// nothing more and never learn of the fence. So batches stay at 20
	// records, the cap is far, and the topic holds 50 batches.
	const records = 1000
	topic, _ := newTopic(t, brokers, 1, records, func(i int) string { return "r" })
	dir := t.TempDir()
	cfg := func() *kafkaspout.Config {
		c := kafkaspout.NewConfig()
		c.Brokers, c.Topics, c.Start, c.Ledger.Dir = []string{brokers}, []string{topic}, "earliest", dir
		c.Batch.Records, c.Batch.MaxRecords = 20, 20
		c.MaxPendingBatches = 2 * records / 20
		return c
	}
	first, out1 := newSpout(t, cfg())
	pump(t, first, out1, 20) // one batch planned and emitted
	second, out2 := newSpout(t, cfg())
	pump(t, second, out2, 20) // its start fenced the first, then it replayed batch 0

	// the first keeps trying: its next plan is refused
	galetest.Eventually(t, "the first spout to be fenced", 20*time.Second, func() bool {
		first.NextTuple(context.Background())
		return first.Fenced.Load() > 0
	})
	for range 50 { // and it stays so
		first.NextTuple(context.Background())
	}
	if first.Fenced.Load() != 1 {
		t.Fatalf("first spout fenced %d partitions, want 1", first.Fenced.Load())
	}
	// it emitted the batches it planned before the fence, and nothing after
	emitted1, errs1 := out1.Snapshot()
	if len(emitted1) == 0 || len(emitted1)%20 != 0 || len(emitted1) >= records {
		t.Errorf("the fenced spout emitted %d tuples, want its batches planned before the fence", len(emitted1))
	}
	fenced := false
	for _, e := range errs1 {
		// the message says what may have happened: a move, or a name and
		// a ledger shared by two clusters
		fenced = fenced || errors.Is(e, ledger.ErrFenced) && strings.Contains(e.Error(), `another cluster or gale run running topology "kafka-test" with the same ledger directory `+dir)
	}
	if !fenced {
		t.Errorf("the fenced spout reported %v, want ErrFenced naming the topology and the ledger", errs1)
	}
	// the new owner replays exactly those batches first
	pump(t, second, out2, len(emitted1))
	emitted2, _ := out2.Snapshot()
	for i, e := range emitted1 {
		if emitted2[i].BatchID != e.BatchID || emitted2[i].ID != e.ID {
			t.Fatalf("the new owner's tuple %d is %s/%s, want the replay of %s/%s", i, emitted2[i].BatchID, emitted2[i].ID, e.BatchID, e.ID)
		}
	}
	// one history: contiguous plans, no overlap
	store, _ := ledger.NewFileStore(dir)
	w, st, err := store.Open(context.Background(), ledger.Key{Topology: "kafka-test", Spout: "events", Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	prev := int64(0)
	for _, p := range st.Pending {
		if p.Start != prev {
			t.Errorf("plan %d starts at %d, want %d (gap or overlap)", p.Seq, p.Start, prev)
		}
		prev = p.End
	}
}

func TestSpout_MissingTopicIsNamed(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	c := kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Ledger.Dir = []string{brokers}, []string{"gale-no-such-topic-xyz"}, t.TempDir()
	s, _ := newSpout(t, c)
	err := s.NextTuple(context.Background())
	if !errors.Is(err, kafkaspout.ErrMissingTopic) || !strings.Contains(err.Error(), "gale-no-such-topic-xyz") {
		t.Fatalf("err = %v, want ErrMissingTopic naming the topic", err)
	}
}

// TestSpout_UnreachableBrokersBackOff needs no Kafka: nothing listens on
// port 1. The first call reports the error; the next ones wait for the
// backoff instead of hammering the brokers.
func TestSpout_UnreachableBrokersBackOff(t *testing.T) {
	c := kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Ledger.Dir = []string{"127.0.0.1:1"}, []string{"t"}, t.TempDir()
	s, _ := newSpout(t, c)
	err := s.NextTuple(context.Background())
	if !errors.Is(err, kafkaspout.ErrUnreachable) || !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "retrying in") {
		t.Fatalf("err = %v, want ErrUnreachable naming the broker and the retry", err)
	}
	if !errors.Is(err, sarama.ErrOutOfBrokers) {
		t.Errorf("err = %v, want it to wrap the client's sarama.ErrOutOfBrokers", err)
	}
	if err := s.NextTuple(context.Background()); err != nil {
		t.Fatalf("second call within the backoff: %v, want nil (waiting)", err)
	}
}

func TestConfig_Validate(t *testing.T) {
	c := kafkaspout.NewConfig()
	c.Start, c.Deserializer, c.Fields = "sometime", "xml", []string{"a"}
	c.Batch.Records = 0
	err := c.Validate()
	for _, want := range []string{"brokers", "topics", `start: "sometime"`, "batch:", `deserializer: "xml"`, "fields: only with the json"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}

	// the parsers' errors are wrapped
	c = kafkaspout.NewConfig()
	c.Brokers, c.TopicPattern = []string{"127.0.0.1:9092"}, "events-("
	var se *syntax.Error
	if err := c.Validate(); !errors.As(err, &se) || !strings.Contains(err.Error(), "topic_pattern") {
		t.Errorf("Validate() with a bad topic_pattern = %v, want a *syntax.Error", err)
	}
	c = kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Start, c.StartTimestamp = []string{"127.0.0.1:9092"}, []string{"t"}, "timestamp", "yesterday"
	var pe *time.ParseError
	if err := c.Validate(); !errors.As(err, &pe) || !strings.Contains(err.Error(), "start_timestamp") {
		t.Errorf("Validate() with a bad start_timestamp = %v, want a *time.ParseError", err)
	}
	// batches may grow from records to max_records, not shrink
	c = kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Batch.MaxRecords = []string{"127.0.0.1:9092"}, []string{"t"}, 499
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "batch.max_records: 499 is less than batch.records (500)") {
		t.Errorf("Validate() with max_records under records = %v, want an error naming both", err)
	}
	c.Batch.MaxRecords = 500
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() with max_records = records: %v", err)
	}
	// and from bytes to max_bytes
	c.Batch.MaxBytes = c.Batch.Bytes - 1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("batch.max_bytes: %d is less than batch.bytes (%d)", c.Batch.Bytes-1, c.Batch.Bytes)) {
		t.Errorf("Validate() with max_bytes under bytes = %v, want an error naming both", err)
	}
	c.Batch.MaxBytes = c.Batch.Bytes
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() with max_bytes = bytes: %v", err)
	}
}

// TestSpout_PicksUpAddedPartitions: partitions added to a topic while the
// spout runs are assigned and read.
func TestSpout_PicksUpAddedPartitions(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, _ := newTopic(t, brokers, 1, 10, func(i int) string { return "old" })
	c := kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Start, c.Ledger.Dir = []string{brokers}, []string{topic}, "earliest", t.TempDir()
	c.Batch.Records = 10
	c.MetadataRefresh = topology.Duration(100 * time.Millisecond)
	s, out := newSpout(t, c)
	pump(t, s, out, 10)

	admin, err := sarama.NewClusterAdmin([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreatePartitions(topic, 2, nil, false); err != nil {
		t.Fatal(err)
	}
	prod, err := sarama.NewSyncProducer([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for range 10 {
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: 1, Value: sarama.StringEncoder("new")}); err != nil {
			t.Fatal(err)
		}
	}
	pump(t, s, out, 20)
	emitted, _ := out.Snapshot()
	fromNew := 0
	for _, e := range emitted {
		if e.Values[1] == int32(1) {
			fromNew++
		}
	}
	if fromNew != 10 {
		t.Errorf("%d tuples from the added partition, want 10", fromNew)
	}
}

// TestSpout_LedgerTopicDeleted: once the Kafka ledger topic is gone, the
// spout cuts no new batch (it never emits without a plan) and reports it.
func TestSpout_LedgerTopicDeleted(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, _ := newTopic(t, brokers, 1, 20, func(i int) string { return "r" })
	ledgerTopic := fmt.Sprintf("gale-ledger-deleted-%d", time.Now().UnixNano())
	c := kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Start = []string{brokers}, []string{topic}, "earliest"
	c.Ledger.Kind, c.Ledger.Topic = "kafka", ledgerTopic
	c.Batch.Records = 20
	s, out := newSpout(t, c)
	pump(t, s, out, 20) // one batch, planned in the ledger topic

	deleteTopic(brokers, ledgerTopic)
	prod, err := sarama.NewSyncProducer([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for range 20 {
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: 0, Value: sarama.StringEncoder("after")}); err != nil {
			t.Fatal(err)
		}
	}
	var lastErr error
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := s.NextTuple(context.Background()); err != nil {
			lastErr = err
		}
		time.Sleep(5 * time.Millisecond)
	}
	emitted, _ := out.Snapshot()
	if len(emitted) != 20 {
		t.Errorf("emitted %d tuples after the ledger was deleted, want none beyond the first 20", len(emitted))
	}
	t.Logf("reported: %v", lastErr)
	if lastErr == nil || !strings.Contains(lastErr.Error(), "plan batch") ||
		!(errors.Is(lastErr, ledger.ErrGone) || errors.Is(lastErr, ledger.ErrFenced)) {
		t.Errorf("last error %v, want the refused plan reported as ErrGone (or ErrFenced)", lastErr)
	}
}

// TestSpout_TopicPattern reads every topic matching the pattern.
func TestSpout_TopicPattern(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	a, _ := newTopic(t, brokers, 1, 5, func(i int) string { return "a" })
	b, _ := newTopic(t, brokers, 2, 6, func(i int) string { return "b" })
	c := kafkaspout.NewConfig()
	c.Brokers, c.Start, c.Ledger.Dir = []string{brokers}, "earliest", t.TempDir()
	c.TopicPattern = strings.ReplaceAll(a, "-", "[-]") + "|" + strings.ReplaceAll(b, "-", "[-]")
	c.Batch.Records = 5
	c.Batch.Time = topology.Duration(20 * time.Millisecond)
	s, out := newSpout(t, c)
	pump(t, s, out, 11)
	emitted, _ := out.Snapshot()
	per := map[string]int{}
	for _, e := range emitted {
		per[e.Values[0].(string)]++
	}
	if per[a] != 5 || per[b] != 6 || len(per) != 2 {
		t.Errorf("tuples per topic %v, want %s:5 %s:6", per, a, b)
	}
}
