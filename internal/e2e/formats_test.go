package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks/hdfs"
	"github.com/gale-stream/gale/sinks/sinktest"
)

const (
	formatEvents   = 120000
	formatTopology = "kafka-json-to-parquet"
)

// formatSchema is the Avro schema of event(i) for the Formats run: level
// "debug" is not a symbol, so debug events are dead letters.
var formatSchema = map[string]any{"type": "record", "name": "Event", "namespace": "gale.e2e", "fields": []any{
	map[string]any{"name": "n", "type": "long"},
	map[string]any{"name": "user", "type": "string"},
	map[string]any{"name": "level", "type": map[string]any{"type": "enum", "name": "Level", "symbols": []string{"info", "warn", "error"}}},
	map[string]any{"name": "msg", "type": "string"},
	map[string]any{"name": "note", "type": []any{"null", "string"}, "default": nil},
}}

// formatTopologyFor writes examples/kafka-json-to-parquet.json into dir as
// topology.json, reading topic from brokers (batches of 2000 records cut
// by count only), its Parquet files into HDFS directory hdfsDir and its
// Avro files into dir/.gale/out/avro, both with formatSchema.
func formatTopologyFor(t *testing.T, dir, brokers, topic, hdfsDir string) {
	t.Helper()
	writeExample(t, dir, formatTopology, func(cfg map[string]any) {
		cfg["brokers"], cfg["topics"] = []string{brokers}, []string{topic}
		cfg["group"] = "gale-e2e-" + filepath.Base(dir) + "-" + topic
		cfg["bounded"] = true
		cfg["batch"] = map[string]any{"records": 2000, "max_records": 2000, "time": "1h"}
		cfg["dead_letter_topic"] = topic + ".dlq"
	}, func(b map[string]any) bool {
		cfg := b["config"].(map[string]any)
		cfg["schema"] = formatSchema
		if b["type"] == "hdfs_sink" {
			cfg["namenode"], cfg["dir"] = testenv.HDFSNameNode(t), hdfsDir
		}
		return true
	})
}

