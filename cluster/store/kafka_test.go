package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/cluster/store/storetest"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/testenv"
)

// kafkaTopic returns a fresh topic name on the testenv Kafka, deleted when
// the test ends.
func kafkaTopic(t *testing.T) (brokers []string, topic string) {
	t.Helper()
	brokers = strings.Split(testenv.KafkaBrokers(t), ",")
	topic = fmt.Sprintf("gale-store-test-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	t.Cleanup(func() {
		c := sarama.NewConfig()
		c.Version = sarama.V4_0_0_0
		if a, err := sarama.NewClusterAdmin(brokers, c); err == nil {
			a.DeleteTopic(topic)
			a.Close()
		}
	})
	return brokers, topic
}

func openKafka(t *testing.T, brokers []string, topic string) *store.KafkaStore {
	t.Helper()
	cfg := store.DefaultKafkaConfig(brokers...)
	cfg.Topic = topic
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.OpenKafkaStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKafkaStore_Conformance runs the suite against the real Kafka of
// testenv; every instance is a KafkaStore of its own on one topic, as
// separate workers would be.
func TestKafkaStore_Conformance(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openKafka(t, brokers, topic) })
}

func admin(t *testing.T, brokers []string) sarama.ClusterAdmin {
	t.Helper()
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	a, err := sarama.NewClusterAdmin(brokers, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// readTopic returns the committed records of the topic, in order, up to
// the first tombstone keyed last.
func readTopic(t *testing.T, brokers []string, topic, last string) []*sarama.ConsumerMessage {
	t.Helper()
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Consumer.IsolationLevel = sarama.ReadCommitted
	cons, err := sarama.NewConsumer(brokers, c)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	pc, err := cons.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var msgs []*sarama.ConsumerMessage
	deadline := time.After(storetest.Timeout)
	for {
		select {
		case m := <-pc.Messages():
			msgs = append(msgs, m)
			if string(m.Key) == last && m.Value == nil {
				return msgs
			}
		case err := <-pc.Errors():
			t.Fatal(err)
		case <-deadline:
			t.Fatalf("no record keyed %q in %s", last, topic)
		}
	}
}

// TestKafkaStore_TopicLayout: the topic is created compacted with one
// partition; records are keyed topology/NAME and assignment/NAME, with the
// stored JSON as value, and a deletion is a tombstone.
func TestKafkaStore_TopicLayout(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	s, err := store.OpenKafkaStore(context.Background(), store.KafkaConfig{Brokers: brokers, Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	a := admin(t, brokers)
	meta, err := a.DescribeTopics([]string{topic})
	if err != nil || len(meta) != 1 || len(meta[0].Partitions) != 1 {
		t.Fatalf("topic metadata %+v, %v; want one partition", meta, err)
	}
	cfg, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: []string{"cleanup.policy"}})
	if err != nil || len(cfg) != 1 || cfg[0].Value != "compact" {
		t.Fatalf("cleanup.policy %+v, %v; want compact", cfg, err)
	}

	raw := `{"name": "wc"}`
	if _, err := s.PutTopology(ctx, store.Topology{Name: "wc", JSON: json.RawMessage(raw)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAssignment(ctx, store.Assignment{Topology: "wc", Epoch: 1, Tasks: map[string]string{"a/0": "w1"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTopology(ctx, "wc", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAssignment(ctx, "wc", 1); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range readTopic(t, brokers, topic, "assignment/wc") {
		switch k := string(m.Key); {
		case strings.HasPrefix(k, "\x00"): // kvlog's own: read barriers
			if m.Value != nil {
				t.Errorf("a record of the log %q has a value %q", k, m.Value)
			}
		case m.Value == nil:
			got = append(got, k+" tombstone")
		default:
			var v struct {
				Name     string `json:"name"`
				Topology string `json:"topology"`
				JSON     string `json:"json"`
			}
			if err := json.Unmarshal(m.Value, &v); err != nil {
				t.Errorf("record %s: %q: %v", k, m.Value, err)
			}
			if k == "topology/wc" && (v.Name != "wc" || v.JSON != raw) {
				t.Errorf("record %s = %s", k, m.Value)
			}
			got = append(got, k)
		}
	}
	want := []string{"topology/wc", "assignment/wc", "topology/wc tombstone", "assignment/wc tombstone"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records %q, want %q", got, want)
	}
}

// TestKafkaStore_RejectsUnfitTopic: a topic with several partitions (no
// single order of writes) or without compaction (records would expire).
func TestKafkaStore_RejectsUnfitTopic(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	a := admin(t, brokers)
	del := "delete"
	for _, tc := range []struct {
		suffix string
		detail sarama.TopicDetail
		want   string
	}{
		{"-parts", sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, "3 partitions"},
		{"-delete", sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1,
			ConfigEntries: map[string]*string{"cleanup.policy": &del}}, "cleanup.policy=delete"},
	} {
		name := topic + tc.suffix
		if err := a.CreateTopic(name, &tc.detail, false); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.DeleteTopic(name) })
		cfg := store.DefaultKafkaConfig(brokers...)
		cfg.Topic = name
		s, err := store.OpenKafkaStore(context.Background(), cfg)
		if err == nil {
			s.Close()
			t.Errorf("opened a store on %s", name)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("open on %s: %v, want it to say %q", name, err, tc.want)
		}
	}
}

// TestKafkaStore_ForeignRecords: what another client writes to the topic
// (garbage under a record key, unknown keys) does not break the store:
// the record reads as ErrCorrupt, its event carries version 0, the other
// keys are ignored.
func TestKafkaStore_ForeignRecords(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	s := openKafka(t, brokers, topic)
	defer s.Close()
	ctx := context.Background()
	events, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Return.Successes = true
	p, err := sarama.NewSyncProducer(brokers, c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for k, v := range map[string]string{"topology/bad": "not json", "other/x": "{}", "topology/a b": "{}"} {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(k), Value: sarama.StringEncoder(v)}); err != nil {
			t.Fatal(err)
		}
	}
	storetest.WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: "bad", Version: 0})
	if _, err := s.GetTopology(ctx, "bad"); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("get of a garbage record: %v, want ErrCorrupt naming it", err)
	}
	if _, err := s.PutTopology(ctx, store.Topology{Name: "bad"}, 0); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("put over a garbage record: %v, want ErrCorrupt", err)
	}
	// a deletion by the operator (a tombstone) clears it
	if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("topology/bad")}); err != nil {
		t.Fatal(err)
	}
	storetest.WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: "bad", Deleted: true})
	if l, err := s.ListTopologies(ctx); err != nil || len(l) != 0 {
		t.Errorf("list = %v, %v; want nothing (foreign keys ignored)", l, err)
	}
	if _, err := s.PutTopology(ctx, store.Topology{Name: "bad"}, 0); err != nil {
		t.Errorf("put after the cleanup: %v", err)
	}
}

