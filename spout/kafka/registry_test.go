package kafka_test

// Integration tests of the avro, protobuf and json_schema deserializers against the
// testenv schema registry (Apicurio Registry) and Kafka, with records produced by an
// independent producer: Confluent's own serializers from the confluent-kafka Python
// package (internal/testenv/testdata/confluent_produce.py), over librdkafka.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/bufbuild/protocompile"
	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/schemareg"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
	"github.com/gale-stream/gale/spout"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

// produceConfluent runs testenv.ProduceConfluent MODE for count records
// into a new topic; it returns the topic and the script's report.
func produceConfluent(t *testing.T, mode string, count int, args ...string) (string, map[string]any) {
	t.Helper()
	brokers := testenv.KafkaBrokers(t)
	testenv.SchemaRegistry(t)
	topic := fmt.Sprintf("gale-sr-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
	admin, err := sarama.NewClusterAdmin([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	t.Cleanup(func() { deleteTopic(brokers, topic, topic+".dlq") })
	return topic, testenv.ProduceConfluent(t, mode, topic, count, args...)
}

// registrySpout opens a bounded kafka spout on topic with deserializer and
// the testenv registry.
func registrySpout(t *testing.T, topic, deserializer string, edit func(*kafkaspout.Config)) (*kafkaspout.Spout, *galetest.SpoutCollector) {
	t.Helper()
	c := kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Start, c.Bounded = []string{testenv.KafkaBrokers(t)}, []string{topic}, "earliest", true
	c.Deserializer = deserializer
	c.SchemaRegistry = &schemareg.Config{URL: testenv.SchemaRegistry(t)}
	c.Batch.Records = 40
	c.Ledger.Dir = t.TempDir()
	if edit != nil {
		edit(c)
	}
	return newSpout(t, c)
}

// acker acks every batch (one tuple tree) a spout emitted, once.
type acker struct {
	s     *kafkaspout.Spout
	out   *galetest.SpoutCollector
	acked map[any]bool
	n     int // emitted tuples seen
}

func newAcker(s *kafkaspout.Spout, out *galetest.SpoutCollector) *acker {
	return &acker{s: s, out: out, acked: map[any]bool{}}
}

// step calls NextTuple once and acks what it emitted; it reports whether
// the (bounded) spout is done, and returns its error otherwise.
func (a *acker) step(ctx context.Context) (bool, error) {
	err := a.s.NextTuple(ctx)
	em, _ := a.out.Snapshot()
	for _, e := range em[a.n:] {
		if !a.acked[e.MsgID] {
			a.acked[e.MsgID] = true
			a.s.Ack(e.MsgID)
		}
	}
	a.n = len(em)
	if errors.Is(err, spout.ErrStop) {
		return true, nil
	}
	return false, err
}

// drain runs a bounded spout to its end (within limit) and returns the
// emitted tuples' values by offset. NextTuple must not fail, but for
// batches held a moment (a schema id asked for again).
func drain(t *testing.T, s *kafkaspout.Spout, out *galetest.SpoutCollector, limit time.Duration) map[int64][]any {
	t.Helper()
	a := newAcker(s, out)
	deadline := time.Now().Add(limit)
	for {
		done, err := a.step(context.Background())
		if err != nil && !errors.Is(err, kafkaspout.ErrBatchHeld) {
			t.Fatalf("NextTuple: %v", err)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spout did not finish within %v", limit)
		}
	}
	return byOffset(t, out)
}

// byOffset is the emitted tuples' values by offset, each offset once.
func byOffset(t *testing.T, out *galetest.SpoutCollector) map[int64][]any {
	t.Helper()
	em, _ := out.Snapshot()
	got := map[int64][]any{}
	for _, e := range em {
		off := e.Values[2].(int64)
		if _, dup := got[off]; dup {
			t.Fatalf("offset %d emitted twice", off)
		}
		got[off] = e.Values
	}
	return got
}

// deadLetters reads n records of the dead-letter topic: reason by key.
func deadLetters(t *testing.T, topic string, n int) map[string]string {
	t.Helper()
	consumer, err := sarama.NewConsumer([]string{testenv.KafkaBrokers(t)}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	got := map[string]string{}
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatalf("dead-letter topic: %v", err)
	}
	defer pc.Close()
	timeout := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case m := <-pc.Messages():
			for _, h := range m.Headers {
				if string(h.Key) == "gale.error" {
					got[string(m.Key)] = string(h.Value)
				}
			}
		case <-timeout:
			t.Fatalf("%d dead letters, want %d: %v", len(got), n, got)
		}
	}
	return got
}

func checkValue(t *testing.T, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	gm, ok1 := got.(map[string]any)
	wm, ok2 := want.(map[string]any)
	if !ok1 || !ok2 {
		t.Errorf("%s: got %T %#v, want %T %#v", what, got, got, want, want)
		return
	}
	for k, w := range wm {
		if g, ok := gm[k]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("%s.%s: got %T %#v, want %T %#v", what, k, g, g, w, w)
		}
	}
	for k := range gm {
		if _, ok := wm[k]; !ok {
			t.Errorf("%s.%s: unexpected field %#v", what, k, gm[k])
		}
	}
}

