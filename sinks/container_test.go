package sinks_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// allTypes is a schema with every type the formats write.
const allTypes = `{"type": "record", "name": "Event", "namespace": "gale.test", "fields": [
  {"name": "id", "type": "long"},
  {"name": "name", "type": "string"},
  {"name": "active", "type": "boolean"},
  {"name": "count", "type": "int"},
  {"name": "ratio", "type": "float"},
  {"name": "score", "type": "double"},
  {"name": "data", "type": "bytes"},
  {"name": "hash", "type": {"type": "fixed", "name": "MD4", "size": 4}},
  {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "attrs", "type": {"type": "map", "values": "long"}},
  {"name": "address", "type": ["null", {"type": "record", "name": "Address", "fields": [
    {"name": "street", "type": "string"}, {"name": "zip", "type": ["null", "int"]}]}]},
  {"name": "note", "type": ["null", "string"], "default": null},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
  {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
    {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}},
  {"name": "matrix", "type": {"type": "array", "items": {"type": "array", "items": "int"}}},
  {"name": "extra", "type": {"type": "map", "values": ["null", "double"]}},
  {"name": "level", "type": "string", "default": "info"},
  {"name": "big", "type": {"type": "bytes", "logicalType": "decimal", "precision": 30, "scale": 4}},
  {"name": "mid", "type": {"type": "fixed", "name": "Mid", "size": 6, "logicalType": "decimal", "precision": 12, "scale": 3}}]}`

var (
	ts1  = time.Date(2026, 12, 4, 10, 11, 12, 345e6, time.UTC)
	tsu1 = time.Date(2026, 12, 4, 10, 11, 12, 345678e3, time.UTC)
	day1 = time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
)

// allValues are records of allTypes as the deserializers give them: the
// avro/protobuf spout's Go values, the json deserializer's (json.Number),
// JSON text; want is what a reader must find, normalized as
// sinktest.Witness normalizes.
func allValues() (values []any, want []string) {
	values = []any{
		map[string]any{"id": int64(1), "name": "alpha", "active": true, "count": int32(7), "ratio": float32(1.5),
			"score": 2.25, "data": []byte{0, 1, 2, 255}, "hash": []byte("abcd"), "color": "GREEN",
			"tags": []any{"x", "y"}, "attrs": map[string]any{"a": int64(1), "b": int64(-2)},
			"address": map[string]any{"street": "Main 1", "zip": int32(12345)}, "note": "hello",
			"ts": ts1, "tsu": tsu1, "day": int32(day1.Unix() / 86400), "price": "12.30",
			"items":  []any{map[string]any{"sku": "s1", "qty": int32(2)}},
			"matrix": []any{[]any{int32(1), int32(2)}, []any{}, []any{int32(3)}},
			"extra":  map[string]any{"p": 0.5, "q": nil}, "ignored": "not in the schema",
			"big": "123456789012345678901234.5678", "mid": "-123456789.123"},
		map[string]any{"id": json.Number("2"), "name": "beta", "active": false, "count": json.Number("0"),
			"ratio": json.Number("-0.5"), "score": json.Number("1e3"), "data": "raw", "hash": "wxyz", "color": "RED",
			"tags": []any{}, "attrs": map[string]any{}, "address": nil, "note": nil,
			"ts": "2026-12-04T00:00:00Z", "tsu": json.Number("1764806400000001"), "day": "2026-12-05",
			"price": json.Number("-0.05"), "items": []any{}, "matrix": []any{}, "extra": map[string]any{}, "level": "debug",
			"big": json.Number("-1"), "mid": json.Number("0.5")},
		[]byte(`{"id":3,"name":"gamma ✓","active":true,"count":-1,"ratio":0,"score":-1.5,"data":"","hash":"0000",
			"color":"BLUE","tags":["z"],"attrs":{"k":9007199254740993},"address":{"street":"","zip":null},
			"ts":1764806400123,"tsu":"2026-12-04T00:00:00.000001Z","day":0,"price":"0","items":[{"sku":"","qty":0},{"sku":"b","qty":1}],
			"matrix":[[],[]],"extra":{"n":null},"level":"x","big":"0","mid":1}`),
	}
	want = []string{
		fmt.Sprintf(`{"id":1,"name":"alpha","active":true,"count":7,"ratio":1.5,"score":2.25,"data":{"bytes":"000102ff"},
			"hash":{"bytes":"61626364"},"color":"GREEN","tags":["x","y"],"attrs":{"a":1,"b":-2},
			"address":{"street":"Main 1","zip":12345},"note":"hello","ts":{"us":%d},"tsu":{"us":%d},"day":{"date":"2026-12-04"},
			"price":"12.30","items":[{"sku":"s1","qty":2}],"matrix":[[1,2],[],[3]],"extra":{"p":0.5,"q":null},"level":"info",
			"big":"123456789012345678901234.5678","mid":"-123456789.123"}`,
			ts1.UnixMicro(), tsu1.UnixMicro()),
		fmt.Sprintf(`{"id":2,"name":"beta","active":false,"count":0,"ratio":-0.5,"score":1000.0,"data":{"bytes":"726177"},
			"hash":{"bytes":"7778797a"},"color":"RED","tags":[],"attrs":{},"address":null,"note":null,
			"ts":{"us":%d},"tsu":{"us":1764806400000001},"day":{"date":"2026-12-05"},"price":"-0.05","items":[],"matrix":[],
			"extra":{},"level":"debug","big":"-1.0000","mid":"0.500"}`, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC).UnixMicro()),
		`{"id":3,"name":"gamma ✓","active":true,"count":-1,"ratio":0.0,"score":-1.5,"data":{"bytes":""},"hash":{"bytes":"30303030"},
			"color":"BLUE","tags":["z"],"attrs":{"k":9007199254740993},"address":{"street":"","zip":null},"note":null,
			"ts":{"us":1764806400123000},"tsu":{"us":1796342400000001},"day":{"date":"1970-01-01"},"price":"0.00",
			"items":[{"sku":"","qty":0},{"sku":"b","qty":1}],"matrix":[[],[]],"extra":{"n":null},"level":"x",
			"big":"0.0000","mid":"1.000"}`,
	}
	return values, want
}

