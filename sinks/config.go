package sinks

import (
	"context"
	"fmt"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// Common is the configuration every sink type shares (embedded in each
// type's config, so its keys sit at the top level of "config").
type Common struct {
	// Format is "json" (default) or "lines"; see FormatJSON, FormatLines.
	Format string `json:"format"`
	// Field: for "json" the field holding the document (default: all the
	// tuple's fields as one object); for "lines" the text (default "value").
	Field string `json:"field,omitempty"`
	// Fields: for "json" without Field, the fields to write (default all).
	Fields []string `json:"fields,omitempty"`
	// TimeField holds the record timestamp (default "timestamp", the
	// kafka spout's: Unix milliseconds). Used by TimePartition.
	TimeField string `json:"time_field"`
	// TimePartition is "", "day" (dt=YYYY-MM-DD) or "hour" (dt=.../hh=HH),
	// by the records' timestamps.
	TimePartition string `json:"time_partition,omitempty"`
	// Prefix is the first part of object names (Ceph, HDFS; default none).
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
}

// DefaultCommon returns the defaults.
func DefaultCommon() Common {
	return Common{Format: FormatJSON, TimeField: "timestamp", MaxInflight: 2, MinBackoffMS: 100,
		MaxBackoffMS: 30000, DeadLetterDir: "gale-dead-letter"}
}

// Validate checks the shared settings.
func (c *Common) Validate() error {
	f := c.format()
	if err := f.Validate(); err != nil {
		return err
	}
	switch c.TimePartition {
	case PartitionNone, PartitionDay, PartitionHour:
	default:
		return fmt.Errorf("time_partition %q: want \"\", %q or %q: %w", c.TimePartition, PartitionDay, PartitionHour, ErrConfig)
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
	return Format{Kind: c.Format, Field: c.Field, Fields: c.Fields, TimeField: c.TimeField}
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
	return Naming{Prefix: c.Prefix, TimePartition: c.TimePartition, Ext: f.Ext() + ext}
}

// SinkType builds the registry entry of a sink type whose config is *C
// (embedding Common, made by newConfig with the defaults) and whose bolt
// is made by newBolt.
func SinkType[C any](name, doc string, newConfig func() *C, common func(*C) *Common, newBolt func(*C) (*Bolt, error)) registry.BoltType {
	return registry.BoltType{
		ComponentType: topology.ComponentType{
			Name:      name,
			Doc:       doc,
			NewConfig: func() any { return newConfig() },
			Outputs: func(settings any, inputs []tuple.Fields) (topology.Streams, error) {
				c, ok := settings.(*C)
				if !ok {
					return nil, fmt.Errorf("%s: settings of type %T: %w", name, settings, ErrConfig)
				}
				f := common(c).format()
				for _, in := range inputs {
					if err := f.Check(in); err != nil {
						return nil, fmt.Errorf("%s: %w", name, err)
					}
				}
				return topology.Streams{}, nil
			},
		},
		New: func(settings any) (bolt.Bolt, error) {
			c, ok := settings.(*C)
			if !ok {
				return nil, fmt.Errorf("%s: settings of type %T: %w", name, settings, ErrConfig)
			}
			return newBolt(c)
		},
	}
}

// FileConfig configures the "file_sink" type.
type FileConfig struct {
	Common
	// Dir is the root directory of the files (required); a local or
	// shared filesystem.
	Dir string `json:"dir"`
	// Compression is "lz4" (default) or "none".
	Compression string `json:"compression"`
	// Encryption, when set, encrypts every file (see Codec).
	Encryption *EncryptionConfig `json:"encryption,omitempty"`
	// NoFsync skips fsync (only for throwaway data: a crash may then leave
	// empty or partial files).
	NoFsync bool `json:"no_fsync,omitempty"`

	key []byte
}

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

// NewFileConfig returns the defaults.
func NewFileConfig() *FileConfig {
	return &FileConfig{Common: DefaultCommon(), Compression: CompressionLZ4}
}

// Validate checks the config and loads the encryption key.
func (c *FileConfig) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.Dir == "" {
		return fmt.Errorf("dir is required: %w", ErrConfig)
	}
	if c.Encryption != nil {
		k, err := c.Encryption.Key()
		if err != nil {
			return err
		}
		c.key = k
	}
	return c.codec().Validate()
}

func (c *FileConfig) codec() Codec { return Codec{Compression: c.Compression, Key: c.key} }

// Writer returns the config's FileWriter.
func (c *FileConfig) Writer() *FileWriter {
	codec := c.codec()
	return &FileWriter{Dir: c.Dir, Naming: c.Naming(codec.Ext()), Codec: codec, NoSync: c.NoFsync}
}

// FileType is the "file_sink" bolt type.
func FileType() registry.BoltType {
	return SinkType("file_sink", "writes each batch as one file (lz4, optionally encrypted), atomically: temp, fsync, rename",
		NewFileConfig, func(c *FileConfig) *Common { return &c.Common },
		func(c *FileConfig) (*Bolt, error) {
			w := c.Writer()
			return NewBolt(c.Options("file", func(context.Context, *topology.TaskContext) (Writer, error) {
				return w, nil
			})), nil
		})
}

// Register adds the sink types of this package (file_sink) to r.
func Register(r *registry.Registry) error {
	return r.RegisterBolt(FileType())
}

func init() { registry.MustRegisterBolt(FileType()) }
