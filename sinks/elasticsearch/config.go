package elasticsearch

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/topology"
)

// TypeName is the component type name of the sink.
const TypeName = "es_sink"

// Defaults.
const (
	DefaultBulkMaxDocs      = 1000
	DefaultBulkMaxBytes     = 5 << 20
	DefaultRequestTimeoutMS = 30000
)

// Config configures the "es_sink" type (see the package doc).
type Config struct {
	sinks.Common
	// URLs are the cluster's base URLs (required).
	URLs []string `json:"urls"`
	// Username, when set, authenticates with HTTP basic auth, with the
	// password read from the environment variable PasswordEnv or the file
	// PasswordFile — never from the topology, which the cluster stores and
	// the API shows. A "password" field is refused.
	Username     string `json:"username,omitempty"`
	PasswordEnv  string `json:"password_env,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
	// Password is refused when set (see Username).
	Password string `json:"password,omitempty"`
	// Index is the index name, or a pattern with one Go time layout in
	// braces filled from each record's timestamp: "logs-{2006.01.02}".
	Index string `json:"index"`
	// CreateIndex: true (default) lets missing indices be created (by
	// auto-creation, or explicitly); false makes a missing index an error.
	CreateIndex bool `json:"create_index"`
	// BulkMaxDocs and BulkMaxBytes bound one _bulk request (defaults 1000
	// documents, 5 MiB of body; a single larger document goes alone).
	BulkMaxDocs  int `json:"bulk_max_docs"`
	BulkMaxBytes int `json:"bulk_max_bytes"`
	// RequestTimeoutMS bounds one request (default 30000).
	RequestTimeoutMS int `json:"request_timeout_ms"`

	pattern IndexPattern
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Common: sinks.DefaultCommon(), CreateIndex: true, BulkMaxDocs: DefaultBulkMaxDocs,
		BulkMaxBytes: DefaultBulkMaxBytes, RequestTimeoutMS: DefaultRequestTimeoutMS}
}

// Validate checks the config.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.Format != sinks.FormatJSON {
		return fmt.Errorf("%s: format %q: want %q (each record is one JSON document): %w", TypeName, c.Format, sinks.FormatJSON, sinks.ErrConfig)
	}
	if c.TimePartition != sinks.PartitionNone {
		return fmt.Errorf("%s: time_partition is not used: put a date pattern in the index name, e.g. \"logs-{2006.01.02}\": %w", TypeName, sinks.ErrConfig)
	}
	if c.Prefix != "" {
		return fmt.Errorf("%s: prefix is not used (the index names the documents): %w", TypeName, sinks.ErrConfig)
	}
	if len(c.URLs) == 0 {
		return fmt.Errorf("%s: urls is required: %w", TypeName, sinks.ErrConfig)
	}
	if err := c.checkCredentials(); err != nil {
		return err
	}
	for _, s := range c.URLs {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: url %q: want http(s)://host:port: %w", TypeName, s, sinks.ErrConfig)
		}
	}
	p, err := ParseIndex(c.Index)
	if err != nil {
		return fmt.Errorf("%s: %w", TypeName, err)
	}
	c.pattern = p
	if c.BulkMaxDocs < 1 {
		return fmt.Errorf("%s: bulk_max_docs %d: want at least 1: %w", TypeName, c.BulkMaxDocs, sinks.ErrConfig)
	}
	if c.BulkMaxBytes < 1 {
		return fmt.Errorf("%s: bulk_max_bytes %d: want at least 1: %w", TypeName, c.BulkMaxBytes, sinks.ErrConfig)
	}
	if c.RequestTimeoutMS < 1 {
		return fmt.Errorf("%s: request_timeout_ms %d: want at least 1: %w", TypeName, c.RequestTimeoutMS, sinks.ErrConfig)
	}
	return nil
}

func (c *Config) checkCredentials() error {
	field := func(name, format string, args ...any) error {
		err := fmt.Errorf("%s: %s: %w", TypeName, fmt.Sprintf(format, args...), sinks.ErrConfig)
		return &topology.FieldError{Path: name, Msg: err.Error(), Err: err}
	}
	switch {
	case c.Password != "":
		return field("password", "a password in the topology is stored by the cluster and shown by its API: "+
			"give password_env (an environment variable of the workers) or password_file")
	case c.PasswordEnv != "" && c.PasswordFile != "":
		return field("password_env", "give password_env or password_file, not both")
	case (c.PasswordEnv != "" || c.PasswordFile != "") && c.Username == "":
		return field("username", "a password needs a username")
	}
	return nil
}

// password reads the password from password_env or password_file ("" when
// neither is set).
func (c *Config) password() (string, error) {
	switch {
	case c.PasswordEnv != "":
		v, ok := os.LookupEnv(c.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("%s: password_env: $%s is not set: %w", TypeName, c.PasswordEnv, sinks.ErrConfig)
		}
		return v, nil
	case c.PasswordFile != "":
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("%s: password_file: %w", TypeName, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// RequestTimeout returns request_timeout_ms as a duration.
func (c *Config) RequestTimeout() time.Duration {
	return time.Duration(c.RequestTimeoutMS) * time.Millisecond
}

// Type is the "es_sink" bolt type.
func Type() registry.Bolt[Config] {
	return sinks.Type(TypeName,
		"indexes each record as one JSON document (_id = tuple id, _bulk index action: replays overwrite identically) into an Elasticsearch-API cluster; the index may hold a date pattern, logs-{2006.01.02}",
		NewConfig, func(_ context.Context, c *Config, _ *topology.TaskContext) (sinks.Writer, error) {
			return NewWriter(c)
		})
}

// OpenStore opens the cluster for reading the documents (gale verify).
func (c *Config) OpenStore(context.Context) (io.Closer, error) { return NewWriter(c) }
