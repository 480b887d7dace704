package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/internal/verify"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks/file"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

func ledgerKey(topic string) ledger.Key {
	return ledger.Key{Topology: "kafka-test", Spout: "events", Topic: topic}
}

// prepareLedger writes what a spout that crashed would have left in the
// ledger of partition 0: plans (contiguous from offset plans[0][0]) and
// the commits of some of them.
func prepareLedger(t *testing.T, dir, topic string, plans [][2]int64, commits ...uint64) {
	t.Helper()
	store, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := store.Open(context.Background(), ledgerKey(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i, rg := range plans {
		if err := w.Plan(context.Background(), ledger.Plan{Seq: uint64(i), Start: rg[0], End: rg[1]}); err != nil {
			t.Fatal(err)
		}
	}
	for _, seq := range commits {
		if err := w.Commit(context.Background(), seq); err != nil {
			t.Fatal(err)
		}
	}
}

// readLedger reads partition 0's ledger without taking it over.
func readLedger(t *testing.T, dir, topic string) ledger.State {
	t.Helper()
	store, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Read(context.Background(), ledgerKey(topic))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// deleteRecords makes Kafka delete partition 0's records before offset
// before, as retention does: the log then starts there.
func deleteRecords(t *testing.T, brokers, topic string, before int64) {
	t.Helper()
	admin, err := sarama.NewClusterAdmin([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.DeleteRecords(topic, map[int32]int64{0: before}); err != nil {
		t.Fatal(err)
	}
	client, err := sarama.NewClient([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if start, err := client.GetOffset(topic, 0, sarama.OffsetOldest); err != nil || start != before {
		t.Fatalf("log start of %s after DeleteRecords: %d, %v; want %d", topic, start, err, before)
	}
}

func produce(t *testing.T, brokers, topic string, from, to int) {
	t.Helper()
	prod, err := sarama.NewSyncProducer([]string{brokers}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := from; i < to; i++ {
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprintf("record %d", i))}); err != nil {
			t.Fatal(err)
		}
	}
}

// lossTopology reads topic (bounded) into the recorder and a file sink.
func lossTopology(t *testing.T, r *recorder, brokers, topic, ledgerDir, sinkDir string) *topology.Topology {
	t.Helper()
	reg := registry.New()
	reg.MustRegister(kafkaspout.Type())
	reg.MustRegister(r.bolt())
	reg.MustRegister(file.Type())
	b := topology.NewBuilder("kafka-test")
	b.SetConfig("topology.message.timeout.secs", 20)
	b.Spout("events", kafkaspout.TypeName, 1).Config(map[string]any{
		"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		"batch": map[string]any{"records": 10, "max_records": 10, "time": "1h"}, "ledger": map[string]any{"dir": ledgerDir},
	})
	b.Bolt("flaky", "flaky", 1).GlobalGrouping("events")
	b.Bolt("files", file.TypeName, 1).BatchGrouping("events").Config(map[string]any{
		"dir": sinkDir, "format": "lines", "field": "value", "dead_letter_dir": filepath.Join(sinkDir, "dlq")})
	topo, err := b.Build(reg)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func runToEnd(t *testing.T, topo *topology.Topology) local.Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	stats, err := local.Run(ctx, topo, local.Options{})
	if err != nil || ctx.Err() != nil {
		t.Fatalf("run: %v (ctx %v)", err, ctx.Err())
	}
	return stats
}

// emittedOffsets lists the tuple ids the recorder saw (first emissions),
// sorted, and fails on a record emitted in two batches.
func emittedIDs(t *testing.T, r *recorder) []string {
	t.Helper()
	var ids []string
	for _, a := range r.attempts {
		ids = append(ids, a[0]...)
	}
	slices.Sort(ids)
	if c := slices.Compact(slices.Clone(ids)); len(c) != len(ids) {
		t.Errorf("records emitted in two batches: %d ids, %d distinct", len(ids), len(c))
	}
	return ids
}

func offsetIDs(topic string, from, to int) []string {
	var ids []string
	for off := from; off < to; off++ {
		ids = append(ids, fmt.Sprintf("%s/0/%d", topic, off))
	}
	slices.Sort(ids)
	return ids
}

// TestSpout_DataLossSkip: Kafka deleted records the spout had to read
// (DeleteRecords moves the log start, as retention does). With
// on_data_loss "skip" (the default) the partition goes on: the ledger
// records the lost ranges, the status shows them, the other records are
// emitted once, the sink holds every batch (a wholly lost one empty) and
// gale verify fails naming the lost ranges.
func TestSpout_DataLossSkip(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	for _, c := range []struct {
		name string
		// setup prepares topic and the ledger in dir, and returns the
		// records the run must emit [from, to)
		setup    func(t *testing.T, topic, dir string) (from, to int)
		wantLost []ledger.Lost
	}{{
		// a crash left batches 0-2 planned, not committed; Kafka then
		// deleted the offsets below 15: batch 0 is lost whole, batch 1
		// in part
		name: "pending batches",
		setup: func(t *testing.T, topic, dir string) (int, int) {
			produce(t, brokers, topic, 0, 50)
			prepareLedger(t, dir, topic, [][2]int64{{0, 10}, {10, 20}, {20, 30}})
			deleteRecords(t, brokers, topic, 15)
			return 15, 50
		},
		wantLost: []ledger.Lost{{Seq: 0, Start: 0, End: 10}, {Seq: 1, Start: 10, End: 15}},
	}, {
		// a first run read [0, 10); while the spout was away, 50 records
		// came and Kafka deleted those below 30, which it never read
		name: "records not read yet",
		setup: func(t *testing.T, topic, dir string) (int, int) {
			produce(t, brokers, topic, 0, 10)
			r := newRecorder(0)
			runToEnd(t, lossTopology(t, r, brokers, topic, dir, filepath.Join(dir, "..", "sink")))
			if ids := emittedIDs(t, r); !slices.Equal(ids, offsetIDs(topic, 0, 10)) {
				t.Fatalf("the first run emitted %v", ids)
			}
			produce(t, brokers, topic, 10, 60)
			deleteRecords(t, brokers, topic, 30)
			return 30, 60
		},
		wantLost: []ledger.Lost{{Seq: 1, Start: 10, End: 30}},
	}} {
		t.Run(c.name, func(t *testing.T) {
			topic, _ := newTopic(t, brokers, 1, 0, nil)
			root := t.TempDir()
			dir, sinkDir := filepath.Join(root, "ledger"), filepath.Join(root, "sink")
			from, to := c.setup(t, topic, dir)
			r := newRecorder(0)
			topo := lossTopology(t, r, brokers, topic, dir, sinkDir)
			stats := runToEnd(t, topo)

			if ids := emittedIDs(t, r); !slices.Equal(ids, offsetIDs(topic, from, to)) {
				t.Errorf("emitted %d records %v..., want [%d, %d) once each", len(ids), ids[:min(3, len(ids))], from, to)
			}
			st := readLedger(t, dir, topic)
			var lostN int64
			for _, l := range c.wantLost {
				lostN += l.End - l.Start
			}
			if !slices.Equal(st.Lost, c.wantLost) || st.LostOffsets != lostN {
				t.Errorf("ledger lost %v (%d offsets), want %v (%d)", st.Lost, st.LostOffsets, c.wantLost, lostN)
			}
			if st.Committed != st.NextSeq || len(st.Pending) != 0 || st.CommittedEnd != int64(to) || st.Base != 0 {
				t.Errorf("ledger %+v: want every batch committed, [0, %d)", st, to)
			}
			checkGroupOffsets(t, brokers, "gale-kafka-test-events", topic, map[int32]int64{0: int64(to)})
			last := c.wantLost[len(c.wantLost)-1]
			wantLast := local.LostRange{Batch: ledger.Plan{Key: ledgerKey(topic), Seq: last.Seq}.BatchID(), Start: last.Start, End: last.End}
			found := false
			for _, ts := range stats.Tasks {
				if ts.Status == nil || len(ts.Status.Partitions) == 0 {
					continue
				}
				found = true
				p := ts.Status.Partitions[0]
				if p.LostOffsets != lostN || p.LastLost == nil || *p.LastLost != wantLast || p.Stopped != "" {
					t.Errorf("status: lost %d, last %+v, stopped %q; want %d lost, last %+v", p.LostOffsets, p.LastLost, p.Stopped, lostN, wantLast)
				}
			}
			if !found {
				t.Error("no partition status")
			}

			// gale verify: the sink holds every committed batch; the lost
			// ranges are reported, and fail the check
			rep, err := verify.Run(context.Background(), topo, verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || rep.LostOffsets != lostN || len(rep.Lost) != len(c.wantLost) {
				t.Errorf("verify: OK %v, lost %v (%d offsets); want not OK, %d offsets lost", rep.OK(), rep.Lost, rep.LostOffsets, lostN)
			}
			for i, l := range rep.Lost {
				w := c.wantLost[min(i, len(c.wantLost)-1)]
				if l.Batch != (ledger.Plan{Key: ledgerKey(topic), Seq: w.Seq}).BatchID() || l.Start != w.Start || l.End != w.End {
					t.Errorf("verify: lost %+v, want %+v", l, w)
				}
			}
			for _, s := range rep.Sinks {
				if s.Error != "" || len(s.Missing)+len(s.Extra)+len(s.Mismatched) > 0 || s.Batches != int(st.Committed) {
					t.Errorf("verify: sink %+v, want the %d batches, nothing missing", s, st.Committed)
				}
			}
		})
	}
}

// TestSpout_DataLossFail: with on_data_loss "fail" the partition stops at
// the lost records with an error naming them, records nothing lost, and
// emits nothing more.
func TestSpout_DataLossFail(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	for _, c := range []struct {
		name  string
		plans [][2]int64 // batch 0 committed, the others pending
		want  kafkaspout.DataLossError
	}{
		{"pending batch", [][2]int64{{0, 10}, {10, 20}}, kafkaspout.DataLossError{Start: 10, End: 15, LogStart: 15}},
		{"records not read yet", [][2]int64{{0, 10}}, kafkaspout.DataLossError{Start: 10, End: 15, LogStart: 15}},
	} {
		t.Run(c.name, func(t *testing.T) {
			topic, _ := newTopic(t, brokers, 1, 0, nil)
			produce(t, brokers, topic, 0, 40)
			dir := t.TempDir()
			prepareLedger(t, dir, topic, c.plans, 0)
			deleteRecords(t, brokers, topic, 15)
			cfg := kafkaspout.NewConfig()
			cfg.Brokers, cfg.Topics, cfg.Ledger.Dir, cfg.OnDataLoss = []string{brokers}, []string{topic}, dir, "fail"
			cfg.Batch.Records = 10
			s, out := newSpout(t, cfg)
			for range 50 {
				if err := s.NextTuple(context.Background()); err != nil {
					t.Logf("NextTuple: %v", err)
				}
			}
			emitted, errs := out.Snapshot()
			if len(emitted) != 0 {
				t.Errorf("%d tuples emitted after the loss, want none", len(emitted))
			}
			want := c.want
			want.Topic, want.Batch = topic, ledger.Plan{Key: ledgerKey(topic), Seq: 1}.BatchID()
			var lost *kafkaspout.DataLossError
			n := 0
			for _, err := range errs {
				if errors.As(err, &lost) {
					n++
					if *lost != want || !errors.Is(err, kafkaspout.ErrDataLoss) {
						t.Errorf("reported %v, want %v", lost, &want)
					}
				}
			}
			if n != 1 {
				t.Errorf("the loss was reported %d times (errors %v), want once", n, errs)
			}
			st := readLedger(t, dir, topic)
			if len(st.Lost) != 0 || st.NextSeq != uint64(len(c.plans)) || st.Committed != 1 {
				t.Errorf("ledger %+v: want nothing recorded lost and no new plan", st)
			}
			s.Close() // publishes the final status
			ps := s.TaskStatus().Partitions
			if len(ps) != 1 || !strings.Contains(ps[0].Stopped, want.Error()) || ps[0].LostOffsets != 0 {
				t.Errorf("status %+v: want the partition stopped, naming %q", ps, want.Error())
			}
		})
	}
}
