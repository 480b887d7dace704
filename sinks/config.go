package sinks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Common is the configuration every sink type shares (embedded in each
// type's config, so its keys sit at the top level of "config").
type Common struct {
	// Format is "json" (default), "lines", "avro" or "parquet"; see
	// FormatJSON, FormatLines, FormatAvro, FormatParquet.
	Format string `json:"format"`
	// Field: for "json" the field holding the document (default: all the
	// tuple's fields as one object); for "lines" the text, for "avro" and
	// "parquet" the record (default "value").
	Field string `json:"field,omitempty"`
	// Fields: for "json" without Field, the fields to write (default all).
	Fields []string `json:"fields,omitempty"`
	// TimeField holds the record timestamp (default "timestamp", the
	// kafka spout's: Unix milliseconds). Used by TimePartition.
	TimeField string `json:"time_field"`
	// TimePartition is "", "day" (dt=YYYY-MM-DD) or "hour" (dt=.../hh=HH),
	// by the records' timestamps.
	TimePartition string `json:"time_partition,omitempty"`
	// Prefix is the first part of object names (default none): one or
	// more directories, "a" or "a/b"; "." and ".." are refused, so that a
	// sink never writes outside its root.
	Prefix string `json:"prefix,omitempty"`
	// MaxInflight bounds the batches each task writes at once (default 2).
	MaxInflight int `json:"max_inflight"`
	// MinBackoffMS and MaxBackoffMS bound the retry backoff of a failed
	// write (defaults 100 and 30000).
	MinBackoffMS int `json:"min_backoff_ms"`
	MaxBackoffMS int `json:"max_backoff_ms"`
	// DeadLetterDir receives the records the backend rejects (default
	// "gale-dead-letter").
	DeadLetterDir string `json:"dead_letter_dir"`

	// The settings of formats "avro" and "parquet" (refused with the
	// others). Schema is the Avro schema of the records written: a JSON
	// object, or a JSON string holding one; SchemaFile a file holding it
	// instead. The root is a record.
	Schema     json.RawMessage `json:"schema,omitempty"`
	SchemaFile string          `json:"schema_file,omitempty"`
	// AvroCodec compresses an Avro file's blocks: "deflate" (default),
	// "snappy" or "null"; AvroBlockRecords is the records per block
	// (default 1000).
	AvroCodec        string `json:"avro_codec,omitempty"`
	AvroBlockRecords int    `json:"avro_block_records,omitempty"`
	// ParquetCompression compresses a Parquet file's columns: "snappy"
	// (default), "zstd" or "none"; ParquetRowGroupRows is the rows per
	// row group (default 100000).
	ParquetCompression  string `json:"parquet_compression,omitempty"`
	ParquetRowGroupRows int    `json:"parquet_row_group_rows,omitempty"`

	container *container // loaded by Validate
}

// DefaultCommon returns the defaults.
func DefaultCommon() Common {
	return Common{Format: FormatJSON, TimeField: "timestamp", MaxInflight: 2, MinBackoffMS: 100,
		MaxBackoffMS: 30000, DeadLetterDir: "gale-dead-letter"}
}

// Validate checks the shared settings.
func (c *Common) Validate() error {
	ct, err := c.loadContainer()
	if err != nil {
		return err
	}
	c.container = ct
	f := c.format()
	if err := f.Validate(); err != nil {
		return err
	}
	switch c.TimePartition {
	case PartitionNone, PartitionDay, PartitionHour:
	default:
		return fmt.Errorf("time_partition %q: want \"\", %q or %q: %w", c.TimePartition, PartitionDay, PartitionHour, ErrConfig)
	}
	if err := checkPrefix(c.Prefix); err != nil {
		// at the field: the topology's error names bolts[i].config.prefix
		return &topology.FieldError{Path: "prefix", Msg: err.Error(), Err: err}
	}
	if c.MaxInflight < 1 {
		return fmt.Errorf("max_inflight %d: want at least 1: %w", c.MaxInflight, ErrConfig)
	}
	if c.MinBackoffMS < 1 || c.MaxBackoffMS < c.MinBackoffMS {
		return fmt.Errorf("backoff %d..%d ms: want 1 <= min_backoff_ms <= max_backoff_ms: %w", c.MinBackoffMS, c.MaxBackoffMS, ErrConfig)
	}
	return nil
}

func (c *Common) format() Format {
	return Format{Kind: c.Format, Field: c.Field, Fields: c.Fields, TimeField: c.TimeField, container: c.container}
}

// Options returns the bolt options of c for sink, with open.
func (c *Common) Options(sink string, open func(context.Context, *topology.TaskContext) (Writer, error)) Options {
	return Options{Sink: sink, Format: c.format(), MaxInflight: c.MaxInflight,
		MinBackoff: time.Duration(c.MinBackoffMS) * time.Millisecond,
		MaxBackoff: time.Duration(c.MaxBackoffMS) * time.Millisecond,
		Open:       open, DeadLetterDir: c.DeadLetterDir}
}

// Naming returns the naming of c's objects with the given extension.
func (c *Common) Naming(ext string) Naming {
	f := c.format()
	return Naming{Prefix: c.Prefix, TimePartition: c.TimePartition, Ext: f.Ext() + ext, Encoder: f.Encoder()}
}

// Type returns the registry entry of a sink type: name (e.g.
// "hdfs_sink"; the sink's label in metrics and errors is the name without
// "_sink"), its one-line doc, config (the defaults of its config C, which
// embeds Common) and open, which makes each task's Writer when the task
// prepares. The type declares no output stream, and checks when a topology
// is validated that the format's fields exist in the sink's inputs.
func Type[C any, P interface {
	*C
	shared() *Common
}](name, doc string, config func() *C, open func(ctx context.Context, c *C, tc *topology.TaskContext) (Writer, error)) registry.Bolt[C] {
	label := strings.TrimSuffix(name, "_sink")
	return registry.Bolt[C]{
		Name:   name,
		Doc:    doc,
		Config: config,
		Outputs: registry.Declare(func(c *C, inputs []tuple.Fields) (topology.Streams, error) {
			f := P(c).shared().format()
			for _, in := range inputs {
				if err := f.Check(in); err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
			}
			return topology.Streams{}, nil
		}),
		New: func(c *C) (bolt.Bolt, error) {
			return NewBolt(P(c).shared().Options(label, func(ctx context.Context, tc *topology.TaskContext) (Writer, error) {
				return open(ctx, c, tc)
			})), nil
		},
	}
}

// shared returns the Common every sink config embeds: sinks.Type finds it
// through this method.
func (c *Common) shared() *Common { return c }

// EncryptionConfig names the master key: a file of 32 bytes or 64 hex
// digits, or an environment variable holding the hex.
type EncryptionConfig struct {
	KeyFile string `json:"key_file,omitempty"`
	KeyEnv  string `json:"key_env,omitempty"`
}

// DefaultKeyEnv is the environment variable read when neither key_file nor
// key_env is given.
const DefaultKeyEnv = "GALE_SINK_KEY"

// Key loads the master key.
func (e *EncryptionConfig) Key() ([]byte, error) {
	env := e.KeyEnv
	if env == "" {
		env = DefaultKeyEnv
	}
	return LoadKey(e.KeyFile, env)
}

// checkPrefix refuses a prefix that would leave the sink's root or name
// no directory: "..", ".", an absolute path, empty segments, backslashes
// and control characters.
func checkPrefix(p string) error {
	if p == "" {
		return nil
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "" || seg == "." || seg == "..":
			return fmt.Errorf("prefix %q: segment %q: want directory names (no leading, trailing or double '/', no '.' or '..'): %w", p, seg, ErrConfig)
		case strings.ContainsFunc(seg, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }):
			return fmt.Errorf("prefix %q: backslash or control character: %w", p, ErrConfig)
		}
	}
	return nil
}
