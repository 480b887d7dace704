package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/clustertest/netns"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/testenv"
)

// partitionTopology: Kafka -> lz4 files (a directory all hosts share: the
// namespaces share the filesystem) and Elasticsearch, the ledger in Kafka
// (a cut host reaches it only through its link), unbounded: records keep
// coming while the links are cut.
const partitionTopology = `{"name": "kafka-files", "config": {"topology.acker.executors": 2, "topology.max.spout.pending": 8,
    "topology.message.timeout.secs": 30},
  "spouts": [{"id": "events", "type": "kafka", "parallelism": 4, "config": {
      "brokers": [%q], "topics": [%q], "group": %q, "start": "earliest", "deserializer": "json", "fields": ["level"],
      "batch": {"records": 1000, "max_records": 1000, "bytes": 4194304, "time": "1s"}, "dead_letter_topic": %q,
      "ledger": {"kind": "kafka", "topic": %q}}}],
  "bolts": [
    {"id": "drop-debug", "type": "filter", "parallelism": 3, "config": {"field": "level", "equals": "debug", "invert": true},
     "inputs": [{"component": "events"}]},
    {"id": "files", "type": "file_sink", "parallelism": 3, "inputs": [{"component": "drop-debug", "grouping": "batch"}],
     "config": {"dir": %q, "field": "value", "time_partition": "hour", "compression": "lz4", "dead_letter_dir": %q}},
    {"id": "search", "type": "es_sink", "parallelism": 2, "inputs": [{"component": "drop-debug", "grouping": "batch"}],
     "config": {"urls": [%q], "index": %q, "field": "value", "dead_letter_dir": %q}}]}`

// cut is one kind of link cut of a host.
type cut struct {
	name string
	// apply cuts h (and returns at once); heal undoes it.
	apply func(h *netns.Host) error
	// flap: the link goes down and up every second instead (apply unused)
	flap bool
}

var cuts = []cut{
	{name: "link down", apply: (*netns.Host).Down},
	{name: "cut from the workers", apply: (*netns.Host).CutFromHosts},
	{name: "cut from the backends", apply: (*netns.Host).CutFromBackends},
	{name: "flapping link", flap: true},
}

// PartitionSoakVar enables TestPartitions_Soak: a benchmark (make bench),
// not part of the test suite.
const PartitionSoakVar = "GALE_BENCH_PARTITIONS"

// TestPartitions runs the Kafka -> files + Elasticsearch topology on three
// worker hosts, each in its own network namespace (package
// clustertest/netns), the cluster state in Kafka, while 200,000 records
// arrive; it cuts the links of random hosts for 10 s, one after the
// other: the link down, the host cut from the other workers only, cut
// from the backends only, and a link flapping every second. Every record
// is in the files exactly once (read back by the lz4 command) and in
// Elasticsearch (its count); gale verify is clean; per cut it logs when
// the others saw the host gone and when its partitions wrote again.
func TestPartitions(t *testing.T) {
	partitionRun(t, 200000, len(cuts), 10*time.Second, func(_ *rand.Rand, k int) cut { return cuts[k%len(cuts)] })
}

