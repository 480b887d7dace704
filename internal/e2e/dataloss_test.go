package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/internal/uitest"
)

// dataLossTopology reads one partition into the file sink, bounded, with
// a file ledger in the run's directory and on_data_loss policy.
const dataLossTopology = `{"name": "dataloss", "config": {"topology.max.spout.pending": 16},
 "spouts": [{"id": "events", "type": "kafka", "parallelism": 1, "config": {
   "brokers": [%q], "topics": [%q], "start": "earliest", "group": %q, "deserializer": "string", "bounded": true,
   "batch": {"records": 500, "max_records": 500, "time": "1h"}, "max_pending_batches": 4,
   "ledger": {"kind": "file", "dir": ".gale/ledger"}, "on_data_loss": %q}}],
 "bolts": [{"id": "files", "type": "file_sink", "parallelism": 1,
   "config": {"dir": ".gale/out/files", "field": "value", "compression": "lz4"},
   "inputs": [{"component": "events", "grouping": "batch"}]}]}`

const dataLossEvents = 200000

// crashWithPending runs the topology of dir and SIGKILLs it while the
// partition's ledger holds planned, uncommitted batches (read from
// another process without taking the ledger over), and returns the
// ledger's state after the kill.
func crashWithPending(t *testing.T, dir, topic string) ledger.State {
	t.Helper()
	store, err := ledger.NewFileStore(filepath.Join(dir, ".gale", "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	key := ledger.Key{Topology: "dataloss", Spout: "events", Topic: topic}
	for attempt := 1; attempt <= 5; attempt++ {
		cmd := startGale(t, dir)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		killed := false
		for !killed {
			select {
			case err := <-exited:
				t.Fatalf("gale run ended (%v) before it could be killed with batches pending\n%s", err, tail(dir, 30))
			case <-time.After(10 * time.Millisecond):
			}
			st, err := store.Read(context.Background(), key)
			if err == nil && st.Committed >= 4 && len(st.Pending) > 0 {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		<-exited
		st, err := store.Read(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Pending) > 0 {
			t.Logf("killed (attempt %d) with %d batches committed, %d pending from offset %d", attempt, st.Committed, len(st.Pending), st.Pending[0].Start)
			return st
		}
		t.Logf("attempt %d: the pending batches committed before the kill landed; again", attempt)
	}
	t.Fatal("5 kills left no pending batch")
	return ledger.State{}
}

// deleteBefore deletes the records of partition 0 of topic below offset,
// as retention does (the log start moves).
func deleteBefore(t *testing.T, brokers, topic string, offset int64) {
	t.Helper()
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	admin, err := sarama.NewClusterAdmin([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.DeleteRecords(topic, map[int32]int64{0: offset}); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// lossAfterCrash runs a topology with on_data_loss policy, kills it with
// batches pending (st, the ledger then), and deletes the records of the
// first pending batch p0 below mid, its middle.
func lossAfterCrash(t *testing.T, policy string) (dir, topic string, st ledger.State, p0 ledger.Plan, mid int64) {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: kills a gale process (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	topic = fmt.Sprintf("gale-e2e-loss-%s-%d", policy, time.Now().UnixNano())
	produceEvents(t, brokers, topic, 1, dataLossEvents)
	dir = t.TempDir()
	writeTopology(t, dir, fmt.Sprintf(dataLossTopology, brokers, topic, "gale-e2e-"+topic, policy))
	st = crashWithPending(t, dir, topic)
	p0 = st.Pending[0]
	mid = p0.Start + (p0.End-p0.Start)/2
	deleteBefore(t, brokers, topic, mid)
	return dir, topic, st, p0, mid
}

// TestDataLoss_Skip: a gale run is SIGKILLed with batches planned but not
// committed; Kafka then deletes (as retention would) the first half of
// the first pending batch. The next run, with on_data_loss "skip" (the
// default), goes on: the ledger records the lost range, the API, the
// metric gale_kafka_partition_lost_records_total and the monitor UI show
// it, the files hold every other record exactly once, and gale verify
// exits 1 naming the range.
func TestDataLoss_Skip(t *testing.T) {
	dir, topic, _, p0, mid := lossAfterCrash(t, "skip")
	lost := mid - p0.Start
	batchID := p0.BatchID()
	t.Logf("deleted the records below %d: [%d, %d) of batch %s are lost", mid, p0.Start, mid, batchID)

	addr := freeAddr(t)
	cmd := startGale(t, dir, "--ui", addr)
	c := &api.Client{Base: "http://" + addr, HTTP: &http.Client{Timeout: 5 * time.Second}}
	ctx := context.Background()
	var part api.Partition
	galetest.Eventually(t, "the run to commit the partition to its end", 3*time.Minute, func() bool {
		d, err := c.Describe(ctx, "dataloss")
		if err != nil {
			return false
		}
		for _, comp := range d.Components {
			for _, p := range comp.Partitions {
				part = p
				return p.CommittedOffset == dataLossEvents && p.Committing == 0
			}
		}
		return false
	})
	if part.LostOffsets != lost || part.LastLost == nil || part.LastLost.Batch != batchID ||
		part.LastLost.Start != p0.Start || part.LastLost.End != mid || part.Stopped != "" {
		t.Errorf("the API's partition: lost %d, last %+v, stopped %q; want %d lost, [%d, %d) of %s",
			part.LostOffsets, part.LastLost, part.Stopped, lost, p0.Start, mid, batchID)
	}
	metric := scrapeMetric(t, "http://"+addr+"/metrics", "gale_kafka_partition_lost_records_total", topic)
	if metric != float64(lost) {
		t.Errorf("gale_kafka_partition_lost_records_total = %v, want %d", metric, lost)
	}

	b := uitest.New(t)
	b.Open("http://" + addr + "/#/topology/dataloss")
	b.Wait("the loss above the partitions", fmt.Sprintf(
		`(document.querySelector('#partitions-warning') || {}).innerText?.includes(%q)`, fmt.Sprintf("%s/0: %s offsets", topic, thousands(lost))))
	b.Wait("the lost cell", fmt.Sprintf(`(document.querySelector('#partitions-table [data-lost]') || {}).title?.includes(%q)`,
		fmt.Sprintf("[%d, %d) of batch %s", p0.Start, mid, batchID)))
	b.Screenshot("e2e-dataloss")

	cmd.Process.Signal(os.Interrupt)
	waitExit(t, cmd, dir, time.Minute)

	after, err := ledgerState(dir, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Lost) != 1 || after.Lost[0] != (ledger.Lost{Seq: p0.Seq, Start: p0.Start, End: mid}) || after.LostOffsets != lost ||
		len(after.Pending) != 0 || after.CommittedEnd != dataLossEvents {
		t.Errorf("the ledger after the run: %+v; want [%d, %d) of seq %d lost, everything committed", after, p0.Start, mid, p0.Seq)
	}
	// every record but the lost ones, once (the lines of the records that
	// are not JSON are written escaped: checked by their number)
	lines := lineSet(t, files(t, filepath.Join(dir, ".gale", "out", "files")))
	for i := range dataLossEvents {
		if i%5000 == 4999 {
			continue
		}
		want := 1
		if int64(i) >= p0.Start && int64(i) < mid {
			want = 0
		}
		if got := lines[string(event(i))]; got != want {
			t.Errorf("event %d written %d times, want %d", i, got, want)
		}
	}
	total := 0
	for _, c := range lines {
		total += c
	}
	if total != dataLossEvents-int(lost) {
		t.Errorf("%d lines written, want %d", total, dataLossEvents-int(lost))
	}

	code, out := runVerify(t, dir)
	t.Logf("gale verify:\n%s", out)
	if code != 1 || !strings.Contains(out, fmt.Sprintf("batch %s: offsets [%d, %d)", batchID, p0.Start, mid)) ||
		!strings.Contains(out, "OFFSETS LOST") {
		t.Errorf("gale verify: exit %d; want 1, naming the lost range, every sink otherwise right", code)
	}
}

// TestDataLoss_Fail: the same loss with on_data_loss "fail": the next run
// stops the partition with an error naming the range, records nothing
// lost and commits nothing more.
func TestDataLoss_Fail(t *testing.T) {
	dir, topic, st, p0, mid := lossAfterCrash(t, "fail")

	cmd := startGale(t, dir)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		// a bounded run that did not read everything failed
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("gale run ended with %v, want exit status 1 (a partition stopped)", err)
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("gale run did not end with its only partition stopped\n%s", tail(dir, 30))
	}
	want := fmt.Sprintf("%s/0: offsets [%d, %d) of batch %s: records deleted by Kafka before they were read", topic, p0.Start, mid, p0.BatchID())
	log := tail(dir, 200)
	if !strings.Contains(log, want) || !strings.Contains(log, "gale run: events: partition "+topic+"/0 stopped: ") {
		t.Errorf("gale's log does not say %q, nor that the partition stopped:\n%s", want, log)
	}
	after, err := ledgerState(dir, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Lost) != 0 || after.Committed != st.Committed || after.NextSeq != st.NextSeq {
		t.Errorf("the ledger after the stopped run: %+v; want it as the kill left it (%+v), nothing recorded lost", after, st)
	}
}

func writeTopology(t *testing.T, dir, js string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "topology.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ledgerState(dir, topic string) (ledger.State, error) {
	store, err := ledger.NewFileStore(filepath.Join(dir, ".gale", "ledger"))
	if err != nil {
		return ledger.State{}, err
	}
	return store.Read(context.Background(), ledger.Key{Topology: "dataloss", Spout: "events", Topic: topic})
}

// scrapeMetric returns the value of name's sample whose labels mention
// topic, from a Prometheus text endpoint.
func scrapeMetric(t *testing.T, url, name, topic string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^` + name + `\{([^}]*)\} (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(string(body), -1) {
		if strings.Contains(m[1], `"`+topic+`"`) {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no %s sample for topic %s in %s", name, topic, url)
	return 0
}

// thousands formats n as the UI does (en-US grouping).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