// TestKafkaStore_ReadsOldTopic: a topic written by the KafkaStore Gale
// had before kvlog (records keyed KIND/NAME, read barriers that are
// tombstones keyed "barrier"; produced here by hand) is read as is and
// written on.
func TestKafkaStore_ReadsOldTopic(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	a := admin(t, brokers)
	compact := "compact"
	if err := a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"cleanup.policy": &compact}}, false); err != nil {
		t.Fatal(err)
	}
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer(brokers, c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, r := range [][2]string{
		{"barrier", ""},
		{"topology/wc", `{"format":1,"name":"wc","version":2,"status":"active","submitted_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z","json":"{}"}`},
		{"topology/gone", `{"format":1,"name":"gone","version":1,"status":"active","submitted_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`},
		{"topology/gone", ""},
		{"assignment/wc", `{"format":1,"topology":"wc","epoch":3,"updated_at":"2026-01-02T03:04:05Z","tasks":{"a/0":"w1"}}`},
		{"lease/leader", `{"format":1,"name":"leader","holder":"w1","version":5,"ttl_ms":3000,"updated_at":"2026-01-02T03:04:05Z"}`},
		{"barrier", ""},
	} {
		m := &sarama.ProducerMessage{Topic: topic, Partition: 0, Key: sarama.StringEncoder(r[0])}
		if r[1] != "" {
			m.Value = sarama.StringEncoder(r[1])
		}
		if _, _, err := p.SendMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	s := openKafka(t, brokers, topic)
	defer s.Close()
	ctx := context.Background()
	if l, err := s.ListTopologies(ctx); err != nil || len(l) != 1 || l[0].Name != "wc" || l[0].Version != 2 || string(l[0].JSON) != "{}" {
		t.Errorf("list = %+v, %v; want wc at version 2", l, err)
	}
	if got, err := s.GetAssignment(ctx, "wc"); err != nil || got.Epoch != 3 || got.Tasks["a/0"] != "w1" {
		t.Errorf("assignment = %+v, %v", got, err)
	}
	if got, err := s.GetLease(ctx, "leader"); err != nil || got.Version != 5 || got.Holder != "w1" {
		t.Errorf("lease = %+v, %v", got, err)
	}
	if _, err := s.PutTopology(ctx, store.Topology{Name: "wc"}, 1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("put expecting an old version: %v, want ErrConflict", err)
	}
	if got, err := s.PutTopology(ctx, store.Topology{Name: "wc", Workers: 3}, 2); err != nil || got.Version != 3 ||
		!got.SubmittedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("put over the old record: %+v, %v", got, err)
	}
}

