package sinks

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/gale-stream/gale/internal/avro"
	"github.com/gale-stream/gale/internal/parquetfile"
	"github.com/gale-stream/gale/topology"
)

// Container formats: one file per object, written by an Encoder from the
// records' values (Record.Value) under an Avro schema.
const (
	// FormatAvro writes one Avro Object Container File per object.
	FormatAvro = "avro"
	// FormatParquet writes one Parquet file per object.
	FormatParquet = "parquet"
)

// Defaults of the container formats' settings.
const (
	DefaultAvroCodec           = avro.CodecDeflate
	DefaultAvroBlockRecords    = 1000
	DefaultParquetCompression  = parquetfile.CompressionSnappy
	DefaultParquetRowGroupRows = 100000
)

// Encoder turns the records of one object, in order, into the object's
// content (before Codec compresses or encrypts it). The same name and
// records must give the same bytes. A Naming without an Encoder writes
// lines (Part.Content).
type Encoder interface {
	Encode(name string, records []Record) ([]byte, error)
}

// container is the Encoder of the avro and parquet formats, and holds
// what Format.Record needs to coerce a value to the schema.
type container struct {
	kind    string
	schema  *avro.Schema
	parquet *parquetfile.Schema // format parquet

	avroCodec    string
	blockRecords int
	compression  string
	rowGroupRows int
}

var _ Encoder = (*container)(nil)

// Encode writes the records' values as one Avro or Parquet file.
func (c *container) Encode(name string, records []Record) ([]byte, error) {
	values := make([]any, len(records))
	for i, r := range records {
		values[i] = r.Value
	}
	if c.kind == FormatParquet {
		return c.parquet.Write(values, parquetfile.Options{Compression: c.compression, RowGroupRows: c.rowGroupRows, CreatedBy: "gale"})
	}
	return avro.AppendFile(nil, c.schema, values, avro.FileOptions{Codec: c.avroCodec, BlockRecords: c.blockRecords, Sync: SyncMarker(name)})
}

// SyncMarker is the sync marker of the Avro file stored as name: the
// first 16 bytes of SHA-256("gale avro sync " + name), so that writing
// the object again gives the same bytes, and two objects differ in it.
func SyncMarker(name string) [16]byte {
	sum := sha256.Sum256([]byte("gale avro sync " + name))
	return [16]byte(sum[:16])
}

// isContainer tells whether kind is a container format.
func isContainer(kind string) bool { return kind == FormatAvro || kind == FormatParquet }

// loadContainer checks the settings of a container format and loads its
// schema; it returns nil for the line formats (which take none of them).
// Errors are *topology.FieldError at the offending key.
func (c *Common) loadContainer() (*container, error) {
	if !isContainer(c.Format) {
		for _, k := range []struct {
			key string
			set bool
		}{{"schema", len(c.Schema) > 0}, {"schema_file", c.SchemaFile != ""}, {"avro_codec", c.AvroCodec != ""},
			{"avro_block_records", c.AvroBlockRecords != 0}, {"parquet_compression", c.ParquetCompression != ""},
			{"parquet_row_group_rows", c.ParquetRowGroupRows != 0}} {
			if k.set {
				return nil, fieldErr(k.key, fmt.Errorf("%s is a setting of the formats %q and %q, not of %q", k.key, FormatAvro, FormatParquet, c.Format))
			}
		}
		return nil, nil
	}
	if len(c.Fields) > 0 {
		return nil, fieldErr("fields", fmt.Errorf("format %q writes one field (\"field\", default \"value\"), not \"fields\"", c.Format))
	}
	key, text, err := c.schemaText()
	if err != nil {
		return nil, err
	}
	s, err := avro.Parse(text)
	if err != nil {
		return nil, fieldErr(key, err)
	}
	if s.Kind != avro.Record {
		return nil, fieldErr(key, fmt.Errorf("the schema is a %s: format %q writes records, want a record schema", s.Kind, c.Format))
	}
	ct := &container{kind: c.Format, schema: s, avroCodec: c.AvroCodec, blockRecords: c.AvroBlockRecords,
		compression: c.ParquetCompression, rowGroupRows: c.ParquetRowGroupRows}
	if ct.avroCodec == "" {
		ct.avroCodec = DefaultAvroCodec
	}
	if ct.blockRecords == 0 {
		ct.blockRecords = DefaultAvroBlockRecords
	}
	if ct.compression == "" {
		ct.compression = DefaultParquetCompression
	}
	if ct.rowGroupRows == 0 {
		ct.rowGroupRows = DefaultParquetRowGroupRows
	}
	other, otherFormat := map[string]bool{"parquet_compression": c.ParquetCompression != "", "parquet_row_group_rows": c.ParquetRowGroupRows != 0}, FormatParquet
	if c.Format == FormatParquet {
		other, otherFormat = map[string]bool{"avro_codec": c.AvroCodec != "", "avro_block_records": c.AvroBlockRecords != 0}, FormatAvro
	}
	for _, k := range slices.Sorted(maps.Keys(other)) {
		if other[k] {
			return nil, fieldErr(k, fmt.Errorf("%s is a setting of format %q, not %q", k, otherFormat, c.Format))
		}
	}
	if err := avro.CheckCodec(ct.avroCodec); err != nil {
		return nil, fieldErr("avro_codec", err)
	}
	if ct.blockRecords < 1 {
		return nil, fieldErr("avro_block_records", fmt.Errorf("avro_block_records %d: want at least 1", ct.blockRecords))
	}
	if err := parquetfile.CheckCompression(ct.compression); err != nil {
		return nil, fieldErr("parquet_compression", err)
	}
	if ct.rowGroupRows < 1 {
		return nil, fieldErr("parquet_row_group_rows", fmt.Errorf("parquet_row_group_rows %d: want at least 1", ct.rowGroupRows))
	}
	if c.Format == FormatParquet {
		if ct.parquet, err = parquetfile.NewSchema(s); err != nil {
			return nil, fieldErr(key, err)
		}
	}
	return ct, nil
}

