// Package e2e runs the gale binary as a user would, against the real
// backends of testenv: the crash-identity test of examples/kafka-to-all.json.
package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/testenv"
)

// repoRoot is the module root.
func repoRoot(*testing.T) string { return clustertest.RepoRoot() }

// gale builds the gale binary once, with the build tags this test was
// built with (so the Ceph sink is in it when it is tested).
func gale(t *testing.T) string { return clustertest.Gale(t, buildTags) }

// event i: a JSON document (every 5000th is not JSON: a poison record for
// the spout's dead-letter topic), one in ten at level debug (dropped by the
// topology's filter).
func event(i int) []byte {
	if i%5000 == 4999 {
		return []byte(fmt.Sprintf("not json {%d", i))
	}
	level := "info"
	if i%10 == 3 {
		level = "debug"
	}
	return []byte(fmt.Sprintf(`{"n":%d,"user":"u%d","level":%q,"msg":"event number %d of the e2e test"}`, i, i%97, level, i))
}

// eventsBase is the time of event 0; events are 100 ms apart. In the past
// (brokers refuse timestamps ahead of their clock) but within Kafka's
// retention (7 days, by record time: older records are deleted under the
// test's feet).
var eventsBase = time.Now().UTC().Truncate(time.Hour).Add(-48 * time.Hour)

// produceEvents creates topic with parts partitions and n events, event i
// in partition i%parts with timestamp eventsBase + i×100 ms.
// createTopic creates topic with parts partitions.
func createTopic(t *testing.T, brokers, topic string, parts int) {
	t.Helper()
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	admin, err := sarama.NewClusterAdmin([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: int32(parts), ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
}

func produceEvents(t *testing.T, brokers, topic string, parts, n int) {
	t.Helper()
	produce(t, brokers, topic, parts, n, func(i int) *sarama.ProducerMessage {
		return &sarama.ProducerMessage{Key: sarama.StringEncoder(fmt.Sprint(i)), Value: sarama.ByteEncoder(event(i)),
			Timestamp: eventsBase.Add(time.Duration(i) * 100 * time.Millisecond)}
	})
}

// produce creates topic with parts partitions and writes n records into
// it, record i (made by msg; its topic and partition are set here) to
// partition i mod parts.
func produce(t *testing.T, brokers, topic string, parts, n int, msg func(i int) *sarama.ProducerMessage) {
	t.Helper()
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	createTopic(t, brokers, topic, parts)
	prod, err := sarama.NewSyncProducer([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	batch := make([]*sarama.ProducerMessage, 0, 5000)
	for i := range n {
		m := msg(i)
		m.Topic, m.Partition = topic, int32(i%parts)
		batch = append(batch, m)
		if len(batch) == cap(batch) || i == n-1 {
			if err := prod.SendMessages(batch); err != nil {
				if pe, ok := err.(sarama.ProducerErrors); ok && len(pe) > 0 {
					err = fmt.Errorf("%v (first: %v)", err, pe[0].Err)
				}
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// topologyFor writes a copy of examples/kafka-to-all.json into dir, with the
// test's brokers, topic and consumer group, bounded (the run ends when the
// topic is read), and batches cut by count only (a time cut depends on
// when records arrive, which differs between two runs). patch may change
// the sinks' settings further.
func topologyFor(t *testing.T, dir, brokers, topic string, patch func(bolt map[string]any)) string {
	t.Helper()
	return writeExample(t, dir, "kafka-to-all", func(cfg map[string]any) {
		cfg["brokers"] = []string{brokers}
		cfg["topics"] = []string{topic}
		cfg["group"] = "gale-e2e-" + filepath.Base(dir) + "-" + topic
		cfg["bounded"] = true
		// batches cut by their count only, whatever the ledger's pace:
		// two runs cut the same batches
		batch := cfg["batch"].(map[string]any)
		batch["time"] = "1h"
		batch["max_records"] = batch["records"]
		cfg["dead_letter_topic"] = topic + ".dlq"
	}, func(b map[string]any) bool {
		if b["type"] == "ceph_sink" && buildTags == "" {
			t.Log("NOTE: built without the ceph tag: the example's Ceph sink is left out (CI builds with -tags ceph,pacific)")
			return false
		}
		if patch != nil {
			patch(b)
		}
		return true
	})
}

// writeExample writes examples/NAME.json into dir as topology.json and
// returns its path; spout changes each spout's config, bolt each bolt
// (and drops it by returning false). Paths in the examples are relative:
// the process runs in dir.
func writeExample(t *testing.T, dir, name string, spout func(cfg map[string]any), bolt func(b map[string]any) bool) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var topo map[string]any
	if err := json.Unmarshal(data, &topo); err != nil {
		t.Fatal(err)
	}
	for _, s := range topo["spouts"].([]any) {
		spout(s.(map[string]any)["config"].(map[string]any))
	}
	var bolts []any
	for _, b := range topo["bolts"].([]any) {
		if bolt(b.(map[string]any)) {
			bolts = append(bolts, b)
		}
	}
	topo["bolts"] = bolts
	out, _ := json.MarshalIndent(topo, "", "  ")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "topology.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// removeHDFSDirs removes the HDFS directories when the test ends (best
// effort, through WebHDFS).
func removeHDFSDirs(t *testing.T, dirs ...string) {
	t.Cleanup(func() {
		web := os.Getenv(testenv.HDFSWebVar)
		if web == "" {
			return
		}
		for _, d := range dirs {
			req, _ := http.NewRequest(http.MethodDelete, "http://"+web+"/webhdfs/v1"+d+"?op=DELETE&recursive=true&user.name=gale", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})
}

// startGale starts `gale run topology.json` in dir, its output in dir/log.
func startGale(t *testing.T, dir string, extra ...string) *exec.Cmd {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(dir, "gale.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gale(t), append([]string{"run", "--quiet", "topology.json"}, extra...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		log.Close()
		if t.Failed() {
			t.Logf("end of gale run's log in %s:\n%s", dir, tail(dir, 40))
		}
	})
	return cmd
}

// waitExit waits for cmd with a limit; it fails the test on a timeout or a
// non-zero exit, showing the end of the log.
func waitExit(t *testing.T, cmd *exec.Cmd, dir string, limit time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("gale run in %s: %v\n%s", dir, err, tail(dir, 30))
		}
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("gale run in %s did not finish within %v\n%s", dir, limit, tail(dir, 30))
	}
}

func tail(dir string, n int) string {
	data, _ := os.ReadFile(filepath.Join(dir, "gale.log"))
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// files reads every regular file under dir, by slash-separated relative name.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return fs.SkipAll // nothing written yet
		}
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			return nil // a sink's temporary file, renamed any moment
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // replaced while we walked
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameFiles reports every difference between two file trees.
func sameFiles(t *testing.T, what string, want, got map[string][]byte) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: the reference run wrote nothing", what)
	}
	for name, data := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: %s missing after the kills", what, name)
		case !bytes.Equal(g, data):
			t.Errorf("%s: %s differs (%d bytes, reference %d)", what, name, len(g), len(data))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: %s exists only after the kills", what, name)
		}
	}
}