// TestKafkaStore_DeadWriterMidTransaction: a writer that died with a
// transaction open (here: a producer with the store's transactional id
// that never commits) holds read_committed readers back; the next write
// fences it, so the write goes through and the dead writer's record never
// becomes visible.
func TestKafkaStore_DeadWriterMidTransaction(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	s := openKafka(t, brokers, topic)
	defer s.Close()
	ctx := context.Background()
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Idempotent = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Net.MaxOpenRequests = 1
	c.Producer.Transaction.ID = "gale-store-" + topic
	c.Producer.Transaction.Timeout = time.Minute // would hold the readers back for a minute
	zombie, err := sarama.NewSyncProducer(brokers, c)
	if err != nil {
		t.Fatal(err)
	}
	defer zombie.Close()
	if err := zombie.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	ghost := `{"format":1,"name":"ghost","version":1,"status":"active","submitted_at":"2020-01-01T00:00:00Z","updated_at":"2020-01-01T00:00:00Z"}`
	if _, _, err := zombie.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("topology/ghost"), Value: sarama.StringEncoder(ghost)}); err != nil {
		t.Fatal(err)
	}

	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	got, err := s.PutTopology(wctx, store.Topology{Name: "ghost", Workers: 7}, 0)
	if err != nil {
		t.Fatalf("put behind a dead writer's transaction: %v", err)
	}
	if got.Version != 1 || got.Workers != 7 {
		t.Errorf("put = %+v", got)
	}
	if err := zombie.CommitTxn(); err == nil {
		t.Error("the dead writer committed after it was fenced")
	}
	r := openKafka(t, brokers, topic)
	defer r.Close()
	if got, err := r.GetTopology(ctx, "ghost"); err != nil || got.Workers != 7 {
		t.Errorf("a new store reads %+v, %v; want the store's record, not the dead writer's", got, err)
	}
}

func TestKafkaConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		what string
		edit func(*store.KafkaConfig)
		want string
	}{
		{"brokers", func(c *store.KafkaConfig) { c.Brokers = nil }, "no brokers"},
		{"topic", func(c *store.KafkaConfig) { c.Topic = "a/b" }, "topic"},
		{"long topic", func(c *store.KafkaConfig) { c.Topic = strings.Repeat("t", 250) }, "topic"},
		{"version", func(c *store.KafkaConfig) { c.KafkaVersion = "x" }, "kafka version"},
		{"replication", func(c *store.KafkaConfig) { c.ReplicationFactor = -2 }, "replication"},
		{"timeout", func(c *store.KafkaConfig) { c.Timeout = -time.Second }, "timeouts"},
		{"transaction timeout", func(c *store.KafkaConfig) { c.TransactionTimeout = -time.Second }, "timeouts"},
		{"attempts", func(c *store.KafkaConfig) { c.WriteAttempts = -1 }, "write attempts"},
	} {
		cfg := store.DefaultKafkaConfig("127.0.0.1:1")
		if err := cfg.Validate(); err != nil {
			t.Fatalf("the default config: %v", err)
		}
		tc.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bad %s: %v, want an error about %q", tc.what, err, tc.want)
		}
		if _, err := store.OpenKafkaStore(context.Background(), cfg); err == nil {
			t.Errorf("OpenKafkaStore accepted a bad %s", tc.what)
		}
	}
	// zero fields stand for the defaults
	if err := (store.KafkaConfig{Brokers: []string{"127.0.0.1:1"}}).Validate(); err != nil {
		t.Errorf("a config with only brokers: %v", err)
	}
}

