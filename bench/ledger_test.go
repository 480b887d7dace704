package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/kvlog"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
)

// The Kafka ledger's proofs (see internal/ledger): opening a partition's
// ledger after a long history costs about what it costs on a fresh topic,
// and the ledger writes batches faster than the Kafka path needs them.
// Both run against the Kafka of testenv (GALE_KAFKA_BROKERS), on topics of
// their own, deleted at the end.
//
//	GALE_BENCH_LEDGER_HISTORY   historical batches of BenchmarkLedgerOpen (default 10^7)
//	GALE_BENCH_LEDGER_COMPACT   how long it waits for Kafka to compact them (default 15m)
//	GALE_BENCH_LEDGER_SECONDS   seconds per row of BenchmarkLedgerThroughput (default 10)
//	GALE_BENCH_LEDGER_RECORDS   records of BenchmarkLedgerThroughput's topic (default 3e6)

// envInt reads an integer from the environment ("1e7" is accepted).
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		b.Fatalf("%s=%q: want a number", name, s)
	}
	return int(f)
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, s, err)
	}
	return d
}

func ledgerBrokers(b *testing.B) string {
	brokers := os.Getenv("GALE_KAFKA_BROKERS")
	if brokers == "" {
		b.Skip("GALE_KAFKA_BROKERS is not set: start Kafka with testenv/testenv up kafka")
	}
	return brokers
}

// ledgerBenchTopic names a ledger topic of this run and deletes it when
// the benchmark ends (the history topic holds gigabytes).
func ledgerBenchTopic(b *testing.B, brokers, what string) string {
	topic := fmt.Sprintf("gale-bench-ledger-%s-%d", what, time.Now().UnixNano())
	b.Cleanup(func() {
		admin, err := sarama.NewClusterAdmin([]string{brokers}, benchSarama())
		if err != nil {
			b.Logf("delete topic %s: %v", topic, err)
			return
		}
		defer admin.Close()
		if err := admin.DeleteTopic(topic); err != nil {
			b.Logf("delete topic %s: %v", topic, err)
		}
	})
	return topic
}

func benchKey(partition int32) ledger.Key {
	return ledger.Key{Topology: "bench", Spout: "kafka", Topic: "events", Partition: partition}
}

// writeLedgerBatches writes n batches of 500 offsets to w, from st on: Plan of
// chunk plans, then Commit of their seqs, each one transaction.
func writeLedgerBatches(ctx context.Context, w ledger.Writer, st ledger.State, n, chunk int) error {
	seq, start := st.NextSeq, max(st.NextStart, 0)
	plans := make([]ledger.Plan, 0, chunk)
	seqs := make([]uint64, 0, chunk)
	for done := 0; done < n; {
		plans, seqs = plans[:0], seqs[:0]
		for range min(chunk, n-done) {
			plans = append(plans, ledger.Plan{Seq: seq, Start: start, End: start + 500})
			seqs = append(seqs, seq)
			seq++
			start += 500
		}
		if err := w.Plan(ctx, plans...); err != nil {
			return err
		}
		if err := w.Commit(ctx, seqs...); err != nil {
			return err
		}
		done += len(plans)
	}
	return nil
}

// smallLedger gives key the state of a running partition: 100 batches
// committed and 4 pending (the spout's default max_pending_batches), the
// ledger the timed opens read.
func smallLedger(b *testing.B, brokers, topic string, key ledger.Key) {
	ctx := context.Background()
	s, err := ledger.NewKafkaStore([]string{brokers}, topic)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w, st, err := s.Open(ctx, key)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if err := writeLedgerBatches(ctx, w, st, 100, 100); err != nil {
		b.Fatal(err)
	}
	if err := w.Plan(ctx, ledger.Plan{Seq: 100, Start: 50000, End: 50500}, ledger.Plan{Seq: 101, Start: 50500, End: 51000},
		ledger.Plan{Seq: 102, Start: 51000, End: 51500}, ledger.Plan{Seq: 103, Start: 51500, End: 52000}); err != nil {
		b.Fatal(err)
	}
}

// openTimes is one timed open of key's ledger as a new process sees it: a
// new KafkaStore (which reads the topic into its view: no other store of
// this process may be open on the topic, or it would share that one's
// view), then Open (fencing, read barrier, the partition's state).
type openTimes struct{ store, open time.Duration }

func (o openTimes) total() time.Duration { return o.store + o.open }