// common returns a validated config of format with schema and extra keys.
func common(t testing.TB, format, schema string, extra map[string]any) *sinks.Common {
	t.Helper()
	c := sinks.DefaultCommon()
	c.Format, c.Schema = format, json.RawMessage(schema)
	js, _ := json.Marshal(extra)
	if err := json.Unmarshal(js, &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return &c
}

func decodeJSON(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

// TestFormats_Witness: every type, written as Avro (each codec) and as
// Parquet (each compression), read back by fastavro and pyarrow, equals
// the input record field for field; encoding the same batch twice gives
// the same bytes; verify's sum counts the records.
func TestFormats_Witness(t *testing.T) {
	values, want := allValues()
	cases := []struct {
		format string
		extra  map[string]any
	}{
		{sinks.FormatAvro, nil},
		{sinks.FormatAvro, map[string]any{"avro_codec": "null", "avro_block_records": 1}},
		{sinks.FormatAvro, map[string]any{"avro_codec": "snappy", "avro_block_records": 2}},
		{sinks.FormatParquet, nil},
		{sinks.FormatParquet, map[string]any{"parquet_compression": "zstd", "parquet_row_group_rows": 2}},
		{sinks.FormatParquet, map[string]any{"parquet_compression": "none", "parquet_row_group_rows": 1}},
	}
	files := map[string]map[string][]byte{}
	var firstSum string
	for i, tc := range cases {
		c := common(t, tc.format, allTypes, tc.extra)
		name, data, rejected := sinktest.Encode(t, c, values)
		if len(rejected) > 0 {
			t.Fatalf("%s %v: rejected %v", tc.format, tc.extra, rejected)
		}
		if _, again, _ := sinktest.Encode(t, c, values); !bytes.Equal(data, again) {
			t.Errorf("%s %v: the same batch encoded twice differs", tc.format, tc.extra)
		}
		if !strings.HasSuffix(name, "."+tc.format) {
			t.Errorf("name %s", name)
		}
		var sum sinks.LinesSum
		if err := sum.AddObject(name, data); err != nil || sum.Len() != len(values) {
			t.Errorf("%s %v: verify's sum: %d records, %v", tc.format, tc.extra, sum.Len(), err)
		}
		// the same records sum up the same in every format and codec:
		// gale verify compares an Avro sink with a Parquet sink
		if s := sum.Sum(); i == 0 {
			firstSum = s
		} else if s != firstSum {
			t.Errorf("%s %v: verify's checksum %s, the first case's %s", tc.format, tc.extra, s, firstSum)
		}
		if files[tc.format] == nil {
			files[tc.format] = map[string][]byte{}
		}
		files[tc.format][fmt.Sprint(i)] = data
	}
	for format, fs := range files {
		got := sinktest.Witness(t, format, fs)
		for k, w := range got {
			var i int
			fmt.Sscan(k, &i)
			tc := cases[i]
			if len(w.Records) != len(want) {
				t.Fatalf("%s %v: %d records, want %d", format, tc.extra, len(w.Records), len(want))
			}
			for j := range want {
				g, _ := json.Marshal(w.Records[j])
				wj, _ := json.Marshal(decodeJSON(t, want[j]))
				if !bytes.Equal(g, wj) {
					t.Errorf("%s %v: record %d:\n got %s\nwant %s", format, tc.extra, j, g, wj)
				}
			}
			switch format {
			case sinks.FormatAvro:
				codec := "deflate"
				if c, ok := tc.extra["avro_codec"]; ok {
					codec = c.(string)
				}
				if w.Meta["codec"] != codec {
					t.Errorf("avro %v: codec %v", tc.extra, w.Meta["codec"])
				}
			case sinks.FormatParquet:
				rg := 1
				if n, ok := tc.extra["parquet_row_group_rows"]; ok {
					rg = (len(values) + n.(int) - 1) / n.(int)
				}
				comp := map[any]string{nil: "SNAPPY", "zstd": "ZSTD", "none": "UNCOMPRESSED"}[tc.extra["parquet_compression"]]
				if fmt.Sprint(w.Meta["row_groups"]) != fmt.Sprint(rg) || w.Meta["compression"] != comp {
					t.Errorf("parquet %v: %v row groups, compression %v; want %d, %s", tc.extra, w.Meta["row_groups"], w.Meta["compression"], rg, comp)
				}
				cols, _ := w.Meta["columns"].(map[string]any)
				for col, typ := range map[string]string{"ts": "timestamp[ms, tz=UTC]", "tsu": "timestamp[us, tz=UTC]", "day": "date32[day]",
					"price": "decimal128(9, 2)", "big": "decimal128(30, 4)", "mid": "decimal128(12, 3)", "hash": "fixed_size_binary[4]", "attrs": "map<string, int64 ('attrs')>", "count": "int32"} {
					if cols[col] != typ {
						t.Errorf("parquet column %s: %v, want %s", col, cols[col], typ)
					}
				}
				if i == 3 {
					t.Logf("parquet columns: %v", cols)
				}
			}
		}
	}
}

// TestFormat_Rejections: a value that does not fit the schema is refused
// with the path of the field at fault; the batch's other records are
// written.
func TestFormat_Rejections(t *testing.T) {
	values, _ := allValues()
	good := values[0].(map[string]any)
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		m[k] = v
		return m
	}
	bad := []struct {
		value any
		want  string
	}{
		{with("id", "seven"), `at value.id: want long, got string "seven"`},
		{with("count", int64(1)<<40), `at value.count: want int`},
		{with("items", []any{map[string]any{"sku": "a", "qty": int32(1)}, map[string]any{"sku": "b", "qty": "x"}}), `at value.items[1].qty: want int`},
		{with("attrs", map[string]any{"k": "v"}), `at value.attrs["k"]: want long`},
		{with("color", "PINK"), `at value.color: "PINK" is not a symbol of enum gale.test.Color`},
		{with("hash", []byte("abc")), `at value.hash: fixed gale.test.MD4 wants 4 bytes, got 3`},
		{with("price", "1.234"), `at value.price: string "1.234" has more than 2 decimal places`},
		{with("price", "12345678.9"), `at value.price: 1234567890 has more than 9 digits`},
		{with("ts", "yesterday"), `at value.ts: want timestamp-millis`},
		{with("address", map[string]any{"zip": int32(1)}), `at value.address.street: missing`},
		{with("name", nil), `at value.name: want string, got null`},
		{with("ratio", true), `at value.ratio: want float, got bool true`},
		{"not json", `at value: want record gale.test.Event, got text that is not a JSON object`},
		{int64(5), `at value: want record gale.test.Event, got int64 5`},
	}
	for _, format := range []string{sinks.FormatAvro, sinks.FormatParquet} {
		c := common(t, format, allTypes, nil)
		in := []any{good}
		for _, b := range bad {
			in = append(in, b.value)
		}
		name, data, rejected := sinktest.Encode(t, c, in)
		if len(rejected) != len(bad) {
			t.Fatalf("%s: %d rejected, want %d: %v", format, len(rejected), len(bad), rejected)
		}
		for i, err := range rejected {
			if !strings.Contains(err.Error(), bad[i].want) {
				t.Errorf("%s: %v\n want %s", format, err, bad[i].want)
			}
		}
		var sum sinks.LinesSum
		if err := sum.AddObject(name, data); err != nil || sum.Len() != 1 {
			t.Errorf("%s: %d records written, want 1 (%v)", format, sum.Len(), err)
		}
	}
}

// TestCommon_ValidateFormats: the settings of the container formats are
// checked at validation, each error at its key.
func TestCommon_ValidateFormats(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s.avsc")
	os.WriteFile(file, []byte(sinktest.LineSchema), 0o644)
	cases := []struct {
		name string
		c    func(c *sinks.Common)
		path string
		want string
	}{
		{"no schema", func(c *sinks.Common) { c.Format = "avro" }, "schema", "needs an Avro schema"},
		{"both", func(c *sinks.Common) {
			c.Format, c.Schema, c.SchemaFile = "avro", json.RawMessage(sinktest.LineSchema), file
		}, "schema", "exclude each other"},
		{"bad json", func(c *sinks.Common) { c.Format, c.Schema = "parquet", json.RawMessage(`{"type":`) }, "schema", "not JSON"},
		{"unknown type", func(c *sinks.Common) {
			c.Format, c.Schema = "avro", json.RawMessage(`{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}`)
		}, "schema", `at fields[0].type: unknown type "Nope"`},
		{"recursive", func(c *sinks.Common) {
			c.Format, c.Schema = "avro", json.RawMessage(`{"type":"record","name":"R","fields":[{"name":"next","type":["null","R"]}]}`)
		}, "schema", "recursive schemas are not supported"},
		{"not a record", func(c *sinks.Common) { c.Format, c.Schema = "avro", json.RawMessage(`"string"`) }, "schema", "want a record schema"},
		{"bad default", func(c *sinks.Common) {
			c.Format, c.Schema = "avro", json.RawMessage(`{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}`)
		}, "schema", "fields[0].default"},
		{"union for parquet", func(c *sinks.Common) {
			c.Format, c.Schema = "parquet", json.RawMessage(`{"type":"record","name":"R","fields":[{"name":"a","type":["null","int","string"]}]}`)
		}, "schema", "a union of 2 non-null types"},
		{"missing file", func(c *sinks.Common) { c.Format, c.SchemaFile = "avro", file+".nope" }, "schema_file", "no such file"},
		{"codec", func(c *sinks.Common) { c.Format, c.SchemaFile, c.AvroCodec = "avro", file, "lzma" }, "avro_codec", `avro codec "lzma"`},
		{"parquet key on avro", func(c *sinks.Common) { c.Format, c.SchemaFile, c.ParquetCompression = "avro", file, "zstd" }, "parquet_compression", "not \"avro\""},
		{"compression", func(c *sinks.Common) { c.Format, c.SchemaFile, c.ParquetCompression = "parquet", file, "brotli" }, "parquet_compression", `"brotli"`},
		{"row groups", func(c *sinks.Common) { c.Format, c.SchemaFile, c.ParquetRowGroupRows = "parquet", file, -1 }, "parquet_row_group_rows", "at least 1"},
		{"schema on json", func(c *sinks.Common) { c.SchemaFile = file }, "schema_file", `not of "json"`},
		{"fields", func(c *sinks.Common) { c.Format, c.SchemaFile, c.Fields = "avro", file, []string{"a"} }, "fields", "not \"fields\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := sinks.DefaultCommon()
			tc.c(&c)
			err := c.Validate()
			var fe *topology.FieldError
			if !errors.As(err, &fe) || fe.Path != tc.path || !strings.Contains(fe.Msg, tc.want) || !errors.Is(err, sinks.ErrConfig) {
				t.Errorf("%v (%T), want at %s: ...%s...", err, err, tc.path, tc.want)
			}
		})
	}
	// a schema in a JSON string, as a registry returns it; a file
	for _, c := range []sinks.Common{{Format: "parquet", Schema: json.RawMessage(fmt.Sprintf("%q", sinktest.LineSchema))}, {Format: "avro", SchemaFile: file}} {
		d := sinks.DefaultCommon()
		d.Format, d.Schema, d.SchemaFile = c.Format, c.Schema, c.SchemaFile
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", c.Format, err)
		}
		lz4, none, unset := sinks.CompressionLZ4, sinks.CompressionNone, ""
		if err := d.ResolveCompression(&lz4); err == nil || !strings.Contains(err.Error(), `set "compression": "none"`) {
			t.Errorf("lz4 with %s: %v", c.Format, err)
		}
		if err := d.ResolveCompression(&none); err != nil {
			t.Error(err)
		}
		if err := d.ResolveCompression(&unset); err != nil || unset != sinks.CompressionNone {
			t.Errorf("compression left out with %s: %q, %v; want %q", c.Format, unset, err, sinks.CompressionNone)
		}
	}
	// the line formats default to lz4
	for _, f := range []string{sinks.FormatJSON, sinks.FormatLines} {
		d := sinks.DefaultCommon()
		d.Format = f
		unset := ""
		if err := d.ResolveCompression(&unset); err != nil || unset != sinks.CompressionLZ4 {
			t.Errorf("compression left out with %s: %q, %v; want %q", f, unset, err, sinks.CompressionLZ4)
		}
	}
}

