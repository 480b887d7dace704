package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks/sinktest"
)

const (
	avroTopology = "avro-to-parquet"
	avroUsers    = 30000
	avroBatch    = 1000
)

// avroTopologyFor writes examples/avro-to-parquet.json into dir as
// topology.json, reading topic (Avro records, Confluent wire format) from
// brokers with the testenv schema registry, batches of avroBatch records
// cut by count only, its Parquet files into HDFS directory hdfsDir.
func avroTopologyFor(t *testing.T, dir, brokers, registry, topic, hdfsDir string) {
	t.Helper()
	writeExample(t, dir, avroTopology, func(cfg map[string]any) {
		cfg["brokers"], cfg["topics"] = []string{brokers}, []string{topic}
		cfg["group"] = "gale-e2e-" + filepath.Base(dir) + "-" + topic
		cfg["bounded"] = true
		cfg["batch"] = map[string]any{"records": avroBatch, "max_records": avroBatch, "time": "1h"}
		cfg["dead_letter_topic"] = topic + ".dlq"
		cfg["schema_registry"] = map[string]any{"url": registry}
	}, func(b map[string]any) bool {
		if b["type"] == "hdfs_sink" {
			cfg := b["config"].(map[string]any)
			cfg["namenode"], cfg["dir"] = testenv.HDFSNameNode(t), hdfsDir
		}
		return true
	})
}

// TestAvroToParquet_RollingDeploy runs examples/avro-to-parquet.json over a
// topic of 2 partitions that Confluent's own AvroSerializer (the
// confluent-kafka Python package) filled with records of two versions of
// a schema interleaved, as a rolling deploy writes them (v2 adds "email"
// with a default and drops "legacy"; the registry checked v2 BACKWARD
// compatible). Every batch holds both versions, and still becomes one
// Parquet file on HDFS and one Avro file — files = batches, no rotation
// at each schema change; pyarrow and fastavro read every record once, in
// the reader schema's shape (v1 records with email "none"). A run
// SIGKILLed twice while writing leaves the same files byte for byte, and
// gale verify is clean.
func TestAvroToParquet_RollingDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: a crash-identity test (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	registry := testenv.SchemaRegistry(t)
	testenv.HDFSNameNode(t)
	topic := fmt.Sprintf("gale-e2e-avro-%d", time.Now().UnixNano())
	createTopic(t, brokers, topic, 2)
	report := testenv.ProduceConfluent(t, "evolution", topic, avroUsers)
	if fmt.Sprint(report["versions"]) != "[1 2]" {
		t.Fatalf("the registry holds versions %v of the subject, want [1 2]: %v", report["versions"], report)
	}
	// the batches: per partition, its records cut every avroBatch
	client, err := sarama.NewClient([]string{brokers}, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	batches := 0
	for p := range int32(2) {
		end, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			t.Fatal(err)
		}
		batches += int((end + avroBatch - 1) / avroBatch)
	}
	client.Close()

	root := t.TempDir()
	tag := fmt.Sprint(time.Now().UnixNano())
	clean, killed := filepath.Join(root, "clean"), filepath.Join(root, "killed")
	cleanHDFS, killedHDFS := "/gale-e2e/avro-"+tag+"-clean", "/gale-e2e/avro-"+tag+"-killed"
	removeHDFSDirs(t, cleanHDFS, killedHDFS)
	avroTopologyFor(t, clean, brokers, registry, topic, cleanHDFS)
	avroTopologyFor(t, killed, brokers, registry, topic, killedHDFS)
	start := time.Now()
	waitExit(t, startGale(t, clean), clean, 4*time.Minute)
	took := time.Since(start)
	t.Logf("undisturbed run: %v", took.Round(time.Millisecond))
	killWhileWriting(t, killed, 2, took, len(files(t, filepath.Join(clean, ".gale", "out"))))
	waitExit(t, startGale(t, killed), killed, 4*time.Minute)

	wantAvro := files(t, filepath.Join(clean, ".gale", "out"))
	sameFiles(t, "avro files", wantAvro, files(t, filepath.Join(killed, ".gale", "out")))
	wantParquet := hdfsObjects(t, cleanHDFS, avroTopology)
	sameFiles(t, "parquet files on hdfs", wantParquet, hdfsObjects(t, killedHDFS, avroTopology))
	if dl := files(t, filepath.Join(clean, ".gale", "dead-letter")); len(dl) != 0 {
		t.Errorf("%d dead-letter files, want none: every record fits the reader schema", len(dl))
	}

	for format, objs := range map[string]map[string][]byte{"avro": wantAvro, "parquet": wantParquet} {
		t.Logf("%s: %d files for %d batches of %d records, two schema versions in each", format, len(objs), batches, avroBatch)
		if len(objs) != batches {
			t.Errorf("%s: %d files, want one per batch: %d", format, len(objs), batches)
		}
		seen := map[string]int{}
		for name, w := range sinktest.Witness(t, format, objs) {
			if !strings.HasSuffix(name, "."+format) {
				t.Errorf("%s: want the extension .%s", name, format)
			}
			for _, r := range w.Records {
				m := r.(map[string]any)
				name, _ := m["name"].(string)
				var i int
				if _, err := fmt.Sscanf(name, "u%d", &i); err != nil || len(m) != 2 {
					t.Fatalf("%s: record %v, want {name, email}", format, m)
				}
				want := "none" // v1: the reader schema's default
				if i%2 == 1 {
					want = fmt.Sprintf("u%d@example.com", i)
				}
				if m["email"] != want {
					t.Errorf("%s: record %v: email %q, want %q", format, m, m["email"], want)
				}
				seen[name]++
			}
		}
		for i := range avroUsers {
			if n := seen[fmt.Sprintf("u%d", i)]; n != 1 {
				t.Errorf("%s: user u%d read %d times, want once", format, i, n)
			}
		}
	}

	code, out := runVerify(t, killed)
	t.Logf("gale verify after the kills:\n%s", out)
	if code != 0 || !strings.Contains(out, "OK: every sink holds exactly the committed batches") {
		t.Errorf("gale verify after the kills: exit %d", code)
	}
}
