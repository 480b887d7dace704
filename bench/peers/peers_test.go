package peers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, size := range []int{MinRecordSize, 100, 1024} {
		for _, c := range []struct {
			p   int32
			seq int64
			ts  int64
		}{{0, 0, 1}, {3, 1999999, 1796397790543123}, {9999, 999999999999, 9999999999999999}} {
			rec, err := AppendRecord(nil, c.p, c.seq, c.ts, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec) != size {
				t.Fatalf("record of %d bytes, want %d: %s", len(rec), size, rec)
			}
			p, seq, ts, err := ParseLine(rec)
			if err != nil || p != c.p || seq != c.seq || ts != c.ts {
				t.Fatalf("ParseLine(%s) = %d %d %d %v, want %d %d %d", rec, p, seq, ts, err, c.p, c.seq, c.ts)
			}
		}
	}
	if _, err := AppendRecord(nil, 1, 1, 1, 20); err == nil {
		t.Error("a record of 20 bytes was made")
	}
	// appends after what dst holds
	rec, _ := AppendRecord([]byte("x"), 1, 2, 3, 100)
	if len(rec) != 101 || rec[0] != 'x' {
		t.Errorf("AppendRecord did not append: %q", rec)
	}
}

func TestParseLineRejects(t *testing.T) {
	good, _ := AppendRecord(nil, 2, 42, 123456, 100)
	if _, _, _, err := ParseLine(append(slices.Clone(good), '\r')); err != nil {
		t.Errorf("a trailing CR: %v", err)
	}
	for _, line := range []string{
		"", "hello", `{"id":"2-42"}`, `{"id":"x-1","ts":1,"pad":""}`, `{"id":"1-","ts":1,"pad":""}`,
		`{"id":"-1-1","ts":1,"pad":""}`, `{"id":"1-1","ts":,"pad":""}`, `{"id":"1-1","ts":12`,
		string(good[:60]), // a line cut short
	} {
		if _, _, _, err := ParseLine([]byte(line)); !errors.Is(err, ErrBadLine) {
			t.Errorf("ParseLine(%q) = %v, want ErrBadLine", line, err)
		}
	}
}

