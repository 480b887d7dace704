package stateful

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/kvlog"
	"github.com/gale-stream/gale/internal/suggest"
	"github.com/gale-stream/gale/topology"
)

// StoreConfig selects where a stateful bolt keeps its state, like the
// Kafka spout's ledger: a directory (local mode) or a compacted Kafka topic
// written by fenced transactional producers (a cluster).
type StoreConfig struct {
	// Kind is "file" (the default; local mode) or "kafka".
	Kind string `json:"kind"`
	// Dir is the file store's directory (default ".gale/state").
	Dir string `json:"dir,omitempty"`
	// Shared declares that Dir, an absolute path, is on a filesystem every
	// worker of a cluster mounts at that path (file stores only).
	Shared bool `json:"shared,omitempty"`
	// Brokers are the Kafka store's bootstrap brokers.
	Brokers []string `json:"brokers,omitempty"`
	// Security is the brokers' TLS ("tls") and SASL ("sasl").
	kafkasec.Security
	// Topic is the Kafka store's topic (default "gale.state"), created
	// compacted when missing. Topologies and bolts share it: their keys
	// start with the topology's and the component's names.
	Topic string `json:"topic,omitempty"`
	// Timeout bounds each write of a batch's state (default 10s); a write
	// that takes longer fails the batch, which is replayed.
	Timeout topology.Duration `json:"timeout,omitempty"`
}

// ErrLocalStore is the error of CheckCluster: a file store that is not
// shared.
var ErrLocalStore = errors.New("a file state store lives on one worker's disk")

// withDefaults fills the zero fields.
func (c StoreConfig) withDefaults() StoreConfig {
	if c.Kind == "" {
		c.Kind = "file"
	}
	if c.Dir == "" {
		c.Dir = filepath.Join(".gale", "state")
	}
	if c.Topic == "" {
		c.Topic = "gale.state"
	}
	if c.Timeout <= 0 {
		c.Timeout = topology.Duration(10 * time.Second)
	}
	return c
}

// Validate checks the settings; its errors are *topology.FieldError with
// paths relative to the store's settings.
func (c StoreConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	switch c.Kind {
	case "file":
		if c.Shared && !filepath.IsAbs(c.Dir) {
			errs = append(errs, &topology.FieldError{Path: "dir", Msg: fmt.Sprintf("a shared store needs an absolute directory (the same on every worker), got %q", c.Dir)})
		}
	case "kafka":
		if len(c.Brokers) == 0 {
			errs = append(errs, &topology.FieldError{Path: "brokers", Msg: "a kafka store needs at least one broker"})
		}
		if c.Shared {
			errs = append(errs, &topology.FieldError{Path: "shared", Msg: "only for a file store (a kafka store is shared by nature)"})
		}
		if err := c.Security.Validate(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, &topology.FieldError{Path: "kind", Msg: fmt.Sprintf("%q is not one of [file kafka]%s", c.Kind, suggest.DidYouMean(c.Kind, []string{"file", "kafka"}))})
	}
	return errors.Join(errs...)
}

// CheckCluster refuses, in a cluster, a file store that is not shared: a
// task that moves to another worker would find an empty state there.
func (c StoreConfig) CheckCluster() error {
	c = c.withDefaults()
	if c.Kind != "file" || c.Shared {
		return nil
	}
	return &topology.FieldError{Path: "kind", Err: ErrLocalStore,
		Msg: `a file state store lives on one worker's disk; in a cluster use {"kind": "kafka", "brokers": [...]} ` +
			`(or a directory every worker shares, with "shared": true and an absolute "dir")`}
}

// String names the store in messages (no secrets).
func (c StoreConfig) String() string {
	c = c.withDefaults()
	if c.Kind == "kafka" {
		return fmt.Sprintf("kafka topic %s on %s", c.Topic, strings.Join(c.Brokers, ","))
	}
	return "directory " + c.Dir
}

// The tasks of a process share one Log per store: a Kafka log keeps a view
// of the whole topic, which each task would otherwise hold again.
var shared = struct {
	sync.Mutex
	logs map[string]*sharedLog
}{logs: map[string]*sharedLog{}}

type sharedLog struct {
	log  kvlog.Log
	refs int
}

// open returns the process's Log for c and the function that releases it.
func (c StoreConfig) open(ctx context.Context) (kvlog.Log, func(), error) {
	c = c.withDefaults()
	key := c.Kind + "\x00" + c.Dir
	if c.Kind == "kafka" {
		key = c.Kind + "\x00" + c.Topic + "\x00" + strings.Join(c.Brokers, ",")
	}
	shared.Lock()
	defer shared.Unlock()
	s := shared.logs[key]
	if s == nil {
		var l kvlog.Log
		var err error
		if c.Kind == "kafka" {
			cfg := kvlog.DefaultKafkaConfig(c.Brokers, c.Topic)
			cfg.Security = c.Security
			cfg.ClientID = "gale-state"
			l, err = kvlog.OpenKafka(ctx, cfg)
		} else {
			l, err = kvlog.OpenFile(c.Dir)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("open state store (%s): %w", c, err)
		}
		s = &sharedLog{log: l}
		shared.logs[key] = s
	}
	s.refs++
	var once sync.Once
	return s.log, func() {
		once.Do(func() {
			shared.Lock()
			defer shared.Unlock()
			if s.refs--; s.refs == 0 {
				delete(shared.logs, key)
				s.log.Close()
			}
		})
	}, nil
}
