package kafka_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/local"
)

// TestSpout_BatchesGrowWhileTheLedgerWrites: with a ledger whose writes
// of plans take 40 ms, a partition's next batch keeps filling while the
// previous plans are written — past batch.records, never past
// batch.max_records — and the batches still tile the partition, each
// emitted once. With max_records equal to records the batches are cut
// at records exactly, however slow the ledger.
func TestSpout_BatchesGrowWhileTheLedgerWrites(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	const count, records = 2000, 10
	topic, perPart := newTopic(t, brokers, 1, count, func(i int) string { return fmt.Sprintf("record %d", i) })
	for _, maxRecords := range []int{100, records} {
		t.Run(fmt.Sprintf("max_records=%d", maxRecords), func(t *testing.T) {
			store := &faultyStore{commits: map[string]int{}, before: func(ctx context.Context, op string, _ ledger.Key, _ uint64) error {
				if op == "plan" {
					select {
					case <-time.After(40 * time.Millisecond):
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return nil
			}}
			r := newRecorder(0)
			topo := faultyTopology(t, store, r, map[string]any{
				"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
				"group":  fmt.Sprintf("gale-kafka-test-grow-%d", maxRecords),
				"batch":  map[string]any{"records": records, "max_records": maxRecords, "time": "1h"},
				"ledger": map[string]any{"dir": t.TempDir()},
			})
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			if _, err := local.Run(ctx, topo, local.Options{}); err != nil || ctx.Err() != nil {
				t.Fatalf("run: %v (ctx %v)", err, ctx.Err())
			}
			grown := checkBatchSizes(t, r, perPart[0], records, maxRecords)
			if maxRecords > records && grown == 0 {
				t.Errorf("no batch grew past %d records while the ledger wrote for 40 ms per plan", records)
			}
		})
	}
}

// checkBatchSizes checks that r's batches (of one partition of count
// records) were each emitted once and tile the partition, none larger
// than maxRecords, all of records when maxRecords is records (but the
// last); it returns how many grew past records.
func checkBatchSizes(t *testing.T, r *recorder, count int64, records, maxRecords int) (grown int) {
	t.Helper()
	// the batches in seq order: sizes, and the offsets they cover
	type batch struct {
		seq   int
		first int64
		size  int
	}
	var bs []batch
	for id, attempts := range r.attempts {
		if len(attempts) != 1 {
			t.Errorf("batch %s emitted %d times, want once", id, len(attempts))
		}
		seq, err := strconv.Atoi(id[strings.LastIndexByte(id, '/')+1:])
		if err != nil {
			t.Fatalf("batch id %q: %v", id, err)
		}
		ids := attempts[0]
		first, _ := strconv.ParseInt(ids[0][strings.LastIndexByte(ids[0], '/')+1:], 10, 64)
		bs = append(bs, batch{seq, first, len(ids)})
	}
	slices.SortFunc(bs, func(a, b batch) int { return a.seq - b.seq })
	var next int64
	largest := 0
	for i, b := range bs {
		if b.seq != i || b.first != next {
			t.Fatalf("batch %d (seq %d) starts at offset %d, want seq %d at %d: the batches do not tile the partition", i, b.seq, b.first, i, next)
		}
		next += int64(b.size)
		largest = max(largest, b.size)
		if b.size > records {
			grown++
		}
		if b.size > maxRecords {
			t.Errorf("batch %d has %d records, more than max_records (%d)", b.seq, b.size, maxRecords)
		}
		if maxRecords == records && b.size != records && next != count {
			t.Errorf("batch %d has %d records, want %d (growth is off)", b.seq, b.size, records)
		}
	}
	if next != count {
		t.Errorf("the batches cover offsets [0, %d), want [0, %d)", next, count)
	}
	t.Logf("%d batches, %d of them grown past %d records, the largest %d records", len(bs), grown, records, largest)
	return grown
}

// TestSpout_BatchesGrowWhileTheSinksAreBehind: with a sink that holds each
// batch 20 ms and max_pending_batches 1, the partition is held at its
// pending limit; the batch cut after that keeps filling past
// batch.records, never past batch.max_records, and the batches still tile
// the partition, each emitted once. With max_records equal to records the
// batches are cut at records exactly, however slow the sink.
func TestSpout_BatchesGrowWhileTheSinksAreBehind(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	const count, records = 1000, 10
	topic, perPart := newTopic(t, brokers, 1, count, func(i int) string { return fmt.Sprintf("record %d", i) })
	for _, maxRecords := range []int{100, records} {
		t.Run(fmt.Sprintf("max_records=%d", maxRecords), func(t *testing.T) {
			r := runBehindSink(t, brokers, topic, fmt.Sprintf("gale-kafka-test-sinkgrow-%d", maxRecords),
				map[string]any{"records": records, "max_records": maxRecords, "time": "1h"})
			grown := checkBatchSizes(t, r, perPart[0], records, maxRecords)
			if maxRecords > records && grown == 0 {
				t.Errorf("no batch grew past %d records while the sink held each batch 20 ms", records)
			}
		})
	}
}

// TestSpout_BatchesGrowInBytesWhileTheSinksAreBehind: as
// TestSpout_BatchesGrowWhileTheSinksAreBehind, with batches cut by bytes
// (records of 100 bytes, batch.bytes 1000 where batch.records is far):
// held at its pending limit, the partition's batches grow past
// batch.bytes, never past batch.max_bytes; without max_bytes they are
// cut at bytes exactly, however slow the sink.
func TestSpout_BatchesGrowInBytesWhileTheSinksAreBehind(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	const count, size, bytes = 1000, 100, 1000
	topic, perPart := newTopic(t, brokers, 1, count, func(i int) string { return fmt.Sprintf("%-*d", size, i) })
	for _, maxBytes := range []int{10 * bytes, 0} {
		t.Run(fmt.Sprintf("max_bytes=%d", maxBytes), func(t *testing.T) {
			batch := map[string]any{"records": count, "bytes": bytes, "time": "1h"}
			if maxBytes > 0 {
				batch["max_bytes"] = maxBytes
			}
			r := runBehindSink(t, brokers, topic, fmt.Sprintf("gale-kafka-test-bytesgrow-%d", maxBytes), batch)
			// in records of 100 bytes: batches of bytes/size, growing to
			// max_bytes/size
			records, maxRecords := bytes/size, max(maxBytes, bytes)/size
			grown := checkBatchSizes(t, r, perPart[0], records, maxRecords)
			if maxBytes > bytes && grown == 0 {
				t.Errorf("no batch grew past %d bytes while the sink held each batch 20 ms", bytes)
			}
		})
	}
}

// runBehindSink reads topic to its end (bounded) with the batch limits
// batch, max_pending_batches 1 and a sink that holds each batch 20 ms, so
// that the partition is held at its pending limit; it returns what the
// sink recorded.
func runBehindSink(t *testing.T, brokers, topic, group string, batch map[string]any) *recorder {
	t.Helper()
	r := newRecorder(0)
	r.newBatchDelay = 20 * time.Millisecond
	store := &faultyStore{commits: map[string]int{}, before: func(context.Context, string, ledger.Key, uint64) error { return nil }}
	topo := faultyTopology(t, store, r, map[string]any{
		"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		"group": group, "batch": batch, "max_pending_batches": 1, "ledger": map[string]any{"dir": t.TempDir()},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := local.Run(ctx, topo, local.Options{}); err != nil || ctx.Err() != nil {
		t.Fatalf("run: %v (ctx %v)", err, ctx.Err())
	}
	return r
}