func TestQuantileNearestRank(t *testing.T) {
	var s []int64
	for i := int64(1); i <= 100; i++ {
		s = append(s, i)
	}
	for q, want := range map[float64]float64{0.5: 50, 0.99: 99, 1: 100, 0.001: 1, 0.505: 51} {
		if got := Quantile(s, q); got != want {
			t.Errorf("Quantile(1..100, %v) = %v, want %v", q, got, want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("the quantile of nothing is not NaN")
	}
	// Summarize sorts, and agrees with a sorted copy
	r := rand.New(rand.NewPCG(1, 2))
	sample := make([]int64, 10001)
	for i := range sample {
		sample[i] = r.Int64N(1e6)
	}
	sorted := slices.Sorted(slices.Values(sample))
	p := Summarize(sample)
	if p.N != len(sorted) || p.P50 != float64(sorted[5000]) || p.P99 != float64(sorted[9900]) || p.Max != float64(sorted[10000]) {
		t.Errorf("Summarize = %+v; sorted[5000]=%d sorted[9900]=%d max=%d", p, sorted[5000], sorted[9900], sorted[10000])
	}
	if p := Summarize(nil); p.N != 0 || !math.IsNaN(p.P50) || !math.IsNaN(p.Max) {
		t.Errorf("Summarize(nil) = %+v", p)
	}
}

func TestSeenExactlyOnceAccounting(t *testing.T) {
	var s Seen
	// partition 0: 0..9 once; partition 1: 0..9 but 3 missing, 5 twice,
	// 7 three times; partition 2 was never produced to but 0 shows up;
	// partition 0 seq 10 was not produced
	for seq := int64(0); seq < 10; seq++ {
		s.Observe(0, seq, 1000+seq, 2000+seq)
	}
	for seq := int64(0); seq < 10; seq++ {
		if seq == 3 {
			continue
		}
		n := 1
		switch seq {
		case 5:
			n = 2
		case 7:
			n = 3
		}
		for i := range n {
			first := s.Observe(1, seq, 1000, 5000+int64(i))
			if first != (i == 0) {
				t.Fatalf("Observe(1-%d) #%d reported first=%v", seq, i, first)
			}
		}
	}
	s.Observe(2, 0, 1, 1)
	s.Observe(0, 10, 1, 1)
	s.Bad([]byte("garbage"))
	c := s.Check([]int64{10, 10})
	want := Check{Expected: 20, Missing: 1, Duplicates: 3, Unexpected: 3, FirstMissing: []string{"1-3"}, FirstBad: `"garbage"`}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("Check = %+v\nwant    %+v", c, want)
	}
	if c.ExactlyOnce() {
		t.Error("ExactlyOnce despite gaps")
	}
	if s.Distinct() != 21 || s.Lines() != 25 {
		t.Errorf("Distinct %d, Lines %d; want 21 and 25", s.Distinct(), s.Lines())
	}
	// latencies: first sighting only, from a produce time on
	lat := s.Latencies(1005)
	slices.Sort(lat)
	if !slices.Equal(lat, []int64{1000, 1000, 1000, 1000, 1000}) {
		t.Errorf("Latencies(1005) = %v", lat)
	}
	if got := s.PartitionLatencies(1, 0); len(got) != 9 || got[0] != 4000 {
		t.Errorf("PartitionLatencies(1) = %v: want 9 of 4000 (first sightings only)", got)
	}
	if s.LastFirstSeen() != 5000 {
		t.Errorf("LastFirstSeen = %d", s.LastFirstSeen())
	}

	var clean Seen
	for p := range int32(4) {
		for seq := int64(0); seq < 100; seq++ {
			clean.Observe(p, seq, 1, 2)
		}
	}
	if c := clean.Check([]int64{100, 100, 100, 100}); !c.ExactlyOnce() || c.Expected != 400 {
		t.Errorf("clean run: %+v", c)
	}
	// nothing seen of a produced partition: all of it missing
	if c := clean.Check([]int64{100, 100, 100, 100, 7}); c.Missing != 7 || c.Expected != 407 {
		t.Errorf("partition never seen: %+v", c)
	}
}

func TestTokenBucket(t *testing.T) {
	start := time.Unix(1000, 0)
	b := NewTokenBucket(100000, 50000, start)
	total := 0
	now := start
	for range 200 { // 1 s in 5 ms ticks
		now = now.Add(5 * time.Millisecond)
		n := b.Take(now)
		if n < 499 || n > 501 {
			t.Fatalf("a 5 ms tick at 100k/s gave %d tokens", n)
		}
		total += n
	}
	if total < 99999 || total > 100000 {
		t.Errorf("1 s at 100k/s gave %d tokens", total)
	}
	// fractional rates accumulate: 333.3/s over 3 s is 999 or 1000
	b = NewTokenBucket(1000.0/3, 1000, start)
	total = 0
	for i := 1; i <= 600; i++ {
		total += b.Take(start.Add(time.Duration(i) * 5 * time.Millisecond))
	}
	if total < 999 || total > 1000 {
		t.Errorf("3 s at 333.3/s gave %d", total)
	}
	// a stall keeps at most the burst
	b = NewTokenBucket(1000, 100, start)
	if n := b.Take(start.Add(10 * time.Second)); n != 100 {
		t.Errorf("after a 10 s stall: %d tokens, want the burst (100)", n)
	}
	if n := b.Take(start.Add(10 * time.Second)); n != 0 {
		t.Errorf("the same instant again: %d tokens", n)
	}
	// time going backwards gives nothing and keeps the clock
	if n := b.Take(start.Add(9 * time.Second)); n != 0 {
		t.Errorf("an earlier time gave %d", n)
	}
}

func TestParseStat(t *testing.T) {
	// a command name with spaces and parentheses
	line := "1234 (java (main) x) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 7 3 20 0 30 0 5000 4000000000 25600 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
	st, err := ParseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.PPID != 1 || st.CPU != 3*time.Second || st.ChildCPU != 100*time.Millisecond || st.RSSPages != 25600 {
		t.Errorf("ParseStat = %+v", st)
	}
	if _, err := ParseStat([]byte("1 (x) S 1 2")); err == nil {
		t.Error("a short stat line parsed")
	}
	kb, err := parseStatusKB([]byte("Name:\tjava\nVmPeak:\t 999 kB\nVmHWM:\t  123456 kB\n"), "VmHWM")
	if err != nil || kb != 123456 {
		t.Errorf("VmHWM = %d, %v", kb, err)
	}
	// this process: a tree of at least itself, some CPU, some memory
	u, err := ReadTree(os.Getpid())
	if err != nil || u.PIDs < 1 || u.RSSBytes <= 0 {
		t.Errorf("ReadTree(self) = %+v, %v", u, err)
	}
}

func TestParseMachineCPU(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	m, err := parseMachineCPU([]byte("cpu  100 20 30 400 50 6 4 10 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Busy != 1700*time.Millisecond || m.Total != 6200*time.Millisecond {
		t.Errorf("parseMachineCPU = %+v, want busy 1.7 s of 6.2 s", m)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 3", "cpu 1 2 3 x 5 6 7 8"} {
		if _, err := parseMachineCPU([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if m, err := ReadMachineCPU(); err != nil || m.Busy <= 0 || m.Total < m.Busy {
		t.Errorf("ReadMachineCPU = %+v, %v", m, err)
	}
}

// recordLines returns n record lines of partition p from seq on.
func recordLines(p int32, from, n int64, size int) []byte {
	var b []byte
	for seq := from; seq < from+n; seq++ {
		b, _ = AppendRecord(b, p, seq, 1_000_000+seq, size)
		b = append(b, '\n')
	}
	return b
}

func TestLocalWatcherPartialWritesAndHiddenFiles(t *testing.T) {
	dir := t.TempDir()
	w := NewLocalWatcher(dir, time.Millisecond)
	ctx := context.Background()
	all := recordLines(0, 0, 10, 100) // 1010 bytes
	grow := filepath.Join(dir, "sub", "part-0")
	os.MkdirAll(filepath.Dir(grow), 0o755)
	// written in place, in pieces cut anywhere, even inside a line
	f, err := os.Create(grow)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cuts := []int{0, 37, 101, 102, 505, 506, 990, len(all)}
	wantSeen := []int64{0, 0, 1, 1, 5, 5, 9, 10}
	for i := 1; i < len(cuts); i++ {
		if _, err := f.Write(all[cuts[i-1]:cuts[i]]); err != nil {
			t.Fatal(err)
		}
		w.Poll(ctx, false)
		if got := w.Distinct(); got != wantSeen[i] {
			t.Fatalf("after writing %d bytes: %d records seen, want %d", cuts[i], got, wantSeen[i])
		}
	}
	// in-progress files are never read; renamed into view, they are
	for _, name := range []string{".part-1.inprogress", "_temporary", ".x.tmp-host-1"} {
		os.WriteFile(filepath.Join(dir, name), recordLines(1, 0, 5, 100), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "_hidden_dir"), 0o755)
	os.WriteFile(filepath.Join(dir, "_hidden_dir", "f"), recordLines(1, 0, 5, 100), 0o644)
	w.Poll(ctx, false)
	if got := w.Distinct(); got != 10 {
		t.Fatalf("hidden files were read: %d records seen", got)
	}
	if err := os.Rename(filepath.Join(dir, ".part-1.inprogress"), filepath.Join(dir, "part-1")); err != nil {
		t.Fatal(err)
	}
	w.Poll(ctx, false)
	if got := w.Distinct(); got != 15 {
		t.Fatalf("after the rename: %d records seen, want 15", got)
	}
	// the same lines in another file are duplicates
	os.WriteFile(filepath.Join(dir, "again"), recordLines(1, 3, 2, 100), 0o644)
	w.Poll(ctx, true)
	c := w.Seen().Check([]int64{10, 5})
	if c.Missing != 0 || c.Duplicates != 2 || c.Unexpected != 0 {
		t.Errorf("Check = %+v, want 2 duplicates only", c)
	}
	if st := w.Stats(); st.Files != 3 || st.Errors != 0 {
		t.Errorf("stats %+v: want 3 files, no error", st)
	}
}

func TestLocalWatcherSeenTimes(t *testing.T) {
	dir := t.TempDir()
	w := NewLocalWatcher(dir, 5*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	before := time.Now()
	os.WriteFile(filepath.Join(dir, "f"), recordLines(2, 0, 3, 200), 0o644)
	for w.Distinct() < 3 {
		if time.Since(before) > 5*time.Second {
			t.Fatal("the watcher did not see the file")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if last := w.LastNew(); last.Before(before) || time.Since(last) > 5*time.Second {
		t.Errorf("LastNew %v, written at %v", last, before)
	}
}

// fakeHDFS serves the WebHDFS calls the watcher makes from a map of files,
// with optionally stale listed lengths (a file being written).
type fakeHDFS struct {
	mu     sync.Mutex
	files  map[string][]byte // path -> content
	listed map[string]int64  // path -> length to list, when set
	opens  int
}

func (f *fakeHDFS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/webhdfs/v1")
	switch r.URL.Query().Get("op") {
	case "LISTSTATUS":
		type st struct {
			PathSuffix       string `json:"pathSuffix"`
			Type             string `json:"type"`
			Length           int64  `json:"length"`
			BlockSize        int64  `json:"blockSize"`
			ModificationTime int64  `json:"modificationTime"`
		}
		var out []st
		dirs := map[string]bool{}
		for name, data := range f.files {
			rest, ok := strings.CutPrefix(name, p+"/")
			if !ok {
				continue
			}
			if d, _, isDir := strings.Cut(rest, "/"); isDir {
				if !dirs[d] {
					dirs[d] = true
					out = append(out, st{PathSuffix: d, Type: "DIRECTORY", ModificationTime: time.Now().UnixMilli()})
				}
				continue
			}
			n := int64(len(data))
			if l, ok := f.listed[name]; ok {
				n = l
			}
			out = append(out, st{PathSuffix: rest, Type: "FILE", Length: n, BlockSize: 1 << 20})
		}
		if len(out) == 0 && len(dirs) == 0 {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"RemoteException":{"exception":"FileNotFoundException","message":"no"}}`)
			return
		}
		fmt.Fprint(w, `{"FileStatuses":{"FileStatus":[`)
		for i, s := range out {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"pathSuffix":%q,"type":%q,"length":%d,"blockSize":%d,"modificationTime":%d}`,
				s.PathSuffix, s.Type, s.Length, s.BlockSize, s.ModificationTime)
		}
		fmt.Fprint(w, `]}}`)
	case "OPEN":
		f.opens++
		data, ok := f.files[p]
		off, _ := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
		switch {
		case !ok:
			w.WriteHeader(http.StatusNotFound)
		case off >= int64(len(data)):
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"RemoteException":{"exception":"IOException","message":"Offset=%d out of the range [0, %d); OPEN"}}`, off, len(data))
		default:
			w.Write(data[off:])
		}
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

func TestHDFSWatcher(t *testing.T) {
	fake := &fakeHDFS{files: map[string][]byte{}, listed: map[string]int64{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	w := NewHDFSWatcher(strings.TrimPrefix(srv.URL, "http://"), "gale", "/out", time.Millisecond)
	ctx := context.Background()
	w.Poll(ctx, false) // the directory does not exist yet: no error, nothing
	if st := w.Stats(); st.Errors != 0 {
		t.Fatalf("a missing directory is an error: %+v", st)
	}
	set := func(name string, data []byte, listed int64) {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		fake.files[name] = data
		if listed >= 0 {
			fake.listed[name] = listed
		} else {
			delete(fake.listed, name)
		}
	}
	// finished files in subdirectories, a hidden one
	set("/out/t/00000/a.log", recordLines(0, 0, 4, 100), -1)
	set("/out/t/00000/.b.log.tmp-x", recordLines(0, 4, 4, 100), -1)
	w.Poll(ctx, false)
	if got := w.Distinct(); got != 4 {
		t.Fatalf("%d records seen, want 4", got)
	}
	// a file written in place whose listed length stays 0 (a multiple of
	// its block size) is probed: its lines show, partial ones once complete
	grow := recordLines(1, 0, 6, 100)
	set("/out/s/part", grow[:250], 0)
	w.Poll(ctx, false)
	if got := w.Distinct(); got != 6 {
		t.Fatalf("probing: %d records seen, want 6", got)
	}
	time.Sleep(suspectEvery)
	set("/out/s/part", grow, 0)
	w.Poll(ctx, false)
	if got := w.Distinct(); got != 10 {
		t.Fatalf("after growth: %d records seen, want 10", got)
	}
	// once it grew, it is probed at every poll
	set("/out/s/part", append(slices.Clone(grow), recordLines(1, 6, 1, 100)...), 0)
	w.Poll(ctx, false)
	if got := w.Distinct(); got != 11 {
		t.Fatalf("growing file: %d records seen, want 11", got)
	}
	w.Poll(ctx, true)
	c := w.Seen().Check([]int64{4, 7})
	if !c.ExactlyOnce() {
		t.Errorf("Check = %+v", c)
	}
	if st := w.Stats(); st.Errors != 0 {
		t.Errorf("errors: %+v", st)
	}
}

// BenchmarkLocalPoll is one poll of a directory tree holding 4000 files
// already read (Gale writes one file per batch): its cost bounds how
// closely the watcher follows its 50 ms period.
func BenchmarkLocalPoll(b *testing.B) {
	dir := b.TempDir()
	w := NewLocalWatcher(dir, time.Millisecond)
	for p := range int32(4) {
		sub := filepath.Join(dir, "bench-peers", "topic", fmt.Sprintf("%05d", p))
		os.MkdirAll(sub, 0o755)
		for i := range int64(1000) {
			os.WriteFile(filepath.Join(sub, fmt.Sprintf("%012d.log", i)), recordLines(p, i*10, 10, 100), 0o644)
		}
	}
	ctx := context.Background()
	w.Poll(ctx, true)
	if w.Distinct() != 40000 {
		b.Fatalf("%d records", w.Distinct())
	}
	b.ResetTimer()
	for range b.N {
		w.Poll(ctx, false)
	}
}

// TestKafkaProducers: Prefill and Steady write every record, uncompressed,
// to the partition its id names, with consecutive seqs and no duplicates,
// as read back from the testenv Kafka by a consumer.
func TestKafkaProducers(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	k := &Kafka{Brokers: strings.Split(brokers, ",")}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("gale-bench-peers-test-%d", time.Now().UnixNano())
	if err := k.CreateTopic(ctx, topic, 3); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.DeleteTopicsWithPrefix(topic) })
	pre, err := k.Prefill(ctx, topic, 3, 10000, 100)
	if err != nil {
		t.Fatal(err)
	}
	steady, err := k.Steady(ctx, topic, 3, 2000, 500*time.Millisecond, 100)
	if err != nil {
		t.Fatal(err)
	}
	if pre.Total() != 10000 || steady.Total() < 500 || steady.Total() > 1100 {
		t.Fatalf("produced %d (prefill, want 10000) and %d (steady 2000/s for 0.5 s)", pre.Total(), steady.Total())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := pre.Total() + steady.Total()
	// partition p holds prefill's seqs 0..n-1, then steady's 0..m-1
	read := make([]int64, 3)
	for got := int64(0); got < want; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", got, want, err)
		}
		for _, e := range fs.Errors() {
			t.Fatalf("fetch: %v", e.Err)
		}
		for _, r := range fs.Records() {
			p, seq, _, err := ParseLine(r.Value)
			if err != nil || p != r.Partition {
				t.Fatalf("record %q in partition %d: partition %d (%v)", r.Value, r.Partition, p, err)
			}
			wantSeq := read[p]
			if wantSeq >= pre.PerPartition[p] {
				wantSeq -= pre.PerPartition[p]
			}
			if c := r.Attrs.CompressionType(); c != 0 {
				t.Fatalf("record at offset %d of partition %d is compressed (codec %d): the engines would pay for decompressing", r.Offset, p, c)
			}
			if len(r.Value) != 100 || seq != wantSeq {
				t.Fatalf("record %q (%d bytes) in partition %d at offset %d: seq %d, want %d", r.Value, len(r.Value), p, r.Offset, seq, wantSeq)
			}
			read[p]++
			got++
		}
	}
	for p, n := range read {
		if w := pre.PerPartition[p] + steady.PerPartition[p]; n != w {
			t.Errorf("partition %d: read %d records, produced %d", p, n, w)
		}
	}
}
