package bench

// BenchmarkSchemaFormats: Avro from a schema registry in, Parquet out,
// beside JSON in, JSON lines + lz4 out, in one run. The same schemaRecs
// access-log events (writeRecordLine's documents) fill two topics of 4
// partitions: JSON text, and Avro in the Confluent wire format (schema
// formatSchema registered in the testenv registry). Sub-benchmarks:
//
//   - decode-json, decode-avro: the spout's deserializers alone, one
//     goroutine over every value (json: encoding/json with UseNumber;
//     avro: schemareg.Decoder, the schema fetched once and cached);
//   - kafka-json-lz4: Gale, json deserializer -> file_sink, format json,
//     lz4 (the line path);
//   - kafka-avro-parquet, kafka-avro-avro: Gale, avro deserializer ->
//     file_sink, format parquet (snappy) or avro (snappy).
//
// Each reports records/s, and pct-of-json (its rate in percent of its
// JSON counterpart's); the Gale runs count the records in their files.
//
//	testenv/testenv up kafka registry && eval "$(testenv/testenv env)"
//	go test -run '^$' -bench SchemaFormats -benchtime 1x ./bench/

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/gale-stream/gale/internal/avro"
	"github.com/gale-stream/gale/internal/parquetfile"
	"github.com/gale-stream/gale/internal/schemareg"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
)

// schemaRecs is the events in each topic.
const schemaRecs = 200000

// schemaValues returns the events as JSON text and as Avro in the
// Confluent wire format with schema id id.
func schemaValues(b *testing.B, id int) (jsonVals, avroVals [][]byte) {
	s, err := schemareg.ParseAvro(formatSchema)
	if err != nil {
		b.Fatal(err)
	}
	rng := mrand.New(mrand.NewPCG(5, 6))
	for i := range schemaRecs {
		line := writeRecordLine(int64(i), rng)
		var doc struct {
			N         int64     `json:"n"`
			TS        time.Time `json:"ts"`
			User      string    `json:"user"`
			Status    int32     `json:"status"`
			LatencyMS int32     `json:"latency_ms"`
			Msg       string    `json:"msg"`
		}
		if err := json.Unmarshal(line, &doc); err != nil {
			b.Fatal(err)
		}
		v := []byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
		v, err = s.AppendEncode(v, map[string]any{"n": doc.N, "ts": doc.TS, "user": doc.User,
			"status": doc.Status, "latency_ms": doc.LatencyMS, "msg": doc.Msg})
		if err != nil {
			b.Fatal(err)
		}
		jsonVals, avroVals = append(jsonVals, line), append(avroVals, v)
	}
	return jsonVals, avroVals
}

// schemaTopic creates a topic of lz4Partitions partitions holding vals.
func schemaTopic(b *testing.B, brokers, kind string, vals [][]byte) string {
	topic := fmt.Sprintf("gale-bench-schema-%s-%d-%s", kind, time.Now().UnixNano(), uniqueSuffix())
	admin, err := sarama.NewClusterAdmin([]string{brokers}, benchSarama())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		defer admin.Close()
		admin.DeleteTopic(topic)
	})
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: lz4Partitions, ReplicationFactor: 1}, false); err != nil {
		b.Fatalf("create topic %s: %v", topic, err)
	}
	fillTopic(b, brokers, topic, len(vals), func(i int) []byte { return vals[i] })
	return topic
}