// avroAll is what confluent_produce.py's all_record(i) decodes to.
func avroAll(i int) map[string]any {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dec := fmt.Sprintf("%d.05", i)
	if i%2 == 1 {
		dec = "-" + dec
	}
	u := [3]any{nil, fmt.Sprintf("s%d", i), int64(i)}[i%3]
	return map[string]any{
		"b": i%2 == 0, "i": int32(i - 50), "l": int64(i) * 1_000_000_007,
		"f": float32(i) + 0.5, "d": float64(i) / 4, "s": fmt.Sprintf("rec-%d-é", i),
		"by": []byte{byte(i), 0, 255}, "fx": []byte{'f', 'x', byte(i), 7},
		"e": []string{"RED", "GREEN", "BLUE"}[i%3], "n": nil, "u": u,
		"a": []any{int32(i), int32(i + 1)}, "m": map[string]any{"k": int64(i), "z": int64(-i)},
		"r":    map[string]any{"x": int32(i), "tags": []any{"t", fmt.Sprint(i)}},
		"tsm":  t0.Add(time.Duration(i)*time.Second + 123*time.Millisecond),
		"tsu":  t0.Add(time.Duration(i)*time.Second + 456789*time.Microsecond),
		"date": int32(t0.Unix()/86400) + int32(i),
		"dec":  dec,
		"uuid": fmt.Sprintf("00000000-0000-0000-0000-%012x", i),
	}
}

// TestRegistry_Avro: records of every Avro type and logical type, written
// by Confluent's AvroSerializer, decode field for field; fields extract
// nested paths.
func TestRegistry_Avro(t *testing.T) {
	const count = 120
	topic, _ := produceConfluent(t, "avro", count)
	s, out := registrySpout(t, topic, "avro", func(c *kafkaspout.Config) { c.Fields = []string{"r.tags[1]", "e"} })
	got := drain(t, s, out, 60*time.Second)
	if len(got) != count {
		t.Fatalf("%d records emitted, want %d", len(got), count)
	}
	for i := range count {
		v := got[int64(i)]
		checkValue(t, fmt.Sprintf("record %d", i), v[4], avroAll(i))
		if v[7] != fmt.Sprint(i) || v[8] != []string{"RED", "GREEN", "BLUE"}[i%3] {
			t.Errorf("record %d: fields %v %v", i, v[7], v[8])
		}
	}
	if s.Poison.Load() != 0 {
		t.Errorf("%d records dead-lettered, want 0", s.Poison.Load())
	}
}

