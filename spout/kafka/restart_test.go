package kafka_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

const childEnv = "GALE_KAFKA_SPOUT_CHILD"

// runChild runs the spout with a slow bolt until it is killed: the parent
// test SIGKILLs it while batches are planned but not committed.
func runChild() int {
	var cfg map[string]any
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		return 2
	}
	reg := registry.New()
	reg.MustRegister(kafkaspout.Type())
	reg.MustRegister(registry.Bolt[registry.NoConfig]{
		Name: "flaky",
		New: func(*registry.NoConfig) (bolt.Bolt, error) {
			return bolt.Basic(bolt.Func(func(context.Context, *tuple.Tuple, bolt.BasicCollector) error {
				time.Sleep(3 * time.Millisecond)
				return nil
			})), nil
		},
	})
	b := topology.NewBuilder("kafka-test")
	b.Spout("events", kafkaspout.TypeName, 1).Config(cfg)
	b.Bolt("flaky", "flaky", 1).GlobalGrouping("events")
	topo, err := b.Build(reg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, err = local.Run(context.Background(), topo, local.Options{})
	fmt.Fprintln(os.Stderr, "child ended:", err)
	return 1
}

// ledgerCounts reads the partitions' ledgers without taking them over
// (Store.Read does not fence the child): the batches planned, and those
// committed.
func ledgerCounts(dir string) (plans, commits int) {
	store, err := ledger.NewFileStore(dir)
	if err != nil {
		return 0, 0
	}
	ctx := context.Background()
	keys, _ := store.Keys(ctx, "kafka-test", "events")
	for _, k := range keys {
		st, err := store.Read(ctx, k)
		if err != nil {
			continue
		}
		plans += int(st.NextSeq)
		commits += int(st.NextSeq) - len(st.Pending)
	}
	return plans, commits
}

