package hdfs_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/hdfs"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// hdfsRun runs the test topology into dir with the real hdfs_sink type.
func hdfsRun(t *testing.T, r *sinktest.Run, nn, dir string) {
	t.Helper()
	sinktest.Start(r, t, "sinktest", hdfs.Type(), fmt.Sprintf(`{"namenode": %q, "dir": %q, "field": "value", "time_partition": "hour",
	    "timeout_ms": 10000, "min_backoff_ms": 5, "max_backoff_ms": 20, "dead_letter_dir": %q}`, nn, dir, t.TempDir()))
}

// TestTopologyReplaysAreIdentical: a run with failed tuples (batch
// replays) and failed writes (retries) leaves in HDFS exactly the files of
// a clean run, byte for byte, compared through the sink's Inventory; every
// record is in them once, in its hour, in offset order; no temporary file
// is left.
func TestTopologyReplaysAreIdentical(t *testing.T) {
	raw := rawClient(t)
	nn := testenv.HDFSNameNode(t)
	base := testDir(t, raw)
	cleanDir, chaosDir := base+"/clean", base+"/chaos"
	clean := &sinktest.Run{}
	hdfsRun(t, clean, nn, cleanDir)
	chaos := &sinktest.Run{FailOnce: sinktest.Chaos, WriteFails: 5}
	hdfsRun(t, chaos, nn, chaosDir)
	sinktest.CheckChaos(t, clean, chaos)

	ctx := context.Background()
	inventory := func(dir string) (*hdfs.Writer, []string) {
		c := hdfs.NewConfig()
		c.NameNode, c.Dir, c.TimePartition, c.Field = nn, dir, sinks.PartitionHour, "value"
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		w := c.Writer()
		t.Cleanup(func() { w.Close() })
		names, err := w.Objects(ctx, "sinktest")
		if err != nil {
			t.Fatal(err)
		}
		if tmps := temporaries(listAll(t, raw, dir)); len(tmps) != 0 {
			t.Errorf("%s: temporary files left: %v", dir, tmps)
		}
		return w, names
	}
	wa, a := inventory(cleanDir)
	wb, b := inventory(chaosDir)
	if len(a) == 0 {
		t.Fatal("the clean run wrote nothing")
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("the runs wrote different files:\nclean %v\nchaos %v", a, b)
	}
	decoded := map[string][]byte{}
	for _, name := range a {
		da, err := wa.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		db, err := wb.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between the clean and the chaos run (%d vs %d bytes)", name, len(da), len(db))
		}
		if !strings.HasPrefix(name, "sinktest/ev/dt=") || !strings.HasSuffix(name, ".jsonl.lz4") {
			t.Errorf("unexpected name %s", name)
		}
		if m, ok := sinks.ParseName(name, ".jsonl.lz4"); !ok || m.Source != "ev" {
			t.Errorf("%s does not parse back to a batch", name)
		}
		content, err := wa.Read(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		decoded[name] = content
	}
	sinktest.CheckRecords(t, decoded)
}