func BenchmarkSchemaFormats(b *testing.B) {
	brokers := os.Getenv(testenv.KafkaBrokersVar)
	url := os.Getenv(testenv.SchemaRegistryVar)
	if brokers == "" || url == "" {
		b.Skip("needs Kafka and the schema registry: testenv/testenv up kafka registry && eval \"$(testenv/testenv env)\"")
	}
	ctx := context.Background()
	client, err := schemareg.New(schemareg.Config{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	subject := fmt.Sprintf("gale-bench-%d-value", time.Now().UnixNano())
	ss, err := client.SR().CreateSchema(ctx, subject, sr.Schema{Schema: formatSchema, Type: sr.TypeAvro})
	if err != nil {
		b.Fatalf("register the schema: %v", err)
	}
	jsonVals, avroVals := schemaValues(b, ss.ID)
	var jsonBytes, avroBytes int
	for i := range jsonVals {
		jsonBytes, avroBytes = jsonBytes+len(jsonVals[i]), avroBytes+len(avroVals[i])
	}
	b.Logf("%d events: %d B of JSON, %d B of Avro per event", schemaRecs, jsonBytes/schemaRecs, avroBytes/schemaRecs)

	rates := map[string]float64{}
	report := func(b *testing.B, name, base string, rate float64) {
		rates[name] = rate
		b.ReportMetric(rate, "records/s")
		if rates[base] > 0 {
			b.ReportMetric(100*rate/rates[base], "pct-of-json")
		}
	}
	b.Run("decode-json", func(b *testing.B) {
		start := time.Now()
		for range b.N {
			for _, v := range jsonVals {
				d := json.NewDecoder(bytes.NewReader(v))
				d.UseNumber()
				var doc any
				if err := d.Decode(&doc); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, "decode-json", "", float64(b.N*schemaRecs)/time.Since(start).Seconds())
	})
	b.Run("decode-avro", func(b *testing.B) {
		dec, err := schemareg.NewDecoder(client, "avro", "")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for range b.N {
			for _, v := range avroVals {
				if _, err := dec.Decode(ctx, v); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, "decode-avro", "decode-json", float64(b.N*schemaRecs)/time.Since(start).Seconds())
	})
	jsonTopic := schemaTopic(b, brokers, "json", jsonVals)
	avroTopic := schemaTopic(b, brokers, "avro", avroVals)
	registry := map[string]any{"url": url}
	for _, run := range []struct {
		name, topic, base string
		spout, sink       map[string]any
	}{
		{"kafka-json-lz4", jsonTopic, "", map[string]any{"deserializer": "json"},
			map[string]any{"format": sinks.FormatJSON, "field": "value", "compression": sinks.CompressionLZ4}},
		{"kafka-avro-parquet", avroTopic, "kafka-json-lz4", map[string]any{"deserializer": "avro", "schema_registry": registry},
			map[string]any{"format": sinks.FormatParquet, "schema": json.RawMessage(formatSchema), "parquet_compression": "snappy"}},
		{"kafka-avro-avro", avroTopic, "kafka-json-lz4", map[string]any{"deserializer": "avro", "schema_registry": registry},
			map[string]any{"format": sinks.FormatAvro, "schema": json.RawMessage(formatSchema), "avro_codec": "snappy"}},
	} {
		b.Run(run.name, func(b *testing.B) {
			var elapsed time.Duration
			for range b.N {
				dir := b.TempDir()
				run.sink["dir"] = dir
				start := time.Now()
				galeToFiles(b, brokers, run.topic, run.spout, run.sink)
				elapsed += time.Since(start)
				if n := countRecords(b, dir); n != schemaRecs {
					b.Fatalf("the files under %s hold %d records, want %d", dir, n, schemaRecs)
				}
			}
			report(b, run.name, run.base, float64(b.N*schemaRecs)/elapsed.Seconds())
		})
	}
}

// countRecords counts the records of the files under dir: the lines of
// lz4 files, the records of Avro files, the rows of Parquet files.
func countRecords(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".lz4"):
			content, err := sinks.Decode(nil, data)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			n += int64(bytes.Count(content, []byte{'\n'}))
		case strings.HasSuffix(p, ".avro"):
			info, err := avro.ReadFile(data, sinks.MaxDecodedBytes, func([]byte) error { return nil })
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			n += info.Records
		case strings.HasSuffix(p, ".parquet"):
			rows, err := parquetfile.ReadRecords(data, sinks.MaxDecodedBytes, func([]byte) error { return nil })
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			n += rows
		default:
			return fmt.Errorf("unexpected file %s", p)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
