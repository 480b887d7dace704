package kafka_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

func saramaConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	return c
}

// newTopic creates a topic with n partitions and produces count records,
// record i to partition i mod n with value value(i). It returns the topic
// and the number of records per partition.
func newTopic(t *testing.T, brokers string, parts int32, count int, value func(i int) string) (string, map[int32]int64) {
	t.Helper()
	topic := fmt.Sprintf("gale-spout-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
	admin, err := sarama.NewClusterAdmin([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: parts, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteTopic(brokers, topic, topic+".dlq") })
	prod, err := sarama.NewSyncProducer([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	perPart := map[int32]int64{}
	var msgs []*sarama.ProducerMessage
	for i := range count {
		p := int32(i) % parts
		perPart[p]++
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Partition: p, Timestamp: time.UnixMilli(testTimestamp(i)),
			Key: sarama.StringEncoder(fmt.Sprint(i)), Value: sarama.StringEncoder(value(i))})
	}
	for len(msgs) > 0 {
		n := min(500, len(msgs))
		if err := prod.SendMessages(msgs[:n]); err != nil {
			t.Fatal(err)
		}
		msgs = msgs[n:]
	}
	return topic, perPart
}

// testTimestamp is record i's timestamp (Unix ms) in newTopic's topics:
// runs of records share one, as records produced together do; all of
// them from a minute before the tests started.
func testTimestamp(i int) int64 { return testTimeBase + int64(i/5) }

var testTimeBase = time.Now().Add(-time.Minute).UnixMilli()

// checkGroupOffsets asserts that the consumer group committed the end of
// every partition, as Kafka's own tools (kafka-consumer-groups) see it.
func checkGroupOffsets(t *testing.T, brokers, group, topic string, perPart map[int32]int64) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var parts []int32
	for p := range perPart {
		parts = append(parts, p)
	}
	resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: parts})
	if err != nil {
		t.Fatal(err)
	}
	for p, n := range perPart {
		b := resp.GetBlock(topic, p)
		if b == nil || b.Offset != n {
			t.Errorf("group %s partition %d: committed offset %v, want %d", group, p, b, n)
		}
	}
}

// deleteTopic removes test topics (missing ones are fine).
func deleteTopic(brokers string, topics ...string) {
	if a, err := sarama.NewClusterAdmin([]string{brokers}, saramaConfig()); err == nil {
		for _, t := range topics {
			a.DeleteTopic(t)
		}
		a.Close()
	}
}

// recorder remembers, per batch id, the tuple ids of every emission.
type recorder struct {
	mu       sync.Mutex
	attempts map[string][][]string // batch id -> emissions -> tuple ids in order
	failRate uint32                // per 100 batches failed on their first emission; when non-zero the first batch always fails once, so a run with few batches still replays
	failed   map[string]bool
	order    []string // batch ids in the order of their first tuple
	// newBatchDelay holds the first tuple of each batch this long before
	// acking it (a slow sink: the batch stays in flight)
	newBatchDelay time.Duration
	// delay: each tuple takes this long (a slow bolt)
	delay time.Duration
	// mismatched are tuples whose id is not their topic/partition/offset
	// values, or whose extracted fields are not their value's
	mismatched []string
}

func newRecorder(failRate uint32) *recorder {
	return &recorder{attempts: map[string][][]string{}, failRate: failRate, failed: map[string]bool{}}
}

func (r *recorder) bolt() registry.Bolt[registry.NoConfig] {
	return registry.Bolt[registry.NoConfig]{
		Name: "flaky",
		New:  func(*registry.NoConfig) (bolt.Bolt, error) { return &flaky{r: r}, nil },
	}
}

type flaky struct {
	r   *recorder
	out bolt.Collector
}

// mismatch says how a tuple of the spout is inconsistent ("" when it is
// not): its id is topic/partition/offset of its values, its timestamp
// the one newTopic gave its record (when its key is newTopic's), and a JSON
// value's user.name, when the field is extracted, is its 8th value.
func mismatch(t *tuple.Tuple) string {
	if len(t.Values) < 7 {
		return fmt.Sprintf("%s: %d values", t.ID, len(t.Values))
	}
	if want := fmt.Sprintf("%v/%v/%v", t.Values[0], t.Values[1], t.Values[2]); t.ID != want {
		return fmt.Sprintf("id %s, values say %s", t.ID, want)
	}
	if i, err := strconv.Atoi(tuple.AsString(t.Values[3])); err == nil && t.Values[5] != testTimestamp(i) {
		return fmt.Sprintf("%s: timestamp %v (%T), want %d", t.ID, t.Values[5], t.Values[5], testTimestamp(i))
	}
	if doc, ok := t.Values[4].(map[string]any); ok && len(t.Values) == 8 {
		if user, _ := doc["user"].(map[string]any); user["name"] != t.Values[7] {
			return fmt.Sprintf("%s: field %v, value's user.name %v", t.ID, t.Values[7], user["name"])
		}
	}
	return ""
}