// TestFormats_EmptyBatch: a batch without records (all filtered out or
// dead-lettered) still leaves its object: an Avro file of no block, a
// Parquet file of no row, which the readers open.
func TestFormats_EmptyBatch(t *testing.T) {
	for _, format := range []string{sinks.FormatAvro, sinks.FormatParquet} {
		c := common(t, format, allTypes, nil)
		name, data, _ := sinktest.Encode(t, c, nil)
		var sum sinks.LinesSum
		if err := sum.AddObject(name, data); err != nil || sum.Len() != 0 {
			t.Errorf("%s: %d records, %v", format, sum.Len(), err)
		}
		if w := sinktest.Witness(t, format, map[string][]byte{name: data})[name]; len(w.Records) != 0 {
			t.Errorf("%s: the reader finds %d records", format, len(w.Records))
		}
	}
}

// TestFormats_Encrypted: encryption wraps an Avro or Parquet file like any
// object (".avro.enc"); decoded, it reads back whole.
func TestFormats_Encrypted(t *testing.T) {
	values, _ := allValues()
	key := bytes.Repeat([]byte{7}, sinks.KeySize)
	for _, format := range []string{sinks.FormatAvro, sinks.FormatParquet} {
		c := common(t, format, allTypes, nil)
		codec := sinks.Codec{Compression: sinks.CompressionNone, Key: key}
		b := &sinks.Batch{Topology: "topo", Meta: &tuple.BatchMeta{ID: "ev/00000/000000000000", Source: "ev", End: 3}}
		f := c.Options("test", nil).Format
		for i, v := range values {
			r, err := f.Record(&tuple.Tuple{ID: fmt.Sprintf("ev/0/%d", i), Fields: tuple.Fields{"value"}, Values: tuple.Values{v}})
			if err != nil {
				t.Fatal(err)
			}
			b.Records = append(b.Records, r)
		}
		p := c.Naming(codec.Ext()).Parts(b)[0]
		content, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		stored, err := codec.Encode(p.Name, content)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := codec.Encode(p.Name, content)
		if !strings.HasSuffix(p.Name, "."+format+".enc") || !sinks.IsSealed(stored) || !bytes.Equal(stored, again) {
			t.Errorf("%s: %s, sealed %v, replay identical %v", format, p.Name, sinks.IsSealed(stored), bytes.Equal(stored, again))
		}
		plain, err := sinks.DecodeObject(key, p.Name, stored)
		var sum sinks.LinesSum
		if err != nil || !bytes.Equal(plain, content) || sum.AddObject(p.Name, plain) != nil || sum.Len() != len(values) {
			t.Errorf("%s: decoded %d bytes (%v), %d records", format, len(plain), err, sum.Len())
		}
	}
}