// TestPartitions_Soak is TestPartitions with GALE_BENCH_PARTITIONS records
// (e.g. 1e6) and ten cuts of random kinds.
func TestPartitions_Soak(t *testing.T) {
	v := os.Getenv(PartitionSoakVar)
	if v == "" {
		t.Skipf("SKIPPED LOUDLY: a benchmark; set %s=1e6 (make bench does)", PartitionSoakVar)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 8000 {
		t.Fatalf("%s=%q: want a number of records (at least 8000)", PartitionSoakVar, v)
	}
	partitionRun(t, int(f), 10, 10*time.Second, func(rng *rand.Rand, _ int) cut { return cuts[rng.IntN(len(cuts))] })
}

// cutReport is what one cut measured.
type cutReport struct {
	k            int
	kind, victim string
	moved        []string                 // partitions its spouts read
	detected     time.Duration            // when a survivor listed it gone (0: never)
	movedAt      map[string]time.Duration // partition -> when its spout task was assigned elsewhere
	wrote        map[string]time.Duration // partition -> first new file after the move (or the heal)
	during       int                      // files of its partitions written in the cut's last 3/4, before any move
	settled      time.Duration            // after the heal, until every partition wrote (-1: not within 45 s)
	owners       string
}

func partitionRun(t *testing.T, events, ncuts int, cutFor time.Duration, pick func(*rand.Rand, int) cut) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-host cluster test (-short)")
	}
	netns.Require(t)
	lz4 := testenv.Command(t, "lz4", "lz4")
	brokers, esURL := testenv.KafkaBrokers(t), testenv.ESURL(t)
	u, err := url.Parse(esURL)
	if err != nil {
		t.Fatal(err)
	}
	nt := netns.New(t, 3)
	nt.Relay(brokers)
	nt.Relay(u.Host)
	t.Logf("hosts on bridge %s (%s.1): %s %s, %s %s, %s %s; Kafka %s and Elasticsearch %s relayed into each", nt.Bridge, nt.Subnet,
		nt.Hosts[0].NS, nt.Hosts[0].IP, nt.Hosts[1].NS, nt.Hosts[1].IP, nt.Hosts[2].NS, nt.Hosts[2].IP, brokers, u.Host)

	stamp := time.Now().UnixNano()
	topic := fmt.Sprintf("gale-e2e-netns-%d", stamp)
	index := fmt.Sprintf("gale-e2e-netns-%d-{2006.01.02}", stamp)
	indexes := strings.ReplaceAll(index, "{2006.01.02}", "*")
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, esURL+"/"+indexes, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	const parts = 8
	createTopic(t, brokers, topic, parts)
	// a quarter first, the rest while the links are cut
	prefill := events / 4 / parts * parts
	prod := newProducer(t, brokers)
	produceRange(t, prod, topic, parts, 0, prefill)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	spec := fmt.Sprintf(partitionTopology, brokers, topic, "gale-e2e-netns-"+topic, topic+".dlq", topic+".ledger",
		out, filepath.Join(dir, "dlq"), esURL, index, filepath.Join(dir, "dlq"))
	if err := os.WriteFile(filepath.Join(dir, "topology.json"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}

	// off loopback: an API token (clustertest.Token) and a cluster key
	env := []string{"GALE_CLUSTER_KEY=" + strings.Repeat("6b", 32), "GOMAXPROCS=2"}
	storeArgs := []string{"--store", "kafka", "--store-brokers", brokers, "--store-topic", topic + ".cluster"}
	bin := gale(t)
	var ws []*clustertest.Worker
	for i, h := range nt.Hosts {
		join := ""
		if i > 0 {
			join = ws[0].Gossip
		}
		ws = append(ws, h.StartWorker(t, bin, dir, fmt.Sprintf("w%d", i+1), join, env, storeArgs...))
	}
	// the workers' logs are kept (artifacts/netns/TEST-STAMP/), passed or failed
	t.Cleanup(func() {
		keep := filepath.Join(testenv.ArtifactsDir(t, "netns"), fmt.Sprintf("%s-%d", t.Name(), stamp))
		os.MkdirAll(keep, 0o755)
		for _, w := range ws {
			if b, err := os.ReadFile(w.Log); err == nil {
				os.WriteFile(filepath.Join(keep, w.Name+".log"), b, 0o644)
			}
		}
		t.Logf("the workers' logs are in %s", keep)
	})
	client := func(w *clustertest.Worker) *api.Client {
		return &api.Client{Base: "http://" + w.HTTP, Token: clustertest.Token, HTTP: &http.Client{Timeout: 2 * time.Second}}
	}
	ctx := context.Background()
	waitMembers(t, client(ws[1]), 3)
	if _, err := client(ws[1]).Submit(ctx, []byte(spec)); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "the first file", 90*time.Second, func() bool { return len(fileStats(out)) > 0 })

	// the rest of the records arrive over the cuts (about 30 s each)
	var produced sync.WaitGroup
	produced.Add(1)
	var producing atomic.Bool
	producing.Store(true)
	go func() {
		defer produced.Done()
		defer producing.Store(false)
		defer func() { t.Logf("all %d records produced at %s", events, time.Now().Format("15:04:05.0")) }()
		over := time.Duration(ncuts) * 30 * time.Second
		chunk := 2000
		steps := (events - prefill + chunk - 1) / chunk
		start := time.Now()
		for s := range steps {
			from := prefill + s*chunk
			produceRange(t, prod, topic, parts, from, min(from+chunk, events))
			time.Sleep(time.Until(start.Add(over * time.Duration(s+1) / time.Duration(steps))))
		}
	}()

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 19))
	t.Logf("%d records in %d partitions (%d first, the rest over the cuts); cuts of %v chosen from seed %d", events, parts, prefill, cutFor, seed)
	var reports []cutReport
	for k := range ncuts {
		c := pick(rng, k)
		// a host that runs spout tasks (the leader may have given all to one)
		var withSpouts []int
		for j, w := range ws {
			if len(spoutPartitions(t, ws, w.Name, parts)) > 0 {
				withSpouts = append(withSpouts, j)
			}
		}
		i := rng.IntN(len(ws))
		if len(withSpouts) > 0 {
			i = withSpouts[rng.IntN(len(withSpouts))]
		}
		r := cutOnce(t, k+1, c, nt.Hosts[i], ws, i, out, cutFor, client)
		// the whole topology writing again before the next cut: a cut's
		// aftermath is not charged to the next one
		settled := time.Now()
		before := fileStats(out)
		left := map[string]bool{}
		for p := range parts {
			left[fmt.Sprintf("%05d", p)] = true
		}
		for time.Since(settled) < 45*time.Second && len(left) > 0 && producing.Load() {
			time.Sleep(250 * time.Millisecond)
			for name, st := range fileStats(out) {
				if b, ok := before[name]; !ok || b.ino != st.ino {
					delete(left, partitionOf(name))
				}
			}
		}
		switch {
		case len(left) == 0:
			r.settled = time.Since(settled)
			t.Logf("cut %d: every partition wrote again %v after %s was back", k+1, r.settled.Round(100*time.Millisecond), r.victim)
		case producing.Load():
			r.settled = -1
			t.Logf("cut %d: partitions %v wrote nothing within 45 s after %s was back", k+1, slices.Sorted(maps.Keys(left)), r.victim)
		}
		reports = append(reports, r)
	}
	produced.Wait()

	// everything arrives: the files, with every record once
	want := map[string]bool{}
	for i := range events {
		if i%5000 == 4999 || i%10 == 3 {
			continue // poison (dead-letter topic) or debug (filtered)
		}
		// the sink writes the record as the json deserializer re-encodes it
		var doc map[string]any
		if err := json.Unmarshal(event(i), &doc); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(doc)
		want[string(b)] = true
	}
	complete := false
	defer func() {
		if !complete {
			for _, w := range ws {
				t.Logf("%s log (warnings, errors, scheduling):\n%s", w.Name, logSince(w.Log, time.Time{}))
				data, _ := os.ReadFile(w.Log)
				t.Logf("%s: %d transport connections lost, %d transport handshakes failed", w.Name,
					strings.Count(string(data), "transport connection lost"), strings.Count(string(data), "transport handshake failed"))
			}
		}
	}()
	galetest.Eventually(t, fmt.Sprintf("%d records in the files", len(want)), 3*time.Minute, func() bool {
		return countLines(t, out) >= len(want)
	})
	complete = true
	time.Sleep(2 * time.Second) // a replayed batch may still be rewriting its file (same bytes)
	lines := lz4Lines(t, lz4, out)
	total, dups, extra := 0, 0, 0
	for l, n := range lines {
		total += n
		switch {
		case !want[l]:
			extra++
			if extra <= 3 {
				t.Errorf("a line no record makes: %.100s", l)
			}
		case n > 1:
			dups++
			if dups <= 3 {
				t.Errorf("line written %d times: %.100s", n, l)
			}
		}
	}
	missing := 0
	for l := range want {
		if lines[l] == 0 {
			missing++
		}
	}
	t.Logf("files (read by %s): %d lines, %d distinct; %d records expected: %d missing, %d duplicated, %d unknown",
		lz4, total, len(lines), len(want), missing, dups, extra)
	if missing > 0 || dups > 0 || extra > 0 {
		t.Errorf("the files are not every record exactly once: %d missing, %d duplicated, %d unknown", missing, dups, extra)
	}

	// Elasticsearch: a document per record (_id = tuple id: a replay overwrites)
	var count int
	galetest.Eventually(t, fmt.Sprintf("%d documents in Elasticsearch", len(want)), 60*time.Second, func() bool {
		count = esCount(t, esURL, indexes)
		return count >= len(want)
	})
	t.Logf("Elasticsearch %s: %d documents", indexes, count)
	if count != len(want) {
		t.Errorf("Elasticsearch holds %d documents, want %d", count, len(want))
	}

	code, report := runVerify(t, dir)
	t.Logf("gale verify:\n%s", report)
	if code != 0 || !strings.Contains(report, "OK: every sink holds exactly the committed batches") {
		t.Errorf("gale verify after the cuts: exit %d", code)
	}

	// the figures, and whether fencing fired
	var all []time.Duration
	for _, r := range reports {
		var ps []string
		for _, p := range r.moved {
			if d, ok := r.wrote[p]; ok {
				moved := "not moved"
				if m, ok := r.movedAt[p]; ok {
					moved = fmt.Sprintf("moved %v", m.Round(100*time.Millisecond))
				}
				after := ""
				if r.detected > 0 {
					after = fmt.Sprintf(", %v after detection", (d - r.detected).Round(100*time.Millisecond))
				}
				ps = append(ps, fmt.Sprintf("%s:%s, wrote %v%s", p, moved, d.Round(100*time.Millisecond), after))
				all = append(all, d)
			} else {
				ps = append(ps, p+":-")
			}
		}
		det := "never"
		if r.detected > 0 {
			det = r.detected.Round(100 * time.Millisecond).String()
		}
		settled := "-"
		switch {
		case r.settled > 0:
			settled = r.settled.Round(100 * time.Millisecond).String()
		case r.settled < 0:
			settled = "over 45 s"
		}
		t.Logf("cut %d (%s of %s): declared gone after %s; its partitions, from the cut: %s; %d of their files written in the cut's last 3/4 before any move; spouts then on %s; every partition writing again %s after the host was back",
			r.k, r.kind, r.victim, det, strings.Join(ps, "; "), r.during, r.owners, settled)
	}
	if len(all) > 0 {
		slices.Sort(all)
		t.Logf("moved partitions writing again after a cut: median %v, max %v over %d", all[len(all)/2].Round(100*time.Millisecond),
			all[len(all)-1].Round(100*time.Millisecond), len(all))
	}
	for _, w := range ws {
		t.Logf("%s: log lines about fencing:\n%s\nleadership:\n%s", w.Name, grepLines(w.Log, "fenced"), grepLines(w.Log, "msg=leadership"))
	}
}

