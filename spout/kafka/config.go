package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/schemareg"
	"github.com/gale-stream/gale/topology"
)

// Config is the JSON config of a kafka spout.
type Config struct {
	// Brokers are the bootstrap brokers, e.g. ["127.0.0.1:9092"]. Required.
	Brokers []string `json:"brokers"`
	// Security is the brokers' TLS ("tls") and SASL ("sasl"), for every
	// connection of the spout, its ledger (kind "kafka") included; see
	// package kafkasec. The password comes from sasl.password_env or
	// sasl.password_file: a topology holds no secret.
	kafkasec.Security
	// Topics to read; or TopicPattern.
	Topics []string `json:"topics,omitempty"`
	// TopicPattern is a regular expression: every topic it matches (in full)
	// is read, topics created later included (seen at metadata_refresh).
	TopicPattern string `json:"topic_pattern,omitempty"`
	// Start is where a partition with no ledger history starts: "earliest",
	// "latest", "committed" (the consumer group's committed offset, else
	// earliest; the default) or "timestamp" (the first offset at or after
	// StartTimestamp).
	Start string `json:"start"`
	// StartTimestamp is an RFC 3339 time, for Start "timestamp".
	StartTimestamp string `json:"start_timestamp,omitempty"`
	// Group is the consumer group offsets are committed to (so standard
	// Kafka tools show the lag); default "gale-<topology>-<spout id>".
	Group string `json:"group,omitempty"`
	// Batch limits: a batch is cut when it reaches Records records or Bytes
	// bytes of values, or Time after its first record, whichever comes first.
	Batch BatchLimits `json:"batch"`
	// MaxPendingBatches caps the batches in flight per partition, being
	// planned or emitted (default 4); as many again may be waiting for
	// their commit in the ledger.
	MaxPendingBatches int `json:"max_pending_batches"`
	// Deserializer turns record values into tuple values: "raw" ([]byte),
	// "string" (UTF-8 text; invalid UTF-8 is a poison record), "json"
	// (a JSON document; Fields are extracted from it), or, with the
	// schemas of SchemaRegistry, "avro", "protobuf" or "json_schema"
	// (values in the Confluent wire format; see the package doc).
	Deserializer string `json:"deserializer"`
	// Fields are paths ("user.name", "tags[0]") extracted from the decoded
	// value into tuple fields named by their last element, with the json,
	// avro, protobuf and json_schema deserializers.
	Fields []string `json:"fields,omitempty"`
	// SchemaRegistry is the Confluent-compatible schema registry of the
	// avro, protobuf and json_schema deserializers (required with them).
	SchemaRegistry *schemareg.Config `json:"schema_registry,omitempty"`
	// ReaderSchema is an Avro schema (inline JSON, or a string holding
	// it), for the avro deserializer: every record's writer schema is
	// resolved into it, so that records of several schema versions
	// decode to one shape (fields added with defaults, fields removed).
	ReaderSchema json.RawMessage `json:"reader_schema,omitempty"`
	// DeadLetterTopic receives the records the deserializer rejects, with
	// the error in the "gale.error" header (default "<topic>.dlq").
	DeadLetterTopic string `json:"dead_letter_topic,omitempty"`
	// Ledger is where batch plans are recorded.
	Ledger LedgerConfig `json:"ledger"`
	// Bounded stops the spout once it has read, and committed, every record
	// that existed when it started (a batch job over a topic).
	Bounded bool `json:"bounded,omitempty"`
	// MetadataRefresh is how often the spout looks for added partitions
	// (default 30s).
	MetadataRefresh topology.Duration `json:"metadata_refresh,omitempty"`
	// OnDataLoss is what the spout does when records it has to read are
	// gone from Kafka (its retention deleted them first): "skip" (the
	// default) records the lost offsets in the ledger and goes on from the
	// first record Kafka still has; "fail" stops the partition with an
	// error naming them. See the package doc.
	OnDataLoss string `json:"on_data_loss"`
}

// BatchLimits bound the size of a batch.
type BatchLimits struct {
	Records int               `json:"records"`
	Bytes   int               `json:"bytes"`
	Time    topology.Duration `json:"time"`
	// MaxRecords is how far a batch may grow past Records under load:
	// while the ledger writes the partition's previous plans, or after
	// the partition was held at MaxPendingBatches (its sinks behind), its
	// next batch keeps filling (up to MaxRecords records, Bytes bytes,
	// Time) and is cut when the write returns, so that the ledger's
	// writes and the sinks' objects per record fall as the rate rises.
	// 0 means 10 × Records; Records turns the growth off (batch
	// boundaries then depend on the records only, not on the ledger's or
	// the sinks' pace).
	MaxRecords int `json:"max_records,omitempty"`
	// MaxBytes is how far a batch may grow past Bytes under load, as
	// MaxRecords for records (the batch is cut at MaxRecords or MaxBytes,
	// whichever comes first). 0 means Bytes: no growth in bytes, and
	// batches of large records stop growing at Bytes. A store with a cost
	// per object (HDFS: a NameNode create, a block and a close per file,
	// and every reader's listing) writes fewer, larger objects with it;
	// each partition then holds up to max_pending_batches batches of up to
	// MaxBytes in flight.
	MaxBytes int `json:"max_bytes,omitempty"`
}