func timedOpen(b *testing.B, brokers, topic string, key ledger.Key, wantPending int) openTimes {
	o, err := tryOpen(brokers, topic, key, wantPending)
	if err != nil {
		b.Fatal(err)
	}
	return o
}

// tryOpen is timedOpen that returns its error: the time until it failed
// is in store.
func tryOpen(brokers, topic string, key ledger.Key, wantPending int) (openTimes, error) {
	ctx := context.Background()
	t0 := time.Now()
	s, err := ledger.NewKafkaStore([]string{brokers}, topic)
	if err != nil {
		return openTimes{store: time.Since(t0)}, err
	}
	t1 := time.Now()
	w, st, err := s.Open(ctx, key)
	if err != nil {
		s.Close()
		return openTimes{store: time.Since(t0)}, err
	}
	t2 := time.Now()
	w.Close()
	s.Close()
	if len(st.Pending) != wantPending {
		return openTimes{}, fmt.Errorf("open %s: %d pending batches, want %d (state %+v)", key, len(st.Pending), wantPending, st)
	}
	return openTimes{t1.Sub(t0), t2.Sub(t1)}, nil
}

// viewRead times a kvlog.KafkaLog reading the whole topic (what
// NewKafkaStore does) with a timeout of 10 min instead of the ledger's
// 30 s.
func viewRead(brokers, topic string) (time.Duration, error) {
	cfg := kvlog.DefaultKafkaConfig([]string{brokers}, topic)
	cfg.Timeout = 10 * time.Minute
	t0 := time.Now()
	l, err := kvlog.OpenKafka(context.Background(), cfg)
	if err != nil {
		return time.Since(t0), err
	}
	d := time.Since(t0)
	return d, l.Close()
}

// medianOpen opens key's ledger n times and returns the run of median
// total time.
func medianOpen(b *testing.B, brokers, topic string, key ledger.Key, wantPending, n int) openTimes {
	var runs []openTimes
	for range n {
		runs = append(runs, timedOpen(b, brokers, topic, key, wantPending))
	}
	slices.SortFunc(runs, func(a, b openTimes) int { return int(a.total() - b.total()) })
	return runs[len(runs)/2]
}

