//go:build ceph

package ceph

import (
	"bytes"
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// TestConformance: the Ceph sink passes the suite every sink passes,
// against the testenv cluster, each run in a namespace of its own; the
// namespace holds exactly the inventory's objects with those bytes (no
// part or leftover beside them), and each object's gale.batch xattr names
// the batch its name encodes.
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
func backend(t *testing.T) sinktest.Backend[Config] {
	conn := adminConn(t)
	pool := tempPool(t, conn)
	return sinktest.Backend[Config]{
		Type: Type(),
		Config: func(t testing.TB, place string) map[string]any {
			return map[string]any{"conf_file": testenv.CephConf(t), "pool": pool, "namespace": place, "prefix": "gale"}
		},
		Check: func(t testing.TB, place string, got sinktest.Stored) {
			c := testConfig(t, pool, place)
			w := openWriter(t, c)
			raw := rawObjects(t, w)
			for name, data := range raw {
				if !bytes.Equal(got.Raw[name], data) {
					t.Errorf("%s: object %s (%d bytes) is not in the sink's inventory with those bytes", place, name, len(data))
				}
			}
			if len(raw) != len(got.Raw) {
				t.Errorf("%s: %d objects, the inventory lists %d", place, len(raw), len(got.Raw))
			}
			for name := range got.Raw {
				m, ok := sinks.ParseName(name, "")
				if attrs := xattrs(t, w, name); !ok || attrs[XattrBatch] != m.ID {
					t.Errorf("%s: %s=%q, the name says %q", name, XattrBatch, attrs[XattrBatch], m.ID)
				}
			}
		},
	}
}
