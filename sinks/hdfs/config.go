package hdfs

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/topology"
)

// TypeName is the component type of the HDFS sink.
const TypeName = "hdfs_sink"

// DefaultUser is the HDFS user when neither the config nor
// $HADOOP_USER_NAME names one.
const DefaultUser = "gale"

// DefaultTimeout bounds each network operation (see Config.TimeoutMS).
const DefaultTimeout = 30 * time.Second

// maxReplication is the protocol's bound (a 16-bit field); the NameNode
// enforces its own dfs.replication.max (512 by default).
const maxReplication = 32767

// Config configures the "hdfs_sink" type (see the package doc).
type Config struct {
	sinks.Common
	// NameNode is "host:port" or "host:port,host:port" (required).
	NameNode string `json:"namenode"`
	// User is the HDFS user (default $HADOOP_USER_NAME, else "gale").
	User string `json:"user"`
	// Dir is the absolute HDFS path of the files' root (required).
	Dir string `json:"dir"`
	// Replication of each file; 0 is the cluster's default.
	Replication int `json:"replication"`
	// BlockSize of each file in bytes; 0 is the cluster's default.
	BlockSize int64 `json:"block_size"`
	// Compression is "lz4" (the default with the line formats) or "none"
	// (the default, and the only choice, with avro and parquet).
	Compression string `json:"compression"`
	// Encryption, when set, encrypts every file (see sinks.Codec).
	Encryption *sinks.EncryptionConfig `json:"encryption,omitempty"`
	// TimeoutMS bounds each network operation (default 30000).
	TimeoutMS int `json:"timeout_ms"`

	key []byte
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Common: sinks.DefaultCommon(),
		TimeoutMS: int(DefaultTimeout / time.Millisecond)}
}

// Addresses returns the NameNode addresses of a namenode setting.
func Addresses(namenode string) ([]string, error) {
	if strings.TrimSpace(namenode) == "" {
		return nil, fmt.Errorf("namenode is required (\"host:port\" or \"host:port,host:port\"): %w", sinks.ErrConfig)
	}
	var out []string
	for _, a := range strings.Split(namenode, ",") {
		a = strings.TrimSpace(a)
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("namenode %q: address %q: want host:port: %w", namenode, a, sinks.ErrConfig)
		}
		if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("namenode %q: address %q: want host:port with a port in 1..65535: %w", namenode, a, sinks.ErrConfig)
		}
		out = append(out, a)
	}
	return out, nil
}

// Validate checks the config, fills the user's default and loads the
// encryption key.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if err := c.ResolveCompression(&c.Compression); err != nil {
		return err
	}
	if _, err := Addresses(c.NameNode); err != nil {
		return err
	}
	if c.Dir == "" {
		return fmt.Errorf("dir is required (an absolute HDFS path): %w", sinks.ErrConfig)
	}
	if !path.IsAbs(c.Dir) {
		return fmt.Errorf("dir %q: want an absolute HDFS path (starting with /): %w", c.Dir, sinks.ErrConfig)
	}
	c.Dir = path.Clean(c.Dir)
	if c.Replication < 0 || c.Replication > maxReplication {
		return fmt.Errorf("replication %d: want 0 (the cluster's default) to %d: %w", c.Replication, maxReplication, sinks.ErrConfig)
	}
	if c.BlockSize < 0 || c.BlockSize%512 != 0 {
		return fmt.Errorf("block_size %d: want 0 (the cluster's default) or a multiple of 512 bytes: %w", c.BlockSize, sinks.ErrConfig)
	}
	if c.TimeoutMS < 1 {
		return fmt.Errorf("timeout_ms %d: want at least 1: %w", c.TimeoutMS, sinks.ErrConfig)
	}
	if c.User == "" {
		c.User = defaultUser()
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

func defaultUser() string {
	if u := os.Getenv("HADOOP_USER_NAME"); u != "" {
		return u
	}
	return DefaultUser
}

func (c *Config) codec() sinks.Codec { return sinks.Codec{Compression: c.Compression, Key: c.key} }

// Writer returns a Writer for the config (which Validate has checked). It
// connects at its first use.
func (c *Config) Writer() *Writer {
	addrs, _ := Addresses(c.NameNode)
	codec := c.codec()
	user := c.User
	if user == "" {
		user = defaultUser()
	}
	return &Writer{
		Addresses:   addrs,
		User:        user,
		Dir:         path.Clean(c.Dir),
		Naming:      c.Naming(codec.Ext()),
		Codec:       codec,
		Replication: c.Replication,
		BlockSize:   c.BlockSize,
		Timeout:     time.Duration(c.TimeoutMS) * time.Millisecond,
	}
}

// Type is the "hdfs_sink" bolt type.
func Type() registry.Bolt[Config] {
	return sinks.Type(TypeName,
		"writes each batch as one HDFS file (lz4, optionally encrypted), atomically: temporary file, close, rename2 with overwrite",
		NewConfig, func(_ context.Context, c *Config, _ *topology.TaskContext) (sinks.Writer, error) {
			// one writer (one NameNode connection) per task
			return c.Writer(), nil
		})
}

// OpenStore opens the HDFS directory for reading (gale verify).
func (c *Config) OpenStore(context.Context) (io.Closer, error) { return c.Writer(), nil }
