package bench

// BenchmarkFormats: the cost of the output formats, in one run: one batch
// of formatRecs records, from the tuples the kafka spout's json
// deserializer emits (a map with json.Number numbers) to the object's
// stored bytes — Format.Record (for avro and parquet: coercion to the
// schema), the object's content (lines, or the Avro/Parquet encoder) and
// the Codec (lz4 for the lines) — as JSON lines + lz4 (today's default),
// Avro (deflate, snappy) and Parquet (snappy, zstd). Each sub-benchmark
// reports records/s, pct-of-json-lz4 (its rate in percent of the first's)
// and stored bytes per record.
//
//	go test -run '^$' -bench Formats -benchtime 20x ./bench/

import (
	"bytes"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/tuple"
)

// formatRecs is the records of the benchmark's batch.
const formatRecs = 10000

// formatSchema is the Avro schema of writeRecordLine's documents.
const formatSchema = `{"type": "record", "name": "Access", "namespace": "gale.bench", "fields": [
  {"name": "n", "type": "long"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "user", "type": "string"},
  {"name": "status", "type": "int"},
  {"name": "latency_ms", "type": "int"},
  {"name": "msg", "type": "string"}]}`

// formatTuples returns the batch's tuples: writeRecordLine's documents
// decoded as the json deserializer decodes them.
func formatTuples(b *testing.B) []*tuple.Tuple {
	rng := mrand.New(mrand.NewPCG(3, 4))
	ts := make([]*tuple.Tuple, formatRecs)
	for i := range ts {
		d := json.NewDecoder(bytes.NewReader(writeRecordLine(int64(i), rng)))
		d.UseNumber()
		var doc map[string]any
		if err := d.Decode(&doc); err != nil {
			b.Fatal(err)
		}
		ts[i] = &tuple.Tuple{ID: fmt.Sprintf("bench/0/%d", i), Fields: tuple.Fields{"value", "timestamp"},
			Values: tuple.Values{doc, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).UnixMilli()}}
	}
	return ts
}

// jsonLZ4Rate is the json-lz4 sub-benchmark's records/s in this run.
var jsonLZ4Rate float64

func BenchmarkFormats(b *testing.B) {
	tuples := formatTuples(b)
	for _, f := range []struct {
		name        string
		format      string
		compression string
		keys        map[string]any
	}{
		{"json-lz4", sinks.FormatJSON, sinks.CompressionLZ4, nil},
		{"avro-deflate", sinks.FormatAvro, sinks.CompressionNone, map[string]any{"avro_codec": "deflate"}},
		{"avro-snappy", sinks.FormatAvro, sinks.CompressionNone, map[string]any{"avro_codec": "snappy"}},
		{"parquet-snappy", sinks.FormatParquet, sinks.CompressionNone, map[string]any{"parquet_compression": "snappy"}},
		{"parquet-zstd", sinks.FormatParquet, sinks.CompressionNone, map[string]any{"parquet_compression": "zstd"}},
	} {
		b.Run(f.name, func(b *testing.B) {
			c := sinks.DefaultCommon()
			c.Format, c.Field = f.format, "value"
			if f.format != sinks.FormatJSON {
				c.Schema = json.RawMessage(formatSchema)
			}
			js, _ := json.Marshal(f.keys)
			if err := json.Unmarshal(js, &c); err != nil {
				b.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				b.Fatal(err)
			}
			codec := sinks.Codec{Compression: f.compression}
			format, naming := c.Options("bench", nil).Format, c.Naming(codec.Ext())
			meta := &tuple.BatchMeta{ID: "bench/00000/000000000000", Source: "bench", End: formatRecs, Records: formatRecs}
			var stored int64
			b.ReportAllocs()
			start := time.Now()
			for range b.N {
				bt := &sinks.Batch{Topology: "bench-formats", Meta: meta, Records: make([]sinks.Record, 0, formatRecs)}
				for _, t := range tuples {
					r, err := format.Record(t)
					if err != nil {
						b.Fatal(err)
					}
					bt.Records = append(bt.Records, r)
				}
				p := naming.Parts(bt)[0]
				content, err := p.Encode()
				if err != nil {
					b.Fatal(err)
				}
				data, err := codec.Encode(p.Name, content)
				if err != nil {
					b.Fatal(err)
				}
				stored = int64(len(data))
			}
			rate := float64(b.N*formatRecs) / time.Since(start).Seconds()
			b.ReportMetric(rate, "records/s")
			b.ReportMetric(float64(stored)/formatRecs, "stored-B/record")
			if f.name == "json-lz4" {
				jsonLZ4Rate = rate
			} else if jsonLZ4Rate > 0 {
				b.ReportMetric(100*rate/jsonLZ4Rate, "pct-of-json-lz4")
			}
		})
	}
}