// cutOnce cuts host h (worker ws[i]) as c says for cutFor, heals it, and
// measures: when a survivor listed it gone; for each partition its spouts
// read, when the survivor showed that spout task on another worker, and
// when that partition next wrote a file (a new name, or a file rewritten)
// after that — or after the heal when it did not move; and how many files
// of those partitions appeared during the cut before any move (after its
// first quarter: earlier ones may be batches the host had in hand, which
// its own sink tasks write to the shared directory).
func cutOnce(t *testing.T, k int, c cut, h *netns.Host, ws []*clustertest.Worker, i int, out string, cutFor time.Duration,
	client func(*clustertest.Worker) *api.Client) cutReport {
	victim := ws[i]
	survivor := ws[(i+1)%len(ws)]
	r := cutReport{k: k, kind: c.name, victim: victim.Name, wrote: map[string]time.Duration{}, movedAt: map[string]time.Duration{}}
	r.moved = spoutPartitions(t, ws, victim.Name, 8)
	before := fileStats(out)
	cutAt := time.Now()
	t.Logf("cut %d at %s: %s of %s (%s) for %v; its spouts read partitions %v; %d files so far", k, cutAt.Format("15:04:05.0"),
		c.name, victim.Name, h.IP, cutFor, r.moved, len(before))
	healed := make(chan struct{})
	if c.flap {
		go func() {
			defer close(healed)
			if _, err := h.Flap(context.Background(), time.Second, cutFor); err != nil {
				t.Errorf("flap: %v", err)
			}
		}()
	} else {
		if err := c.apply(h); err != nil {
			t.Fatal(err)
		}
		go func() {
			defer close(healed)
			time.Sleep(cutFor)
			if err := h.Heal(); err != nil {
				t.Errorf("heal: %v", err)
			}
		}()
	}
	var detectedAt, healedAt time.Time
	gone := func() bool {
		ms, err := client(survivor).Members(context.Background())
		if err != nil {
			return false
		}
		for _, m := range ms {
			if m.Name == victim.Name {
				return m.State != "alive"
			}
		}
		return true
	}
	// where the spout task of partition p runs, as the survivor says
	owner := func(p string) string {
		d, err := client(survivor).Describe(context.Background(), "kafka-files")
		if err != nil {
			return ""
		}
		n, _ := strconv.Atoi(p)
		for _, comp := range d.Components {
			if comp.ID == "events" && len(comp.Tasks) > 0 {
				return comp.Tasks[n%len(comp.Tasks)].Worker
			}
		}
		return ""
	}
	counted := map[string]bool{}
	// GALE_NETNS_TRACE=1: the spout's view of the cut host's partitions every 2 s
	trace := os.Getenv("GALE_NETNS_TRACE") != ""
	lastTrace := time.Time{}
	for deadline := cutAt.Add(cutFor + 25*time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if trace && time.Since(lastTrace) >= 2*time.Second {
			lastTrace = time.Now()
			if d, err := client(survivor).Describe(context.Background(), "kafka-files"); err == nil {
				for _, comp := range d.Components {
					var line []string
					for _, tk := range comp.Tasks {
						line = append(line, fmt.Sprintf("%d@%s e%d a%d f%d p%d q%d", tk.ID, tk.Worker, tk.Emitted, tk.Acked, tk.Failed, tk.Pending, tk.QueueLen))
					}
					for _, ps := range comp.Partitions {
						if slices.Contains(r.moved, fmt.Sprintf("%05d", ps.Partition)) {
							line = append(line, fmt.Sprintf("p%d@%s planned %d committed %d inflight %d replaying %d committing %d err %.80q",
								ps.Partition, ps.Worker, ps.Planned, ps.Committed, ps.InFlight, ps.Replaying, ps.Committing, ps.LastError))
						}
					}
					t.Logf("trace +%v %s: %s", time.Since(cutAt).Round(100*time.Millisecond), comp.ID, strings.Join(line, "; "))
				}
			}
		}
		if detectedAt.IsZero() && healedAt.IsZero() && gone() {
			detectedAt = time.Now()
			r.detected = detectedAt.Sub(cutAt)
			t.Logf("cut %d: %s declared gone by %s %v after the cut", k, victim.Name, survivor.Name, r.detected.Round(100*time.Millisecond))
		}
		if healedAt.IsZero() {
			select {
			case <-healed:
				healedAt = time.Now()
			default:
			}
		}
		if healedAt.IsZero() {
			for _, p := range r.moved {
				if _, ok := r.movedAt[p]; !ok {
					if o := owner(p); o != "" && o != victim.Name {
						r.movedAt[p] = time.Since(cutAt)
					}
				}
			}
		}
		stats := fileStats(out)
		for name, st := range stats {
			p := partitionOf(name)
			if _, done := r.wrote[p]; done || !slices.Contains(r.moved, p) {
				continue
			}
			if b, ok := before[name]; ok && b.ino == st.ino {
				continue // not written since the cut
			}
			// a file of the cut's first quarter may be a batch the host had
			// in hand (its own sink tasks write to the shared directory)
			since := healedAt
			if m, ok := r.movedAt[p]; ok {
				since = cutAt.Add(m)
			}
			switch {
			case !since.IsZero() && !st.mod.Before(since):
				r.wrote[p] = st.mod.Sub(cutAt)
			case since.IsZero() && st.mod.After(cutAt.Add(cutFor/4)) && !counted[name]:
				counted[name] = true
				r.during++
			}
		}
		if !healedAt.IsZero() && len(r.wrote) == len(r.moved) {
			break
		}
	}
	<-healed
	// a partition that wrote nothing: what its spout task says
	for _, p := range r.moved {
		if _, ok := r.wrote[p]; ok {
			continue
		}
		n, _ := strconv.Atoi(p)
		d, err := client(survivor).Describe(context.Background(), "kafka-files")
		if err != nil {
			t.Logf("cut %d: partition %s wrote nothing within %v of the cut; describe: %v", k, p, cutFor+25*time.Second, err)
			continue
		}
		for _, comp := range d.Components {
			if comp.ID != "events" {
				continue
			}
			for _, ps := range comp.Partitions {
				if int(ps.Partition) == n {
					b, _ := json.Marshal(ps)
					t.Logf("cut %d: partition %s wrote nothing within %v of the cut; its spout says %s", k, p, cutFor+25*time.Second, b)
				}
			}
			for _, tk := range comp.Tasks {
				t.Logf("cut %d: spout task %d on %s: emitted %d acked %d failed %d pending %d", k, tk.ID, tk.Worker, tk.Emitted, tk.Acked, tk.Failed, tk.Pending)
			}
		}
	}
	// back to three before the next cut
	back := galetest.Eventually(t, victim.Name+" alive again to all and the tasks placed", 60*time.Second, func() bool {
		for _, w := range ws {
			ms, err := client(w).Members(context.Background())
			if err != nil {
				return false
			}
			alive := 0
			for _, m := range ms {
				if m.State == "alive" {
					alive++
				}
			}
			if alive != len(ws) {
				return false
			}
		}
		d, err := client(survivor).Describe(context.Background(), "kafka-files")
		return err == nil && len(d.Unassigned) == 0
	})
	if d, err := client(survivor).Describe(context.Background(), "kafka-files"); err == nil {
		for _, comp := range d.Components {
			if comp.ID == "events" {
				var on []string
				for _, tk := range comp.Tasks {
					on = append(on, tk.Worker)
				}
				r.owners = strings.Join(on, ",")
			}
		}
	}
	t.Logf("cut %d: healed at %s; %s alive again to all %v later", k, healedAt.Format("15:04:05.0"), victim.Name, back.Round(100*time.Millisecond))
	return r
}

