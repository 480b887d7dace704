package kafka_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gale-stream/gale/internal/testenv"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
)

// readN takes records from r until it has n of them or within seconds,
// in the order taken.
func readN(t *testing.T, r kafkaspout.Reader, n int, within time.Duration) []*kgo.Record {
	t.Helper()
	var out []*kgo.Record
	deadline := time.After(within)
	for len(out) < n {
		recs, err := r.Take(n-len(out), 1<<30)
		if err != nil {
			t.Fatalf("after %d records: %v", len(out), err)
		}
		if len(recs) > 0 {
			out = append(out, recs...)
			continue
		}
		select {
		case <-r.Ready():
		case <-deadline:
			t.Fatalf("%d records of %d within %v", len(out), n, within)
		}
	}
	return out
}

// contiguous fails unless recs are offsets from, from+1, ... with the
// values newTopic gave them.
func contiguous(t *testing.T, recs []*kgo.Record, from int64, value func(int64) string) {
	t.Helper()
	for i, m := range recs {
		if want := from + int64(i); m.Offset != want || string(m.Value) != value(want) {
			t.Fatalf("record %d: offset %d value %.20q, want offset %d value %.20q", i, m.Offset, m.Value, want, value(want))
		}
	}
}

// TestFetcher_OffsetsInOrderAcrossReopens: a reader delivers its
// partition from the offset it was opened at, each record once, in order;
// opening the partition again (earlier or later) starts over there, and
// nothing of the previous reading reaches the new reader.
func TestFetcher_OffsetsInOrderAcrossReopens(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	const count = 3000
	value := func(i int64) string { return fmt.Sprintf("record %d %s", i, strings.Repeat("x", 200)) }
	topic, _ := newTopic(t, brokers, 1, count, func(i int) string { return value(int64(i)) })
	f, err := kafkaspout.NewFetcher(brokers, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	r := f.Open(topic, 0, 0)
	contiguous(t, readN(t, r, count, 30*time.Second), 0, value)
	if hwm := r.HighWatermark(); hwm != count {
		t.Errorf("high watermark %d, want %d", hwm, count)
	}
	for _, from := range []int64{1000, 2500, 10} {
		r = f.Open(topic, 0, from) // replaces the reader open
		got := readN(t, r, int(count-from), 30*time.Second)
		contiguous(t, got, from, value)
	}
	// a reader half read, then opened again before what it read
	r = f.Open(topic, 0, 100)
	contiguous(t, readN(t, r, 500, 30*time.Second), 100, value)
	r = f.Open(topic, 0, 50)
	contiguous(t, readN(t, r, count-50, 30*time.Second), 50, value)
	r.Close()
}

// TestFetcher_PausesAtItsBound: a reader nobody takes from stops its
// partition's fetching near its bound (the memory it holds is bounded,
// not the topic's size), and takes up again as it is emptied: every
// record arrives, in order.
func TestFetcher_PausesAtItsBound(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	const count, size = 24000, 1000 // 24 MB
	value := func(i int64) string { return fmt.Sprintf("%08d%s", i, strings.Repeat("v", size-8)) }
	topic, _ := newTopic(t, brokers, 1, count, func(i int) string { return value(int64(i)) })
	const pause = 1 << 20
	f, err := kafkaspout.NewFetcher(brokers, pause)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := f.Open(topic, 0, 0)
	// let it fetch as much as it will
	var queued int
	var paused bool
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if queued, paused = r.Queued(); paused {
			break
		}
	}
	if !paused {
		t.Fatalf("not paused after 10 s, %d bytes queued", queued)
	}
	time.Sleep(time.Second)
	queued, _ = r.Queued()
	// the bound, plus what one fetch (4 MiB a partition) and one more
	// already asked for can bring after the pause
	if limit := pause + 2*(4<<20) + size; queued > limit {
		t.Errorf("%d bytes queued while paused, want at most %d (the topic holds %d)", queued, limit, count*size)
	}
	t.Logf("%d bytes queued while paused (bound %d, topic %d)", queued, pause, count*size)
	contiguous(t, readN(t, r, count, 60*time.Second), 0, value)
	if q, paused := r.Queued(); q != 0 || paused {
		t.Errorf("after reading all: %d bytes queued, paused %v", q, paused)
	}
}

// TestFetcher_DeletedRecords: a reader opened before the log's start
// (retention deleted the records) reports OffsetOutOfRange — it never
// jumps to the log start by itself.
func TestFetcher_DeletedRecords(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, _ := newTopic(t, brokers, 1, 0, nil)
	produce(t, brokers, topic, 0, 100)
	deleteRecords(t, brokers, topic, 50)
	f, err := kafkaspout.NewFetcher(brokers, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := f.Open(topic, 0, 10)
	deadline := time.After(20 * time.Second)
	for {
		recs, err := r.Take(100, 1<<20)
		if len(recs) > 0 {
			t.Fatalf("records from offset %d, want an error", recs[0].Offset)
		}
		if err != nil {
			if !errors.Is(err, kerr.OffsetOutOfRange) {
				t.Fatalf("error %v, want OffsetOutOfRange", err)
			}
			return
		}
		select {
		case <-r.Ready():
		case <-deadline:
			t.Fatal("no error within 20 s")
		}
	}
}