// TestRegistry_Protobuf: messages with a nested message, repeated fields,
// maps, an enum and a Timestamp, written by Confluent's ProtobufSerializer
// (which registers the schema as a base64 descriptor), and messages of a
// nested type (message index [1, 0]), decode field for field.
func TestRegistry_Protobuf(t *testing.T) {
	const count = 100
	comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"order.proto": testenv.OrderProto})})}
	files, err := comp.Compile(context.Background(), "order.proto")
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{protodesc.ToFileDescriptorProto(files[0])}}
	b, _ := proto.Marshal(set)
	desc := filepath.Join(t.TempDir(), "order.pb")
	if err := os.WriteFile(desc, b, 0o644); err != nil {
		t.Fatal(err)
	}
	topic, _ := produceConfluent(t, "protobuf", count, "--descriptor", desc)
	s, out := registrySpout(t, topic, "protobuf", func(c *kafkaspout.Config) { c.Fields = []string{"lines[0].sku", "ok"} })
	got := drain(t, s, out, 60*time.Second)
	if len(got) != count {
		t.Fatalf("%d records emitted, want %d", len(got), count)
	}
	for i := range count {
		v := got[int64(i)]
		if i%5 == 4 {
			checkValue(t, fmt.Sprintf("record %d", i), v[4], map[string]any{"ok": i%2 == 0})
			if v[8] != (i%2 == 0) {
				t.Errorf("record %d: field ok %v", i, v[8])
			}
			continue
		}
		var lines []any
		for j := range i%3 + 1 {
			lines = append(lines, map[string]any{"sku": fmt.Sprintf("sku-%d-%d", i, j), "qty": uint32(j + 1)})
		}
		var main, note any
		if i%2 == 0 {
			main = map[string]any{"sku": fmt.Sprintf("main-%d", i), "qty": uint32(i)}
		}
		if i%4 == 0 {
			note = fmt.Sprintf("note %d", i)
		}
		big := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 63), big.NewInt(int64(i)))
		checkValue(t, fmt.Sprintf("record %d", i), v[4], map[string]any{
			"id": int64(i * 1000), "status": []string{"NEW", "PAID", "SHIPPED"}[i%3], "lines": lines,
			"tags": map[string]any{"a": int32(i), "b": int32(-i)}, "names": map[string]any{fmt.Sprint(-i): fmt.Sprintf("n%d", i)},
			"at": time.Unix(1_800_000_000+int64(i), int64(i)*1000).UTC(), "blob": []byte{byte(i), 1},
			"delta": int32(-i), "big": big.Uint64(), "ratio": float32(i) + 0.25, "main": main, "note": note,
		})
		if v[7] != fmt.Sprintf("sku-%d-0", i) {
			t.Errorf("record %d: field lines[0].sku %v", i, v[7])
		}
	}
	if s.Poison.Load() != 0 {
		t.Errorf("%d records dead-lettered, want 0", s.Poison.Load())
	}
	protobufToParquet(t, got, count)
}

// orderAvro is the Avro schema a Parquet sink writes decoded Orders with:
// Protobuf's field names, uint32 as long, the Timestamp as
// timestamp-micros, messages that may be unset as unions with null; big
// (a fixed64, beyond Avro's signed long) is left out, and dropped.
const orderAvro = `{"type": "record", "name": "Order", "fields": [
  {"name": "id", "type": "long"},
  {"name": "status", "type": "string"},
  {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [
    {"name": "sku", "type": "string"}, {"name": "qty", "type": "long"}]}}},
  {"name": "tags", "type": {"type": "map", "values": "int"}},
  {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "blob", "type": "bytes"},
  {"name": "delta", "type": "int"},
  {"name": "ratio", "type": "float"},
  {"name": "main", "type": ["null", "Line"], "default": null},
  {"name": "note", "type": ["null", "string"], "default": null},
  {"name": "names", "type": {"type": "map", "values": "string"}}]}`

// protobufToParquet writes the Orders decoded from a Protobuf topic (got,
// by offset; every 5th is another message type, left out) as one Parquet
// file with orderAvro, as a parquet sink does, and has pyarrow read them
// back field for field.
func protobufToParquet(t *testing.T, got map[int64][]any, count int) {
	t.Helper()
	c := sinks.DefaultCommon()
	c.Format, c.Schema = sinks.FormatParquet, json.RawMessage(orderAvro)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var values []any
	for i := range count {
		if i%5 != 4 {
			values = append(values, got[int64(i)][4])
		}
	}
	name, data, rejected := sinktest.Encode(t, &c, values)
	if len(rejected) > 0 {
		t.Fatalf("%d Orders rejected by the Parquet format, the first: %v", len(rejected), rejected[0])
	}
	w := sinktest.Witness(t, sinks.FormatParquet, map[string][]byte{name: data})[name]
	if len(w.Records) != len(values) {
		t.Fatalf("pyarrow read %d records, want %d", len(w.Records), len(values))
	}
	for k, r := range w.Records {
		m, want := r.(map[string]any), values[k].(map[string]any)
		id, _ := m["id"].(json.Number).Int64()
		ts, _ := m["at"].(map[string]any) // {"us": µs since the epoch}
		at, _ := ts["us"].(json.Number).Int64()
		lines, _ := m["lines"].([]any)
		if id != want["id"] || m["status"] != want["status"] || len(lines) != len(want["lines"].([]any)) ||
			at != want["at"].(time.Time).UnixMicro() || (m["main"] == nil) != (want["main"] == nil) || m["note"] != want["note"] && want["note"] != nil {
			t.Errorf("pyarrow read %v for the Order %v", m, want)
		}
		if sku := lines[0].(map[string]any)["sku"]; sku != want["lines"].([]any)[0].(map[string]any)["sku"] {
			t.Errorf("Order %d: lines[0].sku %v", id, sku)
		}
	}
	t.Logf("%d Protobuf Orders written as one Parquet file of %d bytes, read back by pyarrow (columns %v)", len(values), len(data), w.Meta["columns"])
}