// maxRecords is MaxRecords with its default.
func (b BatchLimits) maxRecords() int {
	if b.MaxRecords == 0 {
		return 10 * b.Records
	}
	return b.MaxRecords
}

// maxBytes is MaxBytes with its default.
func (b BatchLimits) maxBytes() int {
	if b.MaxBytes == 0 {
		return b.Bytes
	}
	return b.MaxBytes
}

// LedgerConfig selects the batch ledger store.
type LedgerConfig struct {
	// Kind is "file" (local mode; the default) or "kafka" (production: a
	// compacted topic, fenced with transactional producers). A cluster
	// refuses a file ledger unless it is Shared (see CheckCluster).
	Kind string `json:"kind"`
	// Dir is the file store's directory (default ".gale/ledger").
	Dir string `json:"dir"`
	// Shared declares that Dir, an absolute path, is on a filesystem every
	// worker of a cluster mounts at that path (file ledgers only).
	Shared bool `json:"shared,omitempty"`
	// Topic is the kafka store's topic (default "gale.ledger"), on the
	// spout's brokers, with the spout's tls and sasl; it is created
	// (compacted) when missing.
	Topic string `json:"topic"`
	// Timeout bounds every ledger call (open, plan, commit, lost range;
	// default 10s): a call that takes longer fails, and is retried.
	Timeout topology.Duration `json:"timeout"`
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{
		Start:             "committed",
		Batch:             BatchLimits{Records: 500, Bytes: 1 << 20, Time: topology.Duration(200 * time.Millisecond)},
		MaxPendingBatches: 4,
		Deserializer:      "string",
		Ledger:            LedgerConfig{Kind: "file", Dir: ".gale/ledger", Topic: "gale.ledger", Timeout: topology.Duration(10 * time.Second)},
		MetadataRefresh:   topology.Duration(30 * time.Second),
		OnDataLoss:        "skip",
	}
}

var (
	starts        = []string{"earliest", "latest", "committed", "timestamp"}
	deserializers = []string{"raw", "string", "json", schemareg.Avro, schemareg.Protobuf, schemareg.JSONSchema}
	onDataLoss    = []string{"skip", "fail"}
)

// Validate checks the config.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("brokers: at least one broker is required"))
	}
	if err := c.Security.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch {
	case len(c.Topics) == 0 && c.TopicPattern == "":
		errs = append(errs, errors.New("topics: at least one topic (or a topic_pattern) is required"))
	case len(c.Topics) > 0 && c.TopicPattern != "":
		errs = append(errs, errors.New("topics and topic_pattern: give one of them, not both"))
	case c.TopicPattern != "":
		if _, err := regexp.Compile("^(?:" + c.TopicPattern + ")$"); err != nil {
			errs = append(errs, fmt.Errorf("topic_pattern: %w", err))
		}
	}
	if !slices.Contains(starts, c.Start) {
		errs = append(errs, fmt.Errorf("start: %q is not one of %v", c.Start, starts))
	}
	if c.Start == "timestamp" {
		if _, err := time.Parse(time.RFC3339, c.StartTimestamp); err != nil {
			errs = append(errs, fmt.Errorf("start_timestamp: want an RFC 3339 time: %w", err))
		}
	}
	if c.Batch.Records <= 0 || c.Batch.Bytes <= 0 || c.Batch.Time <= 0 {
		errs = append(errs, errors.New("batch: records, bytes and time must be positive"))
	}
	if c.Batch.MaxRecords != 0 && c.Batch.MaxRecords < c.Batch.Records {
		errs = append(errs, fmt.Errorf("batch.max_records: %d is less than batch.records (%d); set it to records to keep batches at records", c.Batch.MaxRecords, c.Batch.Records))
	}
	if c.Batch.MaxBytes != 0 && c.Batch.MaxBytes < c.Batch.Bytes {
		errs = append(errs, fmt.Errorf("batch.max_bytes: %d is less than batch.bytes (%d); set it to bytes (or leave it out) to keep batches at bytes", c.Batch.MaxBytes, c.Batch.Bytes))
	}
	if c.MetadataRefresh <= 0 {
		errs = append(errs, errors.New("metadata_refresh must be positive"))
	}
	if c.MaxPendingBatches <= 0 {
		errs = append(errs, errors.New("max_pending_batches must be positive"))
	}
	if !slices.Contains(deserializers, c.Deserializer) {
		errs = append(errs, fmt.Errorf("deserializer: %q is not one of %v", c.Deserializer, deserializers))
	}
	if len(c.Fields) > 0 && !slices.Contains(fieldDeserializers, c.Deserializer) {
		errs = append(errs, errors.New("fields: only with the json, avro, protobuf and json_schema deserializers"))
	}
	errs = append(errs, c.validateRegistry()...)
	switch c.Ledger.Kind {
	case "file":
		switch {
		case c.Ledger.Dir == "":
			errs = append(errs, errors.New("ledger.dir must not be empty"))
		case c.Ledger.Shared && !filepath.IsAbs(c.Ledger.Dir):
			errs = append(errs, fmt.Errorf("ledger.dir: a shared ledger needs an absolute directory (the same on every worker), got %q", c.Ledger.Dir))
		}
	case "kafka":
		if c.Ledger.Topic == "" {
			errs = append(errs, errors.New("ledger.topic must not be empty"))
		}
		if c.Ledger.Shared {
			errs = append(errs, errors.New("ledger.shared: only for a file ledger (a kafka ledger is shared by nature)"))
		}
	default:
		errs = append(errs, fmt.Errorf("ledger.kind: %q is not one of [file kafka]", c.Ledger.Kind))
	}
	if c.Ledger.Timeout <= 0 {
		errs = append(errs, errors.New("ledger.timeout must be positive"))
	}
	if !slices.Contains(onDataLoss, c.OnDataLoss) {
		errs = append(errs, fmt.Errorf("on_data_loss: %q is not one of %v", c.OnDataLoss, onDataLoss))
	}
	return errors.Join(errs...)
}