// TestSpout_RestartReplaysPlansFirst kills the process running the spout
// (SIGKILL) while batches are planned but not committed; the next run
// replays exactly those plans first, then continues with new batches, and
// every record ends up in exactly one committed batch.
func TestSpout_RestartReplaysPlansFirst(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	const count = 2000
	topic, perPart := newTopic(t, brokers, 2, count, func(i int) string { return "event " + strconv.Itoa(i) })
	dir := t.TempDir()
	cfg := map[string]any{
		"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		"batch": map[string]any{"records": 40, "time": "50ms"}, "max_pending_batches": 3,
		"ledger": map[string]any{"dir": dir},
	}
	js, _ := json.Marshal(cfg)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+string(js))
	var stderr bytes.Buffer
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	progressed := false
	defer func() {
		if !progressed {
			child.Process.Kill()
			child.Wait()
			plans, commits := ledgerCounts(dir)
			t.Logf("the child's ledger: %d plans, %d commits; its stderr:\n%s", plans, commits, stderr.String())
		}
	}()
	galetest.Eventually(t, "the child to plan 8 batches and commit 2, with some pending", 60*time.Second, func() bool {
		plans, commits := ledgerCounts(dir)
		return plans >= 8 && commits >= 2 && plans > commits
	})
	progressed = true
	if err := child.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	child.Wait()

	// what the dead run left: plans not committed, per partition
	store, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	pending := map[int32][]ledger.Plan{}
	npending := 0
	for p := range perPart {
		w, st, err := store.Open(context.Background(), ledger.Key{Topology: "kafka-test", Spout: "events", Topic: topic, Partition: p})
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		pending[p] = st.Pending
		npending += len(st.Pending)
	}
	if npending == 0 {
		t.Fatal("the kill left no planned-but-uncommitted batch: the test proves nothing")
	}

	// the restart
	r := newRecorder(0)
	reg := testRegistry(r)
	topo := spoutTopology(t, reg, cfg, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rt, err := local.New(topo, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Run(ctx); err != nil || ctx.Err() != nil {
		t.Fatalf("restart run: %v (ctx %v)", err, ctx.Err())
	}
	for p, plans := range pending {
		for _, pl := range plans {
			a, ok := r.attempts[pl.BatchID()]
			if !ok {
				t.Errorf("pending batch %s was not replayed", pl.BatchID())
				continue
			}
			var want []string
			for off := pl.Start; off < pl.End; off++ {
				want = append(want, fmt.Sprintf("%s/%d/%d", topic, p, off))
			}
			if strings.Join(a[0], ",") != strings.Join(want, ",") {
				t.Errorf("batch %s replayed with %v, want its planned range [%d, %d)", pl.BatchID(), a[0], pl.Start, pl.End)
			}
		}
	}
	// replays came first: on each partition, every pending batch was
	// emitted before any new one
	for p, plans := range pending {
		prefix := fmt.Sprintf("%s/%05d/", topic, p)
		last := uint64(0)
		if len(plans) > 0 {
			last = plans[len(plans)-1].Seq
		}
		newSeen := false
		for _, id := range r.order {
			if !strings.HasPrefix(id, prefix) {
				continue
			}
			seq, _ := strconv.ParseUint(strings.TrimPrefix(id, prefix), 10, 64)
			isPending := len(plans) > 0 && seq >= plans[0].Seq && seq <= last
			if isPending && newSeen {
				t.Errorf("partition %d: pending batch %s emitted after a new batch", p, id)
			}
			if !isPending {
				newSeen = true
				if len(plans) > 0 && seq <= last {
					t.Errorf("partition %d: batch %s re-emitted although committed before the kill", p, id)
				}
			}
		}
	}
	checkLedger(t, dir, topic, perPart)
	t.Logf("killed with %d batches pending; restart replayed them and finished %d batches", npending, len(r.attempts))
}

// metaBolt records the meta of every batch it finishes, and acks it.
type metaBolt struct {
	out   bolt.Collector
	metas chan<- tuple.BatchMeta
	buf   map[uint64][]*tuple.Tuple
}

func (b *metaBolt) Prepare(_ context.Context, _ *topology.TaskContext, out bolt.Collector) error {
	b.out, b.buf = out, map[uint64][]*tuple.Tuple{}
	return nil
}

func (b *metaBolt) Execute(_ context.Context, t *tuple.Tuple) error {
	b.buf[t.Attempt()] = append(b.buf[t.Attempt()], t)
	return nil
}

func (b *metaBolt) FinishBatch(_ context.Context, bt *bolt.Batch) error {
	b.metas <- *bt.Meta
	for _, t := range append(b.buf[bt.Attempt], bt.End...) {
		b.out.Ack(t)
	}
	delete(b.buf, bt.Attempt)
	return nil
}

func (b *metaBolt) Cleanup() error { return nil }

// TestSpout_RestartAfterOutOfOrderCommits: a run planned batches 0, 1, 2
// and committed 1 and 2 but not 0, then died. The next run sends batch 0
// only (1 and 2 are committed), and once 0 commits the partition's
// committed point moves over all three: the next batch says Committed 3
// (bolts that apply batches in order wait on it) and the bounded run ends.
func TestSpout_RestartAfterOutOfOrderCommits(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic, _ := newTopic(t, brokers, 1, 40, func(i int) string { return "event " + strconv.Itoa(i) })
	dir := t.TempDir()
	store, err := ledger.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := ledger.Key{Topology: "kafka-test", Spout: "events", Topic: topic, Partition: 0}
	w, _, err := store.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.Plan(ctx, ledger.Plan{Key: key, Seq: 0, Start: 0, End: 10}, ledger.Plan{Key: key, Seq: 1, Start: 10, End: 20},
		ledger.Plan{Key: key, Seq: 2, Start: 20, End: 30}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	w.Close()
	store.Close()

	metas := make(chan tuple.BatchMeta, 100)
	reg := registry.New()
	reg.MustRegister(kafkaspout.Type())
	reg.MustRegister(registry.Bolt[registry.NoConfig]{Name: "metas",
		New: func(*registry.NoConfig) (bolt.Bolt, error) { return &metaBolt{metas: metas}, nil }})
	b := topology.NewBuilder("kafka-test")
	b.Spout("events", kafkaspout.TypeName, 1).Config(map[string]any{
		"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		"batch": map[string]any{"records": 10, "time": "50ms"}, "max_pending_batches": 1,
		"ledger": map[string]any{"dir": dir},
	})
	b.Bolt("metas", "metas", 1).GlobalGrouping("events")
	topo, err := b.Build(reg)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := local.Run(rctx, topo, local.Options{}); err != nil || rctx.Err() != nil {
		t.Fatalf("run: %v (%v: a committed point stuck below the batches committed before would never end it)", err, rctx.Err())
	}
	close(metas)
	var got []string
	for m := range metas {
		got = append(got, fmt.Sprintf("seq %d [%d,%d) committed %d", m.Seq, m.Start, m.End, m.Committed))
	}
	want := []string{"seq 0 [0,10) committed 0", "seq 3 [30,40) committed 3"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("batches sent:\n got %q\nwant %q", got, want)
	}
}