// TestRegistry_JSONSchema: documents written by Confluent's JSONSerializer
// decode as the json deserializer does (json.Number numbers, exact).
func TestRegistry_JSONSchema(t *testing.T) {
	const count = 50
	topic, _ := produceConfluent(t, "json", count)
	s, out := registrySpout(t, topic, "json_schema", func(c *kafkaspout.Config) { c.Fields = []string{"nested.x"} })
	got := drain(t, s, out, 60*time.Second)
	if len(got) != count {
		t.Fatalf("%d records emitted, want %d", len(got), count)
	}
	for i := range count {
		v := got[int64(i)]
		checkValue(t, fmt.Sprintf("record %d", i), v[4], map[string]any{
			"n": json.Number(fmt.Sprint(int64(i) * 1_000_000_000_000)), "s": fmt.Sprintf("e%d", i),
			"tags": []any{"a", fmt.Sprint(i)}, "nested": map[string]any{"x": json.Number(fmt.Sprintf("%d.5", i))},
		})
		if v[7] != json.Number(fmt.Sprintf("%d.5", i)) {
			t.Errorf("record %d: field nested.x %v", i, v[7])
		}
	}
	if s.Poison.Load() != 0 {
		t.Errorf("%d records dead-lettered, want 0", s.Poison.Load())
	}
}

// TestRegistry_Evolution: records of User v1 and v2 interleaved (v2 adds
// email with a default and removes legacy; the registry checked v2 as
// BACKWARD compatible, and refused an incompatible v3) decode into the
// reader schema v2.
func TestRegistry_Evolution(t *testing.T) {
	const count = 80
	topic, report := produceConfluent(t, "evolution", count)
	if fmt.Sprint(report["versions"]) != "[1 2]" || report["compat_v2"] != true || report["compat_bad"] != false {
		t.Fatalf("registry: %v", report)
	}
	reader := `{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"email","type":"string","default":"none"}]}`
	s, out := registrySpout(t, topic, "avro", func(c *kafkaspout.Config) { c.ReaderSchema = json.RawMessage(reader) })
	got := drain(t, s, out, 60*time.Second)
	if len(got) != count {
		t.Fatalf("%d records emitted, want %d", len(got), count)
	}
	for i := range count {
		want := map[string]any{"name": fmt.Sprintf("u%d", i), "email": "none"} // v1: email from the default
		if i%2 == 1 {
			want["email"] = fmt.Sprintf("u%d@example.com", i)
		}
		checkValue(t, fmt.Sprintf("record %d", i), got[int64(i)][4], want)
	}
	if s.Poison.Load() != 0 {
		t.Errorf("%d records dead-lettered, want 0", s.Poison.Load())
	}
}