type fileStat struct {
	ino uint64
	mod time.Time
}

// fileStats stats every file of a sink's output (not its temporary files).
func fileStats(dir string) map[string]fileStat {
	out := map[string]fileStat{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, _ := info.Sys().(*syscall.Stat_t)
		if st == nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = fileStat{ino: st.Ino, mod: info.ModTime()}
		return nil
	})
	return out
}

// partitionOf is the source partition of a file sink's file name (the
// directory above it).
func partitionOf(name string) string {
	parts := strings.Split(name, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2]
}

// countLines counts the lines of every file under dir (through the
// sinks' own decoder: a quick count while waiting).
func countLines(t *testing.T, dir string) int {
	n := 0
	for _, c := range lineSet(t, files(t, dir)) {
		n += c
	}
	return n
}

// lz4Lines reads every file under dir with the lz4 command (each file's
// frame decoded by it, not by Gale) and counts each line.
func lz4Lines(t *testing.T, lz4, dir string) map[string]int {
	t.Helper()
	var names []string
	for name := range fileStats(dir) {
		names = append(names, filepath.Join(dir, filepath.FromSlash(name)))
	}
	slices.Sort(names)
	set := map[string]int{}
	for len(names) > 0 {
		batch := names[:min(200, len(names))]
		names = names[len(batch):]
		// lz4 -dc of concatenated frames decodes them one after the other
		var in bytes.Buffer
		for _, n := range batch {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			in.Write(b)
		}
		cmd := exec.Command(lz4, "-dc")
		cmd.Stdin = &in
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			set[sc.Text()]++
		}
		io.Copy(io.Discard, stdout)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("lz4 -dc of %d files: %v\n%s", len(batch), err, stderr.String())
		}
	}
	return set
}

