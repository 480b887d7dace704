//go:build ceph

package ceph

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/topology"
)

// Size limits of max_object_bytes.
const (
	// MinObjectBytes is the smallest max_object_bytes accepted (1 MiB).
	MinObjectBytes = 1 << 20
	// DefaultObjectBytes is the default max_object_bytes (64 MiB).
	DefaultObjectBytes = 64 << 20
	// MaxObjectBytes is the largest max_object_bytes accepted: Ceph's
	// default osd_max_write_size (90 MB), above which an OSD refuses a
	// single write, so that an object or part always fits one write.
	MaxObjectBytes = 90 << 20
)

// DefaultConfFile is read when conf_file is not set and $CEPH_CONF is empty.
const DefaultConfFile = "/etc/ceph/ceph.conf"

// TypeName is the sink type's name in topologies.
const TypeName = "ceph_sink"

// Config configures the "ceph_sink" type. Its keys sit at the top level of
// the component's "config", beside those of sinks.Common.
type Config struct {
	sinks.Common
	// ConfFile is the ceph.conf to read (monitors, keyring); default
	// $CEPH_CONF, else /etc/ceph/ceph.conf.
	ConfFile string `json:"conf_file,omitempty"`
	// User is the cephx user without "client." (default "admin").
	User string `json:"user"`
	// Pool receives the objects (required).
	Pool string `json:"pool"`
	// Namespace is the RADOS namespace within the pool (default none).
	Namespace string `json:"namespace,omitempty"`
	// CreatePool creates the pool when it does not exist (default false:
	// a missing pool is a configuration error).
	CreatePool bool `json:"create_pool,omitempty"`
	// Compression is "lz4" (the default with the line formats) or "none"
	// (the default, and the only choice, with avro and parquet).
	Compression string `json:"compression"`
	// Encryption, when set, encrypts every object (see sinks.Codec).
	Encryption *sinks.EncryptionConfig `json:"encryption,omitempty"`
	// MaxObjectBytes is the largest object written as one RADOS object
	// (default 64 MiB, at least 1 MiB, at most 90 MiB); larger ones are
	// split into parts under a manifest (see the package doc).
	MaxObjectBytes int64 `json:"max_object_bytes"`
	// TimeoutSeconds bounds connecting and every monitor and OSD operation
	// (client_mount_timeout, rados_mon_op_timeout, rados_osd_op_timeout;
	// default 30): with the cluster down, writes fail after it and are
	// retried by the sink instead of hanging.
	TimeoutSeconds int `json:"timeout_seconds"`

	key []byte
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Common: sinks.DefaultCommon(), User: "admin",
		MaxObjectBytes: DefaultObjectBytes, TimeoutSeconds: 30}
}

// Validate checks the config and loads the encryption key. It does not
// contact the cluster (a topology may be validated elsewhere): the pool is
// checked when the sink opens.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return fmt.Errorf("ceph sink: %w", err)
	}
	if err := c.ResolveCompression(&c.Compression); err != nil {
		return fmt.Errorf("ceph sink: %w", err)
	}
	if c.Pool == "" {
		return fmt.Errorf("ceph sink: pool is required: %w", sinks.ErrConfig)
	}
	if c.User == "" {
		return fmt.Errorf("ceph sink (pool %q): user is empty (default \"admin\"): %w", c.Pool, sinks.ErrConfig)
	}
	if c.MaxObjectBytes < MinObjectBytes || c.MaxObjectBytes > MaxObjectBytes {
		return fmt.Errorf("ceph sink (pool %q): max_object_bytes %d: want %d (1 MiB) to %d (90 MiB, Ceph's default osd_max_write_size): %w",
			c.Pool, c.MaxObjectBytes, MinObjectBytes, MaxObjectBytes, sinks.ErrConfig)
	}
	if c.TimeoutSeconds < 1 {
		return fmt.Errorf("ceph sink (pool %q): timeout_seconds %d: want at least 1: %w", c.Pool, c.TimeoutSeconds, sinks.ErrConfig)
	}
	if c.Encryption != nil {
		k, err := c.Encryption.Key()
		if err != nil {
			return fmt.Errorf("ceph sink (pool %q): %w", c.Pool, err)
		}
		c.key = k
	}
	if err := c.codec().Validate(); err != nil {
		return fmt.Errorf("ceph sink (pool %q): %w", c.Pool, err)
	}
	return nil
}

// confFile returns the ceph.conf to read.
func (c *Config) confFile() string {
	if c.ConfFile != "" {
		return c.ConfFile
	}
	if env := os.Getenv("CEPH_CONF"); env != "" {
		return env
	}
	return DefaultConfFile
}

func (c *Config) codec() sinks.Codec { return sinks.Codec{Compression: c.Compression, Key: c.key} }

// Naming returns the naming of the sink's objects.
func (c *Config) Naming() sinks.Naming { return c.Common.Naming(c.codec().Ext()) }

// Type is the "ceph_sink" bolt type.
func Type() registry.Bolt[Config] {
	return sinks.Type(TypeName,
		"writes each batch as one RADOS object (lz4, optionally encrypted) with one atomic write op: data and gale.* xattrs together; large objects as parts under a manifest",
		NewConfig, func(ctx context.Context, c *Config, _ *topology.TaskContext) (sinks.Writer, error) {
			return c.Open(ctx)
		})
}

// OpenStore opens the pool for reading (gale verify).
func (c *Config) OpenStore(ctx context.Context) (io.Closer, error) { return c.Open(ctx) }
