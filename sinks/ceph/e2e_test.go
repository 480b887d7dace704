//go:build ceph

package ceph

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// cephRun runs the test topology into the pool's namespace ns with the
// real ceph_sink type.
func cephRun(t *testing.T, r *sinktest.Run, pool, ns string) {
	t.Helper()
	sinktest.Start(r, t, "cephtest", Type(), fmt.Sprintf(`{"conf_file": %q, "pool": %q, "namespace": %q, "prefix": "gale", "field": "value",
	    "time_partition": "hour", "min_backoff_ms": 5, "max_backoff_ms": 20, "dead_letter_dir": %q}`,
		testenv.CephConf(t), pool, ns, filepath.Join(t.TempDir(), "dlq")))
}

// TestCephSinkReplaysAreIdentical: a run with failed tuples (batch
// replays) and failed writes (retries) leaves exactly the objects of a
// clean run, byte for byte, as the Inventory reads them; every record is
// in them once.
func TestCephSinkReplaysAreIdentical(t *testing.T) {
	conn := adminConn(t)
	pool := tempPool(t, conn)
	clean := &sinktest.Run{}
	cephRun(t, clean, pool, "clean")
	chaos := &sinktest.Run{FailOnce: sinktest.Chaos, WriteFails: 5}
	cephRun(t, chaos, pool, "chaos")
	sinktest.CheckChaos(t, clean, chaos)

	inventory := func(ns string) (*Writer, []string, map[string][]byte) {
		c := testConfig(t, pool, ns)
		c.Prefix, c.TimePartition = "gale", sinks.PartitionHour
		w := openWriter(t, c)
		var inv sinks.Inventory = w
		names, err := inv.Objects(context.Background(), "cephtest")
		if err != nil {
			t.Fatal(err)
		}
		content := map[string][]byte{}
		for _, n := range names {
			if content[n], err = inv.Read(context.Background(), n); err != nil {
				t.Fatal(err)
			}
		}
		return w, names, content
	}
	wa, namesA, a := inventory("clean")
	wb, namesB, b := inventory("chaos")
	if len(namesA) == 0 {
		t.Fatal("the clean run wrote nothing")
	}
	t.Logf("%d objects; chaos run: %d failed batches, %d write retries", len(namesA), chaos.SpoutFails.Load(), chaos.SinkRetries)
	if !slices.Equal(namesA, namesB) {
		t.Fatalf("the runs wrote different objects:\nclean %v\nchaos %v", namesA, namesB)
	}
	if !maps.EqualFunc(a, b, bytes.Equal) {
		for n := range a {
			if !bytes.Equal(a[n], b[n]) {
				t.Errorf("%s: content differs between the clean and the chaos run (%d vs %d bytes)", n, len(a[n]), len(b[n]))
			}
		}
	}
	// the stored bytes too (the names are equal, so the lz4 frames are);
	// and nothing but these objects (no parts, no leftovers)
	rawA, rawB := rawObjects(t, wa), rawObjects(t, wb)
	if !maps.EqualFunc(rawA, rawB, bytes.Equal) || len(rawA) != len(namesA) {
		t.Fatalf("stored objects differ: clean %d objects, chaos %d, inventory %d", len(rawA), len(rawB), len(namesA))
	}

	// every record once, in the right hour, in offset order; the xattrs
	// name the batch the object's name encodes
	decoded := map[string][]byte{}
	for _, name := range namesA {
		if !strings.HasPrefix(name, "gale/cephtest/ev/dt=2026-11-27/hh=") || !strings.HasSuffix(name, ".jsonl.lz4") {
			t.Errorf("unexpected object %s", name)
			continue
		}
		m, ok := sinks.ParseName(name, ".jsonl.lz4")
		if attrs := xattrs(t, wa, name); !ok || attrs[XattrBatch] != m.ID {
			t.Errorf("%s: %s=%q, the name says %q", name, XattrBatch, attrs[XattrBatch], m.ID)
		}
		decoded[name] = a[name]
	}
	sinktest.CheckRecords(t, decoded)
}
