package hdfs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/hdfs"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
)

// TestConfig: the config's defaults and every check of Validate, through
// the same decoding a topology file goes through.
func TestConfig(t *testing.T) {
	typ, err := registry.Describe(hdfs.Type())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("HADOOP_USER_NAME", "")
	t.Setenv("GALE_SINK_KEY", strings.Repeat("ab", 32))

	good := `{"namenode": "127.0.0.1:9000", "dir": "/gale//out/"}`
	s, err := typ.DecodeSettings([]byte(good), "config")
	if err != nil {
		t.Fatalf("good config: %v", err)
	}
	c := s.(*hdfs.Config)
	if c.User != hdfs.DefaultUser || c.Dir != "/gale/out" || c.Compression != sinks.CompressionLZ4 || c.TimeoutMS != 30000 ||
		c.Replication != 0 || c.BlockSize != 0 {
		t.Errorf("defaults: %+v", c)
	}
	w := c.Writer()
	if w.Naming.Ext != ".jsonl.lz4" || w.User != "gale" || len(w.Addresses) != 1 {
		t.Errorf("writer: ext %q user %q addresses %v", w.Naming.Ext, w.User, w.Addresses)
	}

	t.Setenv("HADOOP_USER_NAME", "hadoopuser")
	s, err = typ.DecodeSettings([]byte(`{"namenode": "nn1:8020, nn2:8020", "dir": "/x", "encryption": {},
		"compression": "none", "replication": 3, "block_size": 1048576}`), "config")
	if err != nil {
		t.Fatalf("HA config: %v", err)
	}
	c = s.(*hdfs.Config)
	w = c.Writer()
	if c.User != "hadoopuser" || strings.Join(w.Addresses, ",") != "nn1:8020,nn2:8020" || w.Naming.Ext != ".jsonl.enc" ||
		w.Replication != 3 || w.BlockSize != 1<<20 || len(w.Codec.Key) != sinks.KeySize {
		t.Errorf("HA config: user %q addresses %v ext %q replication %d block size %d", c.User, w.Addresses, w.Naming.Ext, w.Replication, w.BlockSize)
	}

	for _, bad := range []struct{ json, want string }{
		{`{"dir": "/x"}`, "namenode is required"},
		{`{"namenode": "nn", "dir": "/x"}`, "want host:port"},
		{`{"namenode": "nn:0", "dir": "/x"}`, "port in 1..65535"},
		{`{"namenode": "nn:9000,", "dir": "/x"}`, "want host:port"},
		{`{"namenode": "nn:9000"}`, "dir is required"},
		{`{"namenode": "nn:9000", "dir": "out"}`, "absolute"},
		{`{"namenode": "nn:9000", "dir": "/x", "replication": -1}`, "replication -1"},
		{`{"namenode": "nn:9000", "dir": "/x", "block_size": 1000}`, "multiple of 512"},
		{`{"namenode": "nn:9000", "dir": "/x", "timeout_ms": 0}`, "timeout_ms"},
		{`{"namenode": "nn:9000", "dir": "/x", "compression": "gzip"}`, "compression"},
		{`{"namenode": "nn:9000", "dir": "/x", "time_partition": "week"}`, "time_partition"},
		{`{"namenode": "nn:9000", "dir": "/x", "encryption": {"key_env": "GALE_TEST_NO_SUCH_KEY"}}`, "encryption key"},
	} {
		_, err := typ.DecodeSettings([]byte(bad.json), "config")
		if err == nil || !strings.Contains(err.Error(), bad.want) || !errors.Is(err, sinks.ErrConfig) {
			t.Errorf("%s: %v, want an ErrConfig containing %q", bad.json, err, bad.want)
		}
	}

	// a whole topology naming the type
	js := `{"name": "t", "spouts": [{"id": "s", "type": "src"}],
	  "bolts": [{"id": "h", "type": "hdfs_sink", "inputs": [{"component": "s"}],
	             "config": {"namenode": "127.0.0.1:9000", "dir": "/gale/t", "field": "value"}}]}`
	reg := registry.New()
	reg.MustRegister(hdfs.Type(), registry.Spout[registry.NoConfig]{Name: "src",
		Outputs: registry.Emits("value", "timestamp"),
		New:     func(*registry.NoConfig) (spout.Spout, error) { return nil, errors.New("not run") }})
	if _, err := topology.Decode([]byte(js), reg); err != nil {
		t.Errorf("topology with hdfs_sink: %v", err)
	}
}
