package hdfs_test

import (
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks/hdfs"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// TestConformance: the HDFS sink passes the suite every sink passes,
// against the testenv NameNode; each run's directory holds exactly the
// inventory's files (no temporary file is left, nothing is written
// beside), read back with a client of their own.
func TestConformance(t *testing.T) {
	sinktest.Conformance(t, backend(t))
}

// TestFormats: the sink writes Avro and Parquet objects through the real
// sink path (sinktest.Formats), checked as by TestConformance.
func TestFormats(t *testing.T) {
	sinktest.Formats(t, backend(t))
}

// backend is the backend of the suites: the sink's config for a place, and
// the check of what a run left there.
func backend(t *testing.T) sinktest.Backend[hdfs.Config] {
	raw := rawClient(t)
	nn := testenv.HDFSNameNode(t)
	base := testDir(t, raw)
	return sinktest.Backend[hdfs.Config]{
		Type: hdfs.Type(),
		Config: func(t testing.TB, place string) map[string]any {
			return map[string]any{"namenode": nn, "dir": base + "/" + place, "timeout_ms": 10000}
		},
		Check: func(t testing.TB, place string, got sinktest.Stored) {
			files := listAll(t, raw, base+"/"+place)
			if tmps := temporaries(files); len(tmps) != 0 {
				t.Errorf("%s: temporary files left: %v", place, tmps)
			}
			for name, data := range files {
				if string(got.Raw[name]) != string(data) {
					t.Errorf("%s: %s (%d bytes) is not in the sink's inventory with those bytes", place, name, len(data))
				}
			}
			if len(files) != len(got.Raw) {
				t.Errorf("%s: %d files, the inventory lists %d", place, len(files), len(got.Raw))
			}
		},
	}
}
