package s3

import (
	"bytes"
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

// s3Run runs the test topology into bucket with the real s3_sink type,
// configured the way a topology file is.
func s3Run(t *testing.T, r *sinktest.Run, bucket string) {
	t.Helper()
	env := testenv.S3(t)
	r.Start(t, "s3test", Type(), fmt.Sprintf(`{"endpoint": %q, "region": %q, "bucket": %q, "prefix": "gale",
	    "access_key_env": %q, "secret_key_env": %q, "field": "value", "time_partition": "hour",
	    "min_backoff_ms": 5, "max_backoff_ms": 20, "dead_letter_dir": %q}`,
		env.Endpoint, env.Region, bucket, testenv.S3AccessKeyVar, testenv.S3SecretKeyVar, filepath.Join(t.TempDir(), "dlq")))
}

// TestS3SinkReplaysAreIdentical: a run with failed tuples (batch replays)
// and failed writes (retries) leaves exactly the objects of a clean run,
// byte for byte (two buckets, compared key by key with a client of the
// test's own, and through the Inventory); every record is in them once;
// no upload is left in progress.
func TestS3SinkReplaysAreIdentical(t *testing.T) {
	raw := rawClient(t)
	cleanBucket, chaosBucket := tempBucket(t, raw), tempBucket(t, raw)
	clean := &sinktest.Run{}
	s3Run(t, clean, cleanBucket)
	chaos := &sinktest.Run{FailOnce: sinktest.Chaos, WriteFails: 5}
	s3Run(t, chaos, chaosBucket)
	sinktest.CheckChaos(t, clean, chaos)

	inventory := func(bucket string) ([]string, map[string][]byte) {
		c := testConfig(t, bucket)
		c.Prefix, c.TimePartition = "gale", sinks.PartitionHour
		return sinktest.ReadAll(t, openWriter(t, c), "s3test")
	}
	namesA, a := inventory(cleanBucket)
	namesB, b := inventory(chaosBucket)
	if len(namesA) == 0 {
		t.Fatal("the clean run wrote nothing")
	}
	t.Logf("%d objects; chaos run: %d failed batches, %d write retries", len(namesA), chaos.SpoutFails.Load(), chaos.SinkRetries)
	if !slices.Equal(namesA, namesB) {
		t.Fatalf("the runs wrote different objects:\nclean %v\nchaos %v", namesA, namesB)
	}
	if !maps.EqualFunc(a, b, bytes.Equal) {
		t.Fatal("the decoded contents differ between the clean and the chaos run")
	}
	// the stored bytes too, and nothing but these objects
	rawA, rawB := rawObjects(t, raw, cleanBucket), rawObjects(t, raw, chaosBucket)
	if !maps.EqualFunc(rawA, rawB, bytes.Equal) || len(rawA) != len(namesA) {
		t.Fatalf("stored objects differ: clean %d objects, chaos %d, inventory %d", len(rawA), len(rawB), len(namesA))
	}
	for _, bucket := range []string{cleanBucket, chaosBucket} {
		if u := uploads(t, raw, bucket); len(u) != 0 {
			t.Errorf("%s: %d uploads in progress", bucket, len(u))
		}
	}
	// every record once, in its hour, in offset order; the metadata name
	// the batch the key encodes
	for _, name := range namesA {
		if !strings.HasPrefix(name, "gale/s3test/ev/dt=2026-11-27/hh=") || !strings.HasSuffix(name, ".jsonl.lz4") {
			t.Errorf("unexpected object %s", name)
		}
		m, ok := sinks.ParseName(name, ".jsonl.lz4")
		if got := head(t, raw, cleanBucket, name).Metadata[MetaPrefix+sinks.MetaBatch]; !ok || got != m.ID {
			t.Errorf("%s: gale-batch %q, the name says %q", name, got, m.ID)
		}
	}
	sinktest.CheckRecords(t, a)
}