// BenchmarkLedgerOpen opens a partition's ledger on a topic that holds
// GALE_BENCH_LEDGER_HISTORY historical batches (default 10^7), against
// the same open on a fresh topic in the same run. The history is written
// through the store itself, by another partition's writer (Plan of 10,000
// batches, then Commit of their seqs) while Kafka is kept from cleaning
// it (testenv.HoldCompaction); the records are counted by reading the topic and
// one open of the uncompacted topic is timed; then Kafka compacts it
// (timers shortened: testenv.ReleaseCompaction) and the records are counted
// again. The timed open is a new process's: a new
// KafkaStore (reading the topic into its view), then Open of a partition
// with 100 committed and 4 pending batches; the median of 5 is reported.
// Run it alone, with -benchtime 1x: one iteration does everything.
func BenchmarkLedgerOpen(b *testing.B) {
	logf := func(format string, args ...any) { fmt.Printf("ledger-open: "+format+"\n", args...) }
	brokers := ledgerBrokers(b)
	history := envInt(b, "GALE_BENCH_LEDGER_HISTORY", 10_000_000)
	compactWait := envDuration(b, "GALE_BENCH_LEDGER_COMPACT", 15*time.Minute)
	ctx := context.Background()
	for range b.N {
		// the baseline: a fresh topic
		fresh := ledgerBenchTopic(b, brokers, "fresh")
		smallLedger(b, brokers, fresh, benchKey(1))
		freshOpen := medianOpen(b, brokers, fresh, benchKey(1), 4, 5)

		// the history: partition 0 runs history batches, partition 1 is
		// the one opened
		hist := ledgerBenchTopic(b, brokers, "history")
		s, err := ledger.NewKafkaStore([]string{brokers}, hist)
		if err != nil {
			b.Fatal(err)
		}
		testenv.HoldCompaction(b, brokers, hist)
		// the partition opened, written first: its keys lie under the history
		smallLedger(b, brokers, hist, benchKey(1)) // shares s's view
		w, st, err := s.Open(ctx, benchKey(0))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := writeLedgerBatches(ctx, w, st, history, 10_000); err != nil {
			b.Fatal(err)
		}
		writeTime := time.Since(t0)
		w.Close()
		s.Close()
		fmt.Printf("ledger-open: wrote %d batches in %v (%.0f batches/s, Plan and Commit of 10,000 each)\n",
			history, writeTime.Round(time.Millisecond), float64(history)/writeTime.Seconds())

		before := testenv.CountRecords(b, brokers, hist)
		fmt.Printf("ledger-open: before compaction: %v (read in %.1f s)\n", before, before.ReadSeconds)
		// one open before compaction: what a process reads while the
		// history is still in the active segment or not cleaned yet
		uncompacted, err := tryOpen(brokers, hist, benchKey(1), 4)
		if err != nil {
			fmt.Printf("ledger-open: open before compaction: failed after %v: %v\n", uncompacted.store.Round(time.Millisecond), err)
			d, err := viewRead(brokers, hist)
			fmt.Printf("ledger-open: a KafkaLog with a 10 min timeout read the uncompacted topic in %v (%.0f records/s), error %v\n",
				d.Round(time.Millisecond), float64(before.Records)/d.Seconds(), err)
		} else {
			fmt.Printf("ledger-open: open before compaction: store %v + open %v = %v\n",
				uncompacted.store.Round(time.Millisecond), uncompacted.open.Round(time.Millisecond), uncompacted.total().Round(time.Millisecond))
		}

		testenv.ReleaseCompaction(b, brokers, hist)
		// wait for the cleaner: its size on disk falls; records written
		// now and then roll the active segment (segment.ms counts from a
		// segment's first record, checked on append)
		after := testenv.WaitCompacted(b, brokers, hist, before, compactWait, logf)
		histOpen := medianOpen(b, brokers, hist, benchKey(1), 4, 5)
		ratio := histOpen.total().Seconds() / freshOpen.total().Seconds()
		fmt.Printf("ledger-open: after compaction: %v\n", after)
		fmt.Printf("ledger-open: fresh topic:   store %v + open %v = %v (median of 5)\n",
			freshOpen.store.Round(time.Millisecond), freshOpen.open.Round(time.Millisecond), freshOpen.total().Round(time.Millisecond))
		fmt.Printf("ledger-open: %d batches: store %v + open %v = %v (median of 5): %.2f× fresh\n", history,
			histOpen.store.Round(time.Millisecond), histOpen.open.Round(time.Millisecond), histOpen.total().Round(time.Millisecond), ratio)
		b.ReportMetric(freshOpen.total().Seconds()*1000, "fresh-open-ms")
		b.ReportMetric(histOpen.total().Seconds()*1000, "history-open-ms")
		if uncompacted.open > 0 {
			b.ReportMetric(uncompacted.total().Seconds()*1000, "uncompacted-open-ms")
		}
		b.ReportMetric(ratio, "history/fresh")
		b.ReportMetric(float64(before.Records), "records-before")
		b.ReportMetric(float64(after.Records), "records-after")
	}
}