// TestRegistry_Poison: an unknown schema id (after the decoder's retries),
// a corrupt payload and a value without the magic byte go to the
// dead-letter topic with their reason; every other record is emitted.
func TestRegistry_Poison(t *testing.T) {
	const count = 200
	topic, _ := produceConfluent(t, "poison", count)
	s, out := registrySpout(t, topic, "avro", nil)
	got := drain(t, s, out, 90*time.Second)
	if len(got) != count {
		t.Errorf("%d records emitted, want %d", len(got), count)
	}
	n := map[int64]bool{}
	for _, v := range got {
		n[v[4].(map[string]any)["n"].(int64)] = true
	}
	if len(n) != count {
		t.Errorf("%d distinct records, want %d", len(n), count)
	}
	dl := deadLetters(t, topic+".dlq", 3)
	for key, want := range map[string]string{
		"unknown-id": "unknown schema",
		"corrupt":    "payload does not match its schema",
		"no-magic":   "no magic byte",
	} {
		if !strings.Contains(dl[key], want) || !strings.Contains(dl[key], "poison record") {
			t.Errorf("dead letter %s: reason %q, want it to say %q", key, dl[key], want)
		}
	}
	if s.Poison.Load() != 3 {
		t.Errorf("Poison = %d, want 3", s.Poison.Load())
	}
	t.Logf("dead letters: %v", dl)
}