// TestKafkaStore_BrokerRestart runs on demand (GALE_STORE_BROKER_RESTART=1):
// it starts a private Kafka (testdata/private-kafka.sh, ports 19092/19093,
// so the shared testenv broker is left alone), SIGKILLs it under a running
// store and starts it again. During the outage writes fail within their
// context and reads serve the last state; afterwards the same store writes
// again, its watchers see the changes, and a new store reads everything.
func TestKafkaStore_BrokerRestart(t *testing.T) {
	if os.Getenv("GALE_STORE_BROKER_RESTART") == "" {
		t.Skip("on demand: GALE_STORE_BROKER_RESTART=1 starts a private Kafka and SIGKILLs it (needs testenv's Kafka jars)")
	}
	dir := t.TempDir()
	run := func(cmd string) {
		t.Helper()
		t0 := time.Now()
		out, err := exec.Command("testdata/private-kafka.sh", dir, cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("private-kafka.sh %s: %v\n%s", cmd, err, out)
		}
		t.Logf("private-kafka.sh %s: %v", cmd, time.Since(t0).Round(time.Millisecond))
	}
	run("up")
	t.Cleanup(func() { exec.Command("testdata/private-kafka.sh", dir, "down").Run() })
	ctx := context.Background()
	cfg := store.DefaultKafkaConfig("127.0.0.1:19092")
	cfg.Topic = "gale-restart"
	// the broker accepts connections a little before it serves
	openRetrying := func() *store.KafkaStore {
		t.Helper()
		var s *store.KafkaStore
		var err error
		defer func() {
			if s == nil {
				t.Logf("open: %v", err)
			}
		}()
		galetest.Eventually(t, "the store to open", 60*time.Second, func() bool {
			octx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			s, err = store.OpenKafkaStore(octx, cfg)
			return err == nil
		})
		return s
	}
	s := openRetrying()
	defer s.Close()
	events, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutTopology(ctx, store.Topology{Name: "wc", JSON: json.RawMessage(`{"name":"wc"}`)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAssignment(ctx, store.Assignment{Topology: "wc", Epoch: 1, Tasks: map[string]string{"a/0": "w1"}}); err != nil {
		t.Fatal(err)
	}

	run("kill")
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	t0 := time.Now()
	_, err = s.PutTopology(octx, store.Topology{Name: "wc", Workers: 1}, 1)
	cancel()
	if err == nil {
		t.Fatal("a write succeeded with the broker down")
	}
	t.Logf("write during the outage failed after %v: %v", time.Since(t0).Round(time.Millisecond), err)
	if got, err := s.GetTopology(ctx, "wc"); err != nil || got.Version != 1 {
		t.Errorf("read during the outage: %+v, %v; want version 1 from the view", got, err)
	}

	run("up")
	var v2 store.Topology
	wrote := false
	defer func() {
		if !wrote {
			t.Logf("write: %v", err)
		}
	}()
	took := galetest.Eventually(t, "a write after the restart", 90*time.Second, func() bool {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		v2, err = s.PutTopology(wctx, store.Topology{Name: "wc", Workers: 2}, 1)
		if errors.Is(err, store.ErrConflict) {
			t.Fatalf("after the restart: %v (the write of the outage must not have landed)", err)
		}
		return err == nil
	})
	wrote = true
	t.Logf("first write %v after the broker was up again", took.Round(time.Millisecond))
	if v2.Version != 2 {
		t.Errorf("version after the restart %d, want 2", v2.Version)
	}
	storetest.WaitEvent(t, events, store.Event{Kind: store.KindTopology, Name: "wc", Version: 2})

	r := openRetrying()
	defer r.Close()
	if got, err := r.GetTopology(ctx, "wc"); err != nil || got.Version != 2 || got.Workers != 2 || string(got.JSON) != "" {
		t.Errorf("a new store reads %+v, %v", got, err)
	}
	if got, err := r.GetAssignment(ctx, "wc"); err != nil || got.Epoch != 1 || got.Tasks["a/0"] != "w1" {
		t.Errorf("a new store reads the assignment %+v, %v", got, err)
	}
}

func BenchmarkKafkaStore(b *testing.B) {
	brokers := strings.Split(testenv.KafkaBrokers(b), ",")
	topic := fmt.Sprintf("gale-store-bench-%d", time.Now().UnixNano())
	b.Cleanup(func() {
		c := sarama.NewConfig()
		c.Version = sarama.V4_0_0_0
		if a, err := sarama.NewClusterAdmin(brokers, c); err == nil {
			a.DeleteTopic(topic)
			a.Close()
		}
	})
	storetest.Bench(b, func(b *testing.B) store.Store {
		cfg := store.DefaultKafkaConfig(brokers...)
		cfg.Topic = topic
		s, err := store.OpenKafkaStore(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