// BenchmarkLedgerThroughput measures the batches/s the Kafka ledger
// sustains, beside the batches/s the Kafka path needs, measured in the
// same run: the records/s of a bare sarama consumer and of Gale's kafka
// spout on a topic of GALE_BENCH_LEDGER_RECORDS (3M) records of 100 bytes
// (long enough that opening the ledger is not what is measured), divided by
// the spout's default batch of 500 records. Each ledger row writes for
// GALE_BENCH_LEDGER_SECONDS (default 10) on a fresh ledger topic, with P
// partitions' writers at once sharing one KafkaStore (the spout runs one
// ledger loop per partition, all on one KafkaLog per process):
//
//   - worst: one Plan and one Commit transaction per batch;
//   - spout: the spout's ledger loop when trees complete at once: a Plan
//     per batch, and the commits that are queued when the loop comes to
//     one written together (it goes plan, plan, commit of two);
//   - window: 4 batches in flight (max_pending_batches) completing
//     together: 4 Plans, then one Commit of the 4;
//   - apply: the ledger loop under load, each write (Writer.Apply)
//     carrying the next batch's plan and the previous batch's commit.
//
// It also runs Gale's spout itself at 500- and 2000-record batches, once with its
// ledger in files and once in Kafka: the end-to-end answer to whether the
// Kafka ledger is the ceiling of the Kafka path.
//
// Run it with -benchtime 1x.
func BenchmarkLedgerThroughput(b *testing.B) {
	brokers := ledgerBrokers(b)
	seconds := envInt(b, "GALE_BENCH_LEDGER_SECONDS", 10)
	records := envInt(b, "GALE_BENCH_LEDGER_RECORDS", 3000000)
	kafkaBrokers, topic := kafkaTopicOf(b, records)
	var need struct{ bare, gale float64 }
	b.Run("kafka-path/bare-sarama-consumer", func(b *testing.B) {
		need.bare = kafkaRate(b, func(b *testing.B, brokers, topic string) int64 {
			return bareConsumeN(b, brokers, topic, records)
		}, kafkaBrokers, topic, records)
	})
	b.Run("kafka-path/gale-kafka-spout", func(b *testing.B) {
		need.gale = kafkaRate(b, galeConsume, kafkaBrokers, topic, records)
	})
	// the spout itself at 500-record batches, its ledger in files (no
	// Kafka transaction) and in Kafka: the ledger is the ceiling when the
	// second is much slower than the first
	spoutRates := map[int][3]float64{} // batch records -> records/s with the file ledger, the Kafka ledger, the Kafka ledger with batches that do not grow
	for _, batch := range []int{500, 2000} {
		var r [3]float64
		limits := map[string]any{"records": batch, "time": "100ms"}
		b.Run(fmt.Sprintf("spout-%d/file-ledger", batch), func(b *testing.B) {
			r[0] = kafkaRate(b, func(b *testing.B, brokers, topic string) int64 {
				return galeConsumeWith(b, brokers, topic, limits, map[string]any{"dir": b.TempDir()})
			}, kafkaBrokers, topic, records)
		})
		b.Run(fmt.Sprintf("spout-%d/kafka-ledger", batch), func(b *testing.B) {
			r[1] = kafkaRate(b, func(b *testing.B, brokers, topic string) int64 {
				lt := ledgerBenchTopic(b, brokers, "spout")
				return galeConsumeWith(b, brokers, topic, limits, map[string]any{"kind": "kafka", "topic": lt})
			}, kafkaBrokers, topic, records)
		})
		b.Run(fmt.Sprintf("spout-%d/kafka-ledger-fixed-batches", batch), func(b *testing.B) {
			r[2] = kafkaRate(b, func(b *testing.B, brokers, topic string) int64 {
				lt := ledgerBenchTopic(b, brokers, "spout")
				fixed := map[string]any{"records": batch, "time": "100ms", "max_records": batch}
				return galeConsumeWith(b, brokers, topic, fixed, map[string]any{"kind": "kafka", "topic": lt})
			}, kafkaBrokers, topic, records)
		})
		spoutRates[batch] = r
	}
	type row struct {
		name       string
		partitions int
		batches    float64
	}
	var rows []row
	for _, mode := range []string{"worst", "spout", "window", "apply"} {
		for _, parts := range []int{1, 4, 16} {
			name := fmt.Sprintf("ledger/%s/partitions=%d", mode, parts)
			b.Run(name, func(b *testing.B) {
				rate := ledgerRate(b, brokers, mode, parts, time.Duration(seconds)*time.Second)
				rows = append(rows, row{name, parts, rate})
			})
		}
	}
	fmt.Printf("ledger-throughput: the Kafka path needs %.0f batches/s (bare consumer, %.0f records/s) or %.0f (Gale's spout, %.0f records/s) at 500 records per batch\n",
		need.bare/500, need.bare, need.gale/500, need.gale)
	for _, records := range []int{500, 2000} {
		r := spoutRates[records]
		fmt.Printf("ledger-throughput: Gale's spout at %d records per batch: %.0f records/s with its ledger in files, %.0f with its ledger in Kafka (%.2f×), %.0f with its ledger in Kafka and batches kept at %d records (%.2f×)\n",
			records, r[0], r[1], r[1]/r[0], r[2], records, r[2]/r[0])
	}
	for _, r := range rows {
		fmt.Printf("ledger-throughput: %-28s %8.0f batches/s  %5.2f× what the bare consumer's rate needs\n", r.name, r.batches, r.batches/(need.bare/500))
	}
}

// kafkaRate reads topic, of records records, b.N times with read and
// returns the records/s.
func kafkaRate(b *testing.B, read func(*testing.B, string, string) int64, brokers, topic string, records int) float64 {
	start := time.Now()
	var total int64
	for range b.N {
		if n := read(b, brokers, topic); n != int64(records) {
			b.Fatalf("read %d records, want %d", n, records)
		}
		total += int64(records)
	}
	rate := float64(total) / time.Since(start).Seconds()
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(rate/500, "batches/s@500")
	return rate
}