// schemaText returns the schema's JSON text and the key it came from.
//
// This is the seam for more sources: a schema registry ("schema_registry"
// with "subject" and "version") would be one more case here, returning the
// text of one pinned version (never "latest" at each start: a replay must
// write with the schema its first write used).
func (c *Common) schemaText() (key string, text []byte, err error) {
	switch {
	case len(c.Schema) > 0 && c.SchemaFile != "":
		return "schema", nil, fieldErr("schema", errors.New("schema and schema_file exclude each other"))
	case c.SchemaFile != "":
		b, err := os.ReadFile(c.SchemaFile)
		if err != nil {
			return "schema_file", nil, fieldErr("schema_file", err)
		}
		return "schema_file", b, nil
	case len(c.Schema) > 0:
		text := bytes.TrimSpace(c.Schema)
		if len(text) > 0 && text[0] == '"' {
			// a JSON string holding the schema (as a registry returns it)
			// or naming a primitive type
			var s string
			if err := json.Unmarshal(text, &s); err != nil {
				return "schema", nil, fieldErr("schema", err)
			}
			if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
				return "schema", []byte(s), nil
			}
		}
		return "schema", text, nil
	}
	return "schema", nil, fieldErr("schema", fmt.Errorf("format %q needs an Avro schema: give schema (a JSON object, or a string holding one) or schema_file", c.Format))
}

func fieldErr(key string, err error) error {
	return &topology.FieldError{Path: key, Msg: err.Error(), Err: fmt.Errorf("%w: %w", err, ErrConfig)}
}

// ResolveCompression applies a backend's compression default by format —
// "lz4" for the line formats, "none" for avro and parquet, which compress
// inside (avro_codec, parquet_compression) — when *compression is "", and
// refuses an lz4 frame around Avro and Parquet files (readers such as
// Spark would not open them).
func (c *Common) ResolveCompression(compression *string) error {
	if *compression == "" {
		*compression = CompressionLZ4
		if isContainer(c.Format) {
			*compression = CompressionNone
		}
	}
	if isContainer(c.Format) && *compression != CompressionNone {
		return fieldErr("compression", fmt.Errorf("compression %q with format %q: %s files compress inside (avro_codec, parquet_compression); set \"compression\": %q or leave it out",
			*compression, c.Format, c.Format, CompressionNone))
	}
	return nil
}

// formatOf returns the format extension of an object's name: "avro" for
// ".../000-1-2.avro.enc", "jsonl" for ".../000-1-2.jsonl.lz4".
func formatOf(name string) string {
	_, ext, _ := strings.Cut(path.Base(name), ".")
	f, _, _ := strings.Cut(ext, ".")
	return f
}

// ContainerFormat returns the container format of the object named name
// by its extension: FormatAvro, FormatParquet, or "" (lines).
func ContainerFormat(name string) string {
	if f := formatOf(name); isContainer(f) {
		return f
	}
	return ""
}

// AddObject adds the records of one object's decoded content (see
// Inventory.Read), named name, to the sum: the lines of a line file; the
// records of an Avro file or the rows of a Parquet file, each as its
// record's Avro binary encoding (so that an Avro and a Parquet file of the
// same records sum up the same), by the name's extension. It fails on a
// file it cannot read.
func (s *LinesSum) AddObject(name string, content []byte) error {
	switch formatOf(name) {
	case FormatAvro:
		_, err := avro.ReadFile(content, MaxDecodedBytes, func(datum []byte) error {
			s.Add(datum)
			return nil
		})
		return err
	case FormatParquet:
		_, err := parquetfile.ReadRecords(content, MaxDecodedBytes, func(row []byte) error {
			s.Add(row)
			return nil
		})
		return err
	}
	s.AddContent(content)
	return nil
}
