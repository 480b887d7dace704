package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/testenv"
)

const statefulTopology = `{"name": "scount", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 8},
  "spouts": [{"id": "events", "type": "kafka", "parallelism": 4, "config": {
      "brokers": [%[1]q], "topics": [%[2]q], "group": "gale-e2e-scount", "start": "earliest", "bounded": true,
      "batch": {"records": 500, "max_records": 500, "time": "1h"},
      "ledger": {"kind": "kafka", "topic": %[3]q}}}],
  "bolts": [
    {"id": "count", "type": "count", "parallelism": 3, "inputs": [{"component": "events", "grouping": "fields", "fields": ["key"]}],
     "config": {"field": "key", "state": {"kind": "kafka", "brokers": [%[1]q], "topic": %[4]q}}},
    {"id": "files", "type": "file_sink", "parallelism": 2, "inputs": [{"component": "count", "grouping": "batch"}],
     "config": {"dir": %[5]q, "fields": ["key", "count"]}}]}`

// statefulEvents is the number of records of TestStatefulCount_Kills.
const statefulEvents = 300000

// TestStatefulCount_Kills runs a stateful count (the count bolt with its
// state in Kafka) over a topic of 300,000 keyed records on three worker
// processes, SIGKILLing a random worker ten times (restarted each time),
// with the counts written on by a file sink. Then:
//   - a recount of the topic by librdkafka (testdata/state_recount.py)
//     equals the state it reads from the store's compacted topic, key by
//     key;
//   - the lz4 CLI reads from the files every key's counts 1..n, each once
//     (a replayed batch emitted the counts of its first attempt again);
//   - gale verify is clean.
func TestStatefulCount_Kills(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	lz4 := testenv.Command(t, "lz4", "lz4")
	py := testenv.PythonVenv(t, "confluent", testenv.ConfluentRequirements...)
	tag := time.Now().UnixNano()
	topic := fmt.Sprintf("gale-e2e-scount-%d", tag)
	stateTopic := topic + ".state"
	produceKeyed(t, brokers, topic, 8, statefulEvents)

	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	spec := fmt.Sprintf(statefulTopology, brokers, topic, topic+".ledger", stateTopic, out)
	os.WriteFile(filepath.Join(dir, "topology.json"), []byte(spec), 0o644)
	w1 := clustertest.StartWorkerEnv(t, gale(t), dir, "w1", "", nil)
	ws := []*clustertest.Worker{w1,
		clustertest.StartWorkerEnv(t, gale(t), dir, "w2", w1.Gossip, nil),
		clustertest.StartWorkerEnv(t, gale(t), dir, "w3", w1.Gossip, nil)}
	c := ws[1].Client()
	waitMembers(t, c, 3)
	if _, err := c.Submit(context.Background(), []byte(spec)); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "the first file", 60*time.Second, func() bool { return len(files(t, out)) > 0 })
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 21))
	t.Logf("kills from seed %d", seed)
	for k := 1; k <= 10; k++ {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		i := rng.IntN(len(ws))
		before := countLines(t, out)
		killAndRestartTopology(t, ws, i, "scount")
		t.Logf("kill %d: %s, %d of %d counts written before it", k, ws[i].Name, before, statefulEvents)
	}
	killed := time.Now()
	galetest.Eventually(t, "every record's count written", 4*time.Minute, func() bool { return countLines(t, out) >= statefulEvents })
	t.Logf("every count written %v after the last kill", time.Since(killed).Round(100*time.Millisecond))
	if d, err := c.Describe(context.Background(), "scount"); err == nil {
		for _, comp := range d.Components {
			if comp.ID == "count" {
				t.Logf("the count's tasks since their last start: %v", comp.Custom)
			}
		}
	}
	time.Sleep(2 * time.Second) // a replayed batch may still be rewriting its file (same bytes)

	// the state against a recount of the topic, both read by librdkafka
	cmd := exec.Command(py, "testdata/state_recount.py", brokers, topic, stateTopic, "scount/count/")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	js, err := cmd.Output()
	if err != nil {
		t.Fatalf("state_recount.py: %v\n%s", err, stderr.String())
	}
	t.Logf("state_recount.py: %s", js)
	var rc struct {
		Records    int              `json:"records"`
		Keys       int              `json:"keys"`
		StateKeys  int              `json:"state_keys"`
		Mismatched int              `json:"mismatched"`
		Mismatches []map[string]any `json:"mismatches"`
	}
	if err := json.Unmarshal(js, &rc); err != nil {
		t.Fatal(err)
	}
	if rc.Records != statefulEvents || rc.Mismatched != 0 || rc.StateKeys != rc.Keys {
		t.Errorf("the state differs from a recount of the topic: %d records, %d keys, %d in the state, %d differ: %v",
			rc.Records, rc.Keys, rc.StateKeys, rc.Mismatched, rc.Mismatches)
	}

	// every key's counts 1..n once, read by the lz4 CLI
	counts := map[string][]int{}
	for line, n := range lz4Lines(t, lz4, out) {
		var rec struct {
			Key   string
			Count int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		for range n {
			counts[rec.Key] = append(counts[rec.Key], rec.Count)
		}
	}
	if len(counts) != rc.Keys {
		t.Errorf("counts of %d keys written, the topic has %d", len(counts), rc.Keys)
	}
	bad := 0
	for k, cs := range counts {
		slices.Sort(cs)
		for i, n := range cs {
			if n != i+1 {
				if bad++; bad <= 5 {
					t.Errorf("key %s: counts written %v..., want 1..%d each once", k, cs[max(0, i-2):min(len(cs), i+3)], len(cs))
				}
				break
			}
		}
	}

	code, report := runVerify(t, dir)
	t.Logf("gale verify:\n%s", report)
	if code != 0 {
		t.Errorf("gale verify after the kills: exit %d", code)
	}
}

// produceKeyed writes n records into a new topic of parts partitions,
// record i to partition i mod parts, with keys drawn from 400 keys by a
// Zipf law (a few hot keys, a long tail; a key is in every partition).
func produceKeyed(t *testing.T, brokers, topic string, parts, n int) {
	t.Helper()
	zipf := rand.NewZipf(rand.New(rand.NewPCG(5, 8)), 1.2, 1, 399)
	produce(t, brokers, topic, parts, n, func(i int) *sarama.ProducerMessage {
		return &sarama.ProducerMessage{Key: sarama.StringEncoder(fmt.Sprintf("key-%03d", zipf.Uint64())),
			Value: sarama.StringEncoder(fmt.Sprintf("event %d", i))}
	})
}