// ledgerRate runs parts partitions' writers in mode for d on a fresh
// ledger topic and returns the batches/s committed over all of them.
func ledgerRate(b *testing.B, brokers, mode string, parts int, d time.Duration) float64 {
	topic := ledgerBenchTopic(b, brokers, "rate")
	s, err := ledger.NewKafkaStore([]string{brokers}, topic)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	writers := make([]ledger.Writer, parts)
	for p := range writers {
		w, _, err := s.Open(ctx, benchKey(int32(p)))
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		writers[p] = w
	}
	var rate float64
	for range b.N {
		var mu sync.Mutex
		var total, txns int64
		var firstErr error
		var wg sync.WaitGroup
		stop := time.Now().Add(d)
		start := time.Now()
		for _, w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, t, err := runLedger(ctx, w, mode, stop)
				mu.Lock()
				defer mu.Unlock()
				total += n
				txns += t
				if err != nil && firstErr == nil {
					firstErr = err
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			b.Fatal(firstErr)
		}
		el := time.Since(start).Seconds()
		rate = float64(total) / el
		b.ReportMetric(rate, "batches/s")
		b.ReportMetric(float64(txns)/el, "txns/s")
	}
	return rate
}

// runLedger writes batches to w in mode until stop and returns the batches
// committed and the transactions written. It continues from where an
// earlier run left w: the writer's state is its own, so it tracks the
// next seq itself.
func runLedger(ctx context.Context, w ledger.Writer, mode string, stop time.Time) (batches, txns int64, err error) {
	lw := ledgerCursor(w)
	plan := func() (uint64, error) {
		p := ledger.Plan{Seq: lw.seq, Start: lw.start, End: lw.start + 500}
		if err := w.Plan(ctx, p); err != nil {
			return 0, err
		}
		txns++
		lw.seq++
		lw.start += 500
		return p.Seq, nil
	}
	commit := func(seqs ...uint64) error {
		if err := w.Commit(ctx, seqs...); err != nil {
			return err
		}
		txns++
		batches += int64(len(seqs))
		return nil
	}
	for time.Now().Before(stop) {
		switch mode {
		case "worst":
			seq, err := plan()
			if err != nil {
				return batches, txns, err
			}
			if err := commit(seq); err != nil {
				return batches, txns, err
			}
		case "spout":
			// the ledger loop's order with trees that complete at once:
			// plan n+1 is queued before commit n, and commit n+1 is
			// queued (and taken with commit n) while plan n+2 waits
			a, err := plan()
			if err != nil {
				return batches, txns, err
			}
			bb, err := plan()
			if err != nil {
				return batches, txns, err
			}
			if err := commit(a, bb); err != nil {
				return batches, txns, err
			}
		case "window":
			var seqs []uint64
			for range 4 {
				seq, err := plan()
				if err != nil {
					return batches, txns, err
				}
				seqs = append(seqs, seq)
			}
			if err := commit(seqs...); err != nil {
				return batches, txns, err
			}
		case "apply":
			// the loop under load: each write carries the next batch's
			// plan and the commit of the batch before (Writer.Apply)
			p := ledger.Plan{Seq: lw.seq, Start: lw.start, End: lw.start + 500}
			var commits []uint64
			if lw.seq > 0 {
				commits = []uint64{lw.seq - 1}
			}
			if err := w.Apply(ctx, ledger.Batch{Plans: []ledger.Plan{p}, Commits: commits}); err != nil {
				return batches, txns, err
			}
			txns++
			lw.seq++
			lw.start += 500
			batches += int64(len(commits))
		default:
			return batches, txns, fmt.Errorf("unknown mode %q", mode)
		}
	}
	return batches, txns, nil
}

// cursor is where a benchmark writer's next batch goes.
type cursor struct {
	seq   uint64
	start int64
}

var (
	cursorsMu sync.Mutex
	cursors   = map[ledger.Writer]*cursor{}
)

// ledgerCursor returns w's cursor (a writer opened on a fresh partition
// starts at seq 0, offset 0).
func ledgerCursor(w ledger.Writer) *cursor {
	cursorsMu.Lock()
	defer cursorsMu.Unlock()
	c, ok := cursors[w]
	if !ok {
		c = &cursor{}
		cursors[w] = c
	}
	return c
}