// hdfsObjects returns the Parquet files of topology under hdfsDir.
func hdfsObjects(t *testing.T, hdfsDir, topology string) map[string][]byte {
	t.Helper()
	c := hdfs.NewConfig()
	c.NameNode, c.Dir = testenv.HDFSNameNode(t), hdfsDir
	schema, _ := json.Marshal(formatSchema) // any schema: the names end in .parquet
	c.Format, c.Schema = "parquet", schema
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w := c.Writer()
	defer w.Close()
	ctx := context.Background()
	names, err := w.Objects(ctx, topology)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		if out[n], err = w.Get(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestCrashIdentity_Formats runs examples/kafka-json-to-parquet.json
// (Kafka JSON -> Parquet on HDFS and Avro files) over a topic of 120,000
// records twice: undisturbed, and SIGKILLed three times (restarted after
// each), each kill at a random moment after that attempt wrote its first
// file, so that it lands in the middle of writing. Both leave the same Parquet and Avro files, byte
// for byte, and the same dead letters (the debug events, whose level the
// schema does not know); pyarrow and fastavro read every other event once;
// gale verify is clean.
func TestCrashIdentity_Formats(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: the crash-identity test is long (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	testenv.HDFSNameNode(t)
	root := t.TempDir()
	topic := fmt.Sprintf("gale-e2e-formats-%d", time.Now().UnixNano())
	produceEvents(t, brokers, topic, 2, formatEvents)
	tag := fmt.Sprint(time.Now().UnixNano())

	clean, killed := filepath.Join(root, "clean"), filepath.Join(root, "killed")
	cleanHDFS, killedHDFS := "/gale-e2e/formats-"+tag+"-clean", "/gale-e2e/formats-"+tag+"-killed"
	removeHDFSDirs(t, cleanHDFS, killedHDFS)
	formatTopologyFor(t, clean, brokers, topic, cleanHDFS)
	formatTopologyFor(t, killed, brokers, topic, killedHDFS)
	start := time.Now()
	waitExit(t, startGale(t, clean), clean, 4*time.Minute)
	took := time.Since(start)
	t.Logf("undisturbed run: %v", took.Round(time.Millisecond))

	killWhileWriting(t, killed, 3, took, len(files(t, filepath.Join(clean, ".gale", "out"))))
	waitExit(t, startGale(t, killed), killed, 4*time.Minute)

	wantAvro := files(t, filepath.Join(clean, ".gale", "out"))
	sameFiles(t, "avro files", wantAvro, files(t, filepath.Join(killed, ".gale", "out")))
	sameFiles(t, "dead letters", files(t, filepath.Join(clean, ".gale", "dead-letter")), files(t, filepath.Join(killed, ".gale", "dead-letter")))
	wantParquet := hdfsObjects(t, cleanHDFS, formatTopology)
	sameFiles(t, "parquet files on hdfs", wantParquet, hdfsObjects(t, killedHDFS, formatTopology))

	// every event that is neither poison nor debug, once, in each format
	want := 0
	for i := range formatEvents {
		if i%5000 != 4999 && !strings.Contains(string(event(i)), `"debug"`) {
			want++
		}
	}
	for format, objs := range map[string]map[string][]byte{"avro": wantAvro, "parquet": wantParquet} {
		seen := map[int64]int{}
		for name, w := range sinktest.Witness(t, format, objs) {
			if !strings.HasSuffix(name, "."+format) {
				t.Errorf("%s: want the extension .%s", name, format)
			}
			for _, r := range w.Records {
				m := r.(map[string]any)
				n, _ := m["n"].(json.Number).Int64()
				if m["level"] != "info" || m["msg"] != fmt.Sprintf("event number %d of the e2e test", n) || m["note"] != nil {
					t.Errorf("%s: record %v", name, m)
				}
				seen[n]++
			}
		}
		total := 0
		for n, c := range seen {
			if c != 1 {
				t.Errorf("%s: event %d written %d times", format, n, c)
			}
			total += c
		}
		t.Logf("%s: %d files, %d records", format, len(objs), total)
		if total != want {
			t.Errorf("%s: %d records, want %d", format, total, want)
		}
	}

	code, out := runVerify(t, killed)
	t.Logf("gale verify after the kills:\n%s", out)
	if code != 0 || !strings.Contains(out, "OK: every sink holds exactly the committed batches") {
		t.Errorf("gale verify after the kills: exit %d", code)
	}
}

// killWhileWriting starts gale run in dir kills times and SIGKILLs each
// while it writes: once it has written a file under dir/.gale/out more
// than the runs before it, after a random delay up to a tenth of what is
// left of the work. An undisturbed run wrote total files in took; a
// restarted run has only the files not yet written to go, so its delay is
// drawn from that share of took (drawn from all of took, a late first kill
// left a restarted run that finished before its own kill).
func killWhileWriting(t *testing.T, dir string, kills int, took time.Duration, total int) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("kill timings from seed %d", seed)
	written := func() int { return len(files(t, filepath.Join(dir, ".gale", "out"))) }
	for kill := 1; kill <= kills; kill++ {
		before := written()
		cmd := startGale(t, dir)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		for written() <= before {
			select {
			case err := <-exited:
				t.Fatalf("gale run ended (%v) before kill %d\n%s", err, kill, tail(dir, 30))
			case <-time.After(10 * time.Millisecond):
			}
		}
		left := max(total-written(), 0)
		delay := time.Duration(rng.Int64N(int64(took)/10*int64(left)/int64(max(total, 1)) + 1))
		select {
		case err := <-exited:
			t.Fatalf("gale run ended (%v) before kill %d at %v after its first file\n%s", err, kill, delay, tail(dir, 30))
		case <-time.After(delay):
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-exited
		t.Logf("kill %d %v after the run's first file (%d files written so far)", kill, delay.Round(time.Millisecond), written())
	}
}