func (f *flaky) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	f.out = out
	return nil
}

func (f *flaky) Execute(_ context.Context, t *tuple.Tuple) error {
	r := f.r
	r.mu.Lock()
	if bad := mismatch(t); bad != "" {
		r.mismatched = append(r.mismatched, bad)
	}
	a := r.attempts[t.BatchID]
	if len(a) == 0 {
		r.order = append(r.order, t.BatchID)
	}
	if len(a) == 0 || (len(a[0]) > 0 && a[0][0] == t.ID) {
		a = append(a, nil) // a new emission of the batch starts
	}
	a[len(a)-1] = append(a[len(a)-1], t.ID)
	r.attempts[t.BatchID] = a
	h := fnv.New32a()
	h.Write([]byte(t.BatchID))
	chosen := h.Sum32()%100 < r.failRate || (r.failRate > 0 && r.order[0] == t.BatchID)
	fail := len(a) == 1 && chosen && !r.failed[t.BatchID]
	if fail {
		r.failed[t.BatchID] = true
	}
	first := len(a) == 1 && len(a[0]) == 1
	r.mu.Unlock()
	if first && r.newBatchDelay > 0 {
		time.Sleep(r.newBatchDelay)
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	if fail {
		f.out.Fail(t)
	} else {
		f.out.Ack(t)
	}
	return nil
}

func (f *flaky) Cleanup() error { return nil }

func spoutTopology(t *testing.T, reg *registry.Registry, cfg map[string]any, parallelism int) *topology.Topology {
	t.Helper()
	b := topology.NewBuilder("kafka-test")
	b.SetConfig("topology.message.timeout.secs", 20)
	b.Spout("events", kafkaspout.TypeName, parallelism).Config(cfg)
	b.Bolt("flaky", "flaky", 1).GlobalGrouping("events")
	topo, err := b.Build(reg)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func testRegistry(r *recorder) *registry.Registry {
	reg := registry.New()
	reg.MustRegister(kafkaspout.Type())
	reg.MustRegister(r.bolt())
	return reg
}

// checkLedger asserts that each partition's ledger covers [0, count)
// contiguously and every batch is committed.
func checkLedger(t *testing.T, dir, topic string, perPart map[int32]int64) {
	t.Helper()
	store, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkLedgerIn(t, store, topic, perPart)
}

func checkLedgerIn(t *testing.T, store ledger.Store, topic string, perPart map[int32]int64) {
	t.Helper()
	for p, n := range perPart {
		w, st, err := store.Open(context.Background(), ledger.Key{Topology: "kafka-test", Spout: "events", Topic: topic, Partition: p})
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		if st.NextStart != n || st.CommittedEnd != n || st.Committed != st.NextSeq || len(st.Pending) != 0 {
			t.Errorf("partition %d: ledger %+v, want every batch committed up to offset %d", p, st, n)
		}
	}
}

// TestSpout_ReplayIdentity: batches fail at random (seeded by their id);
// every emission of a batch id carries exactly the same tuple ids in the
// same order, and every record is in exactly one batch, committed.
func TestSpout_ReplayIdentity(t *testing.T) {
	for _, kind := range []string{"file", "kafka"} {
		t.Run(kind+"-ledger", func(t *testing.T) { testReplayIdentity(t, kind) })
	}
}

func testReplayIdentity(t *testing.T, kind string) {
	brokers := testenv.KafkaBrokers(t)
	const count = 3000
	topic, perPart := newTopic(t, brokers, 3, count, func(i int) string { return fmt.Sprintf("record %d", i) })
	dir := t.TempDir()
	ledgerTopic := fmt.Sprintf("gale-ledger-%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(brokers, ledgerTopic) })
	r := newRecorder(25)
	reg := testRegistry(r)
	topo := spoutTopology(t, reg, map[string]any{
		"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		"batch":  map[string]any{"records": 37, "time": "50ms"},
		"ledger": map[string]any{"kind": kind, "dir": dir, "topic": ledgerTopic},
	}, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	stats, err := local.Run(ctx, topo, local.Options{})
	if err != nil || ctx.Err() != nil {
		t.Fatalf("run: %v (ctx %v)", err, ctx.Err())
	}
	replayed := 0
	owner := map[string]string{}
	for id, attempts := range r.attempts {
		for i, a := range attempts[1:] {
			if strings.Join(a, ",") != strings.Join(attempts[0], ",") {
				t.Fatalf("batch %s emission %d differs from the first:\n%v\n%v", id, i+2, a, attempts[0])
			}
			replayed++
		}
		for _, tid := range attempts[0] {
			if other, dup := owner[tid]; dup {
				t.Fatalf("record %s in batches %s and %s", tid, other, id)
			}
			owner[tid] = id
		}
	}
	if len(owner) != count {
		t.Errorf("%d distinct records emitted, want %d", len(owner), count)
	}
	if replayed == 0 || len(r.failed) == 0 {
		t.Errorf("no batch was replayed (failed %d): the test proves nothing", len(r.failed))
	}
	// each batch is one tuple tree: acked once, failed once per replay
	if ev := stats.Component("events"); ev.Acked != uint64(len(r.attempts)) || ev.Failed != uint64(replayed) {
		t.Errorf("spout trees acked %d failed %d, want %d batches acked and %d failed", ev.Acked, ev.Failed, len(r.attempts), replayed)
	}
	checkGroupOffsets(t, brokers, "gale-kafka-test-events", topic, perPart)
	checkStatus(t, stats, topic, perPart)
	if kind == "file" {
		checkLedger(t, dir, topic, perPart)
	} else {
		store, err := ledger.NewKafkaStore([]string{brokers}, ledgerTopic)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		checkLedgerIn(t, store, topic, perPart)
	}
	t.Logf("%d records in %d batches, %d batches failed and replayed", count, len(r.attempts), replayed)
}

// checkStatus: the spout tasks' final status shows every partition read to
// its end: all planned batches committed, none in flight, no lag.
func checkStatus(t *testing.T, stats local.Stats, topic string, perPart map[int32]int64) {
	t.Helper()
	seen := map[int32]bool{}
	for _, ts := range stats.Tasks {
		if ts.Component != "events" || ts.Status == nil {
			continue
		}
		for _, p := range ts.Status.Partitions {
			if p.Topic != topic {
				t.Errorf("status of topic %q, want %q", p.Topic, topic)
			}
			seen[p.Partition] = true
			if p.Planned == 0 || p.Committed != p.Planned || p.InFlight != 0 || p.Replaying != 0 ||
				p.CommittedOffset != perPart[p.Partition] || p.HighWatermark != perPart[p.Partition] {
				t.Errorf("partition %d status %+v: want every batch committed, offsets at the end %d", p.Partition, p, perPart[p.Partition])
			}
		}
	}
	if len(seen) != len(perPart) {
		t.Errorf("status of %d partitions, want %d", len(seen), len(perPart))
	}
}

// TestSpout_DeadLetters: with the json deserializer, records that are not
// JSON go to the dead-letter topic with their error; the rest flow and
// every batch commits.
func TestSpout_DeadLetters(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	const count = 400
	poison := func(i int) bool { return i%37 == 5 }
	topic, perPart := newTopic(t, brokers, 2, count, func(i int) string {
		if poison(i) {
			return fmt.Sprintf("not json %d {", i)
		}
		b, _ := json.Marshal(map[string]any{"n": i, "user": map[string]any{"name": fmt.Sprintf("u%d", i%7)}})
		return string(b)
	})
	wantPoison := 0
	for i := range count {
		if poison(i) {
			wantPoison++
		}
	}
	dir := t.TempDir()
	r := newRecorder(0)
	reg := testRegistry(r)
	topo := spoutTopology(t, reg, map[string]any{
		"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		"deserializer": "json", "fields": []string{"user.name"},
		// batches of more than one chunk of emit's allocations, poison
		// records in them
		"batch":  map[string]any{"records": 150, "time": "50ms"},
		"ledger": map[string]any{"dir": dir},
	}, 1)
	if got := fmt.Sprint(topo.Spouts[0].Streams["default"]); got != "[topic partition offset key value timestamp headers name]" {
		t.Errorf("declared fields %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := local.Run(ctx, topo, local.Options{}); err != nil || ctx.Err() != nil {
		t.Fatalf("run: %v (ctx %v)", err, ctx.Err())
	}
	emitted := 0
	for _, a := range r.attempts {
		emitted += len(a[0])
	}
	if emitted != count-wantPoison {
		t.Errorf("emitted %d tuples, want %d", emitted, count-wantPoison)
	}
	if len(r.mismatched) > 0 {
		t.Errorf("%d tuples inconsistent, the first: %s", len(r.mismatched), r.mismatched[0])
	}
	checkLedger(t, dir, topic, perPart)

	// the dead letters, with their errors
	consumer, err := sarama.NewConsumer([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	seen := 0
	for p := int32(0); p < 1; p++ {
		pc, err := consumer.ConsumePartition(topic+".dlq", p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("dead-letter topic: %v", err)
		}
		timeout := time.After(20 * time.Second)
	read:
		for seen < wantPoison {
			select {
			case m := <-pc.Messages():
				seen++
				var cause, source string
				for _, h := range m.Headers {
					switch string(h.Key) {
					case "gale.error":
						cause = string(h.Value)
					case "gale.source":
						source = string(h.Value)
					}
				}
				if !strings.Contains(cause, "not JSON") || !strings.HasPrefix(source, topic+"/") || !strings.HasPrefix(string(m.Value), "not json") {
					t.Errorf("dead letter %q: error %q source %q", m.Value, cause, source)
				}
			case <-timeout:
				break read
			}
		}
		pc.Close()
	}
	if seen != wantPoison {
		t.Errorf("%d dead letters, want %d", seen, wantPoison)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

var _ = filepath.Join