// esCount refreshes the indexes and counts their documents.
func esCount(t *testing.T, esURL, indexes string) int {
	t.Helper()
	if resp, err := http.Post(esURL+"/"+indexes+"/_refresh", "application/json", nil); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get(esURL + "/" + indexes + "/_count")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var c struct {
		Count int `json:"count"`
	}
	json.NewDecoder(resp.Body).Decode(&c)
	return c.Count
}

// newProducer is a producer of records to partitions of their choosing,
// closed when the test ends.
func newProducer(t *testing.T, brokers string) sarama.SyncProducer {
	c := sarama.NewConfig()
	c.Version = sarama.V4_0_0_0
	c.Producer.Return.Successes = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	prod, err := sarama.NewSyncProducer([]string{brokers}, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prod.Close() })
	return prod
}

// produceRange produces events [from, to) of produceEvents's kind: event
// i in partition i%parts.
func produceRange(t *testing.T, prod sarama.SyncProducer, topic string, parts, from, to int) {
	batch := make([]*sarama.ProducerMessage, 0, 5000)
	for i := from; i < to; i++ {
		batch = append(batch, &sarama.ProducerMessage{Topic: topic, Partition: int32(i % parts),
			Key: sarama.StringEncoder(fmt.Sprint(i)), Value: sarama.ByteEncoder(event(i)),
			Timestamp: eventsBase.Add(time.Duration(i) * 100 * time.Millisecond)})
		if len(batch) == cap(batch) || i == to-1 {
			if err := prod.SendMessages(batch); err != nil {
				t.Errorf("produce events %d..%d: %v", from, to, err)
				return
			}
			batch = batch[:0]
		}
	}
}
