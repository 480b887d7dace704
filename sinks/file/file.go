package file

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/gale-stream/gale/internal/atomicfile"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/topology"
)

// TypeName is the sink type's name in topologies.
const TypeName = "file_sink"

// Config configures the "file_sink" type. Its keys sit at the top level of
// the component's "config", beside those of sinks.Common.
type Config struct {
	sinks.Common
	// Dir is the root directory of the files (required); a local or
	// shared filesystem.
	Dir string `json:"dir"`
	// Compression is "lz4" (the default with the line formats) or "none"
	// (the default, and the only choice, with avro and parquet).
	Compression string `json:"compression"`
	// Encryption, when set, encrypts every file (see sinks.Codec).
	Encryption *sinks.EncryptionConfig `json:"encryption,omitempty"`
	// NoFsync skips fsync (only for throwaway data: a crash may then leave
	// empty or partial files).
	NoFsync bool `json:"no_fsync,omitempty"`

	key []byte
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Common: sinks.DefaultCommon()}
}

// Validate checks the config and loads the encryption key.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if err := c.ResolveCompression(&c.Compression); err != nil {
		return err
	}
	if c.Dir == "" {
		return fmt.Errorf("dir is required: %w", sinks.ErrConfig)
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

func (c *Config) codec() sinks.Codec { return sinks.Codec{Compression: c.Compression, Key: c.key} }

// Writer returns the config's Writer.
func (c *Config) Writer() *Writer {
	codec := c.codec()
	return &Writer{Naming: c.Naming(codec.Ext()), Codec: codec, files: atomicfile.Dir{Root: c.Dir, NoSync: c.NoFsync}}
}

// OpenStore opens the directory for reading (gale verify): a *Writer,
// which is a sinks.Inventory.
func (c *Config) OpenStore(context.Context) (io.Closer, error) { return c.Writer(), nil }

// Type is the "file_sink" bolt type.
func Type() registry.Bolt[Config] {
	return sinks.Type(TypeName, "writes each batch as one file (lz4, optionally encrypted), atomically: temp, fsync, rename",
		NewConfig, func(_ context.Context, c *Config, _ *topology.TaskContext) (sinks.Writer, error) {
			return c.Writer(), nil
		})
}

// Writer writes each object of a batch as a file below its directory,
// atomically and durably (package internal/atomicfile: temporary file,
// fsync, rename over the final name, fsync of the directory). A crash
// leaves the old file or the new one, plus at worst a hidden temporary
// file that the next write into that directory removes.
type Writer struct {
	Naming sinks.Naming
	Codec  sinks.Codec
	files  atomicfile.Dir
}

// NewWriter returns a Writer of the files below dir; noSync skips the
// fsyncs (tests on tmpfs; never in production).
func NewWriter(dir string, naming sinks.Naming, codec sinks.Codec, noSync bool) *Writer {
	return &Writer{Naming: naming, Codec: codec, files: atomicfile.Dir{Root: dir, NoSync: noSync}}
}

var (
	_ sinks.Writer    = (*Writer)(nil)
	_ sinks.Inventory = (*Writer)(nil)
)

// Dir returns the root directory of the files.
func (w *Writer) Dir() string { return w.files.Root }

// WriteBatch writes b's objects.
func (w *Writer) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	return sinks.EachPart(ctx, b, w.Naming, w.Codec, "file sink "+w.Dir(), func(p *sinks.Part, _, data []byte) error {
		return w.files.Put(p.Name, data)
	})
}

// List returns the names (relative to the directory, slash-separated) of
// the files whose names end with ext, skipping temporary files.
func (w *Writer) List(ext string) ([]string, error) { return w.files.List(ext) }

// Get reads an object's stored bytes.
func (w *Writer) Get(_ context.Context, name string) ([]byte, error) { return w.files.Get(name) }

// Objects lists the objects of topology under the writer's directory.
func (w *Writer) Objects(_ context.Context, topology string) ([]string, error) {
	names, err := w.List(w.Naming.Ext)
	if err != nil {
		return nil, err
	}
	want := path.Join(w.Naming.Prefix, topology) + "/"
	out := names[:0]
	for _, n := range names {
		if strings.HasPrefix(n, want) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Read returns an object's decoded content.
func (w *Writer) Read(ctx context.Context, name string) ([]byte, error) {
	data, err := w.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return sinks.DecodeObject(w.Codec.Key, name, data)
}

// Close does nothing: every write is complete when WriteBatch returns.
func (w *Writer) Close() error { return nil }