// TestRegistry_Outage (GALE_E2E_OUTAGE=1: it hangs the shared registry):
// the spout reads records of a schema it has, then the registry is paused
// (SIGSTOP: requests time out) for 30 s while records of a new schema
// arrive: the spout holds them (nothing emitted past the first of them,
// nothing dead-lettered), and emits everything once the registry is back.
func TestRegistry_Outage(t *testing.T) {
	if os.Getenv("GALE_E2E_OUTAGE") != "1" {
		t.Skip("SKIPPED LOUDLY: pauses the schema registry for 30 s; set GALE_E2E_OUTAGE=1 (scripts/test.sh runs it alone after the other tests)")
	}
	const count = 100
	later := filepath.Join(t.TempDir(), "later.hex")
	topic, report := produceConfluent(t, "outage", count, "--out", later)
	s, out := registrySpout(t, topic, "avro", func(c *kafkaspout.Config) {
		c.Bounded = false // the records of the new schema come later
		c.SchemaRegistry.Timeout = 2_000_000_000
	})
	a := newAcker(s, out)
	ctx := context.Background()
	galetest.Eventually(t, fmt.Sprintf("the first %d records", count), 30*time.Second, func() bool {
		if _, err := a.step(ctx); err != nil {
			t.Fatalf("NextTuple: %v", err)
		}
		return a.n >= count
	})

	_, file, _, _ := runtime.Caller(0)
	testenvCmd := filepath.Join(filepath.Dir(file), "..", "..", "testenv", "testenv")
	t.Cleanup(func() { exec.Command(testenvCmd, "resume", "registry").Run() }) // whatever happens
	if b, err := exec.Command(testenvCmd, "pause", "registry").CombinedOutput(); err != nil {
		t.Fatalf("testenv pause registry: %v\n%s", err, b)
	}
	// while it hangs: count records of the new schema (id later_id), then
	// count more of the old one after them
	b, err := os.ReadFile(later)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := sarama.NewSyncProducer([]string{testenv.KafkaBrokers(t)}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var msgs []*sarama.ProducerMessage
	for i, line := range strings.Fields(string(b)) {
		v, err := hex.DecodeString(line)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprint(count + i)), Value: sarama.ByteEncoder(v)})
	}
	if err := prod.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var lastErr error
	for time.Since(start) < 30*time.Second {
		if _, err := a.step(ctx); err != nil {
			lastErr = err
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a.n != count {
		t.Errorf("%d records emitted while the registry hung, want %d (nothing past the held batch)", a.n, count)
	}
	if s.Poison.Load() != 0 {
		t.Errorf("%d records dead-lettered while the registry hung, want 0", s.Poison.Load())
	}
	if !errors.Is(lastErr, kafkaspout.ErrRegistryUnavailable) || s.Held.Load() == 0 {
		t.Errorf("while the registry hung: last error %v, %d holds; want ErrRegistryUnavailable", lastErr, s.Held.Load())
	}
	t.Logf("registry hung 30 s: %d batch decodes held, last error: %v", s.Held.Load(), lastErr)

	if b, err := exec.Command(testenvCmd, "resume", "registry").CombinedOutput(); err != nil {
		t.Fatalf("testenv resume registry: %v\n%s", err, b)
	}
	resumed := time.Now()
	galetest.Eventually(t, fmt.Sprintf("all %d records", 2*count), 60*time.Second, func() bool {
		a.step(ctx)
		return a.n >= 2*count
	})
	t.Logf("every record emitted %v after the registry resumed", time.Since(resumed).Round(time.Millisecond))
	got := byOffset(t, out)
	for i := range 2 * count {
		want := map[string]any{"n": int64(i)}
		if i >= count {
			want["tag"] = fmt.Sprintf("t%d", i-count)
		}
		checkValue(t, fmt.Sprintf("record %d (schema id %v)", i, report["later_id"]), got[int64(i)][4], want)
	}
	if s.Poison.Load() != 0 {
		t.Errorf("%d records dead-lettered, want 0", s.Poison.Load())
	}
}

// TestRegistry_HeldWhileUnavailable needs Kafka but not the testenv
// registry: a fake registry (srfake) answers 503 for its first seconds.
// The spout holds the partition's first batch (nothing emitted, nothing
// dead-lettered: the records are not poison) and emits every record, in
// its batches, once the registry answers.
func TestRegistry_HeldWhileUnavailable(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	reg := srfake.New()
	defer reg.Close()
	schema := `{"type":"record","name":"Small","fields":[{"name":"n","type":"long"}]}`
	reg.SeedSchema("small-value", 1, 42, sr.Schema{Schema: schema})
	var down atomic.Bool
	down.Store(true)
	var asked atomic.Int64
	reg.Intercept(func(w http.ResponseWriter, _ *http.Request) bool {
		asked.Add(1)
		if down.Load() {
			http.Error(w, `{"error_code":50003,"message":"down for the test"}`, http.StatusServiceUnavailable)
		}
		return down.Load()
	})
	w := avro.MustParse(schema)
	const count = 300
	topic, _ := newTopic(t, brokers, 1, count, func(i int) string {
		b, err := w.Encode(map[string]any{"n": int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		return string(append([]byte{0, 0, 0, 0, 42}, b...))
	})
	s, out := registrySpout(t, topic, "avro", func(c *kafkaspout.Config) { c.SchemaRegistry.URL = reg.URL() })
	a := newAcker(s, out)
	ctx := context.Background()
	start := time.Now()
	var lastErr error
	for time.Since(start) < 3*time.Second {
		if _, err := a.step(ctx); err != nil {
			lastErr = err
		}
	}
	if a.n != 0 || s.Poison.Load() != 0 {
		t.Fatalf("registry down: %d emitted, %d dead-lettered; want 0 and 0", a.n, s.Poison.Load())
	}
	if !errors.Is(lastErr, kafkaspout.ErrBatchHeld) || !errors.Is(lastErr, kafkaspout.ErrRegistryUnavailable) || !strings.Contains(lastErr.Error(), "503") {
		t.Fatalf("registry down: last error %v, want a held batch and the registry's 503", lastErr)
	}
	// retried with backoff, and never twice within a second (the
	// decoder's quiet time after a failure)
	if n := asked.Load(); n < 2 || n > 4 {
		t.Errorf("the registry was asked %d times in 3 s: want 2 to 4 (retries with backoff, at most one a second)", n)
	}
	down.Store(false)
	got := drain(t, s, out, 30*time.Second)
	if len(got) != count || s.Poison.Load() != 0 {
		t.Fatalf("%d records emitted, %d dead-lettered; want %d and 0", len(got), s.Poison.Load(), count)
	}
	for i := range count {
		checkValue(t, fmt.Sprint(i), got[int64(i)][4], map[string]any{"n": int64(i)})
	}
	t.Logf("held %d times while the registry answered 503, asked %d times in all", s.Held.Load(), asked.Load())
}

// TestRegistry_PasswordRefused: a password written into the topology is an
// unknown field (the password comes from password_env or password_file),
// and the error does not show it.
func TestRegistry_PasswordRefused(t *testing.T) {
	reg := testRegistry(newRecorder(0))
	b := topology.NewBuilder("kafka-test")
	b.Spout("events", kafkaspout.TypeName, 1).Config(map[string]any{
		"brokers": []string{"127.0.0.1:9092"}, "topics": []string{"t"}, "deserializer": "avro",
		"schema_registry": map[string]any{"url": "https://r:8081", "username": "u", "password": "hunter2"},
	})
	b.Bolt("flaky", "flaky", 1).GlobalGrouping("events")
	_, err := b.Build(reg)
	if err == nil || !strings.Contains(err.Error(), "schema_registry.password") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v, want an error naming schema_registry.password without its value", err)
	}
}