// fieldDeserializers are those Fields work with: their values are
// documents (maps, lists).
var fieldDeserializers = []string{"json", schemareg.Avro, schemareg.Protobuf, schemareg.JSONSchema}

// usesRegistry reports whether the deserializer reads the Confluent wire
// format with a schema registry.
func (c *Config) usesRegistry() bool { return slices.Contains(schemareg.Formats, c.Deserializer) }

// readerSchema is ReaderSchema as schema text: a JSON string holds it,
// anything else is it.
func (c *Config) readerSchema() (string, error) {
	raw := bytes.TrimSpace(c.ReaderSchema)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	return string(raw), nil
}

// validateRegistry checks schema_registry and reader_schema.
func (c *Config) validateRegistry() []error {
	var errs []error
	if !c.usesRegistry() {
		if c.SchemaRegistry != nil {
			errs = append(errs, errors.New("schema_registry: only with the avro, protobuf and json_schema deserializers"))
		}
		if len(c.ReaderSchema) > 0 {
			errs = append(errs, errors.New("reader_schema: only with the avro deserializer"))
		}
		return errs
	}
	if c.SchemaRegistry == nil {
		errs = append(errs, fmt.Errorf("schema_registry: required with the %s deserializer (its url at least)", c.Deserializer))
	} else if err := c.SchemaRegistry.ValidateAt("schema_registry"); err != nil {
		errs = append(errs, err)
	}
	rs, err := c.readerSchema()
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("reader_schema: %w", err))
	case rs != "" && c.Deserializer != schemareg.Avro:
		errs = append(errs, errors.New("reader_schema: only with the avro deserializer"))
	case rs != "":
		if _, err := schemareg.ParseAvro(rs); err != nil {
			errs = append(errs, fmt.Errorf("reader_schema: not an Avro schema: %w", err))
		}
	}
	return errs
}

var _ topology.ClusterChecker = (*Config)(nil)

// CheckCluster refuses, in a cluster, a file ledger that is not declared
// shared: it lives on the disk of the worker that runs the spout task, so
// when a partition moves to another worker (a failure, a rebalance) its
// new owner finds an empty ledger, cuts new batch boundaries and writes
// different objects — duplicates and mismatches in every sink. The error
// is a *topology.FieldError at "ledger.kind" wrapping ErrLocalLedger.
func (c *Config) CheckCluster() error {
	if c.Ledger.Kind != "file" || c.Ledger.Shared {
		return nil
	}
	return &topology.FieldError{Path: "ledger.kind", Err: ErrLocalLedger,
		Msg: `a file ledger lives on one worker's disk; in a cluster use {"kind": "kafka"} ` +
			`(or a directory on a filesystem every worker shares, with "shared": true and an absolute "dir")`}
}

// outputFields are the fields of the spout's tuples for c.
func (c *Config) outputFields() []string {
	f := []string{"topic", "partition", "offset", "key", "value", "timestamp", "headers"}
	for _, p := range c.Fields {
		f = append(f, fieldName(p))
	}
	return f
}

// LedgerReader opens the spout's ledger store for reading only (gale
// verify): it never fences the running spout.
func (c *Config) LedgerReader() (ledger.Reader, func() error, error) {
	if c.Ledger.Kind == "kafka" {
		s, err := ledger.NewKafkaStore(c.Brokers, c.Ledger.Topic, ledger.WithSecurity(c.Security))
		if err != nil {
			return nil, nil, unreachable(err)
		}
		return s, s.Close, nil
	}
	s, err := ledger.NewFileStore(c.Ledger.Dir)
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}
