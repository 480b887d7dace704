package bench

// BenchmarkVerify times `gale verify` (issue 17) beside bare reads of the
// same data, in one run:
//
//	testenv/testenv up es && eval "$(testenv/testenv env)"
//	go test -run '^$' -bench Verify -benchtime 1x -timeout 30m ./bench/
//
// GALE_BENCH_VERIFY_DOCS (default 1e6) and GALE_BENCH_VERIFY_FILES
// (default 10000) set the size: a topology whose file ledger committed
// FILES batches of DOCS/FILES records (4 partitions of topic "events"), a
// file_sink that wrote each batch as one lz4 file and an es_sink that
// indexed each record as one document, both through the sinks' own
// Writers (the names, _ids, index actions and sources the sink bolts
// write). Seeding 1M documents takes a minute or two, outside the timers.
// With GALE_BENCH_VERIFY_DIR set, the seeded data stays (files and ledger
// in that directory, the index in OpenSearch) and a later run with the
// same directory and sizes reads it again instead of seeding: two builds
// (before and after a change) measured on the same data.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/gale-stream/gale/cli"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/elasticsearch"
	"github.com/gale-stream/gale/sinks/file"
	"github.com/gale-stream/gale/tuple"
)

const (
	verifyTopology   = "verify-bench"
	verifyTopic      = "events"
	verifyPartitions = 4
	verifyRecordSize = 100 // bytes of each record, a JSON document
	// verifyPage is the page size of the bare Elasticsearch reads (that of
	// the verify read path, elasticsearch.PageSize, once it reads 10k)
	verifyPage = 10000
)

// verifyData is the seeded data of one BenchmarkVerify run.
type verifyData struct {
	docs, files int
	dir         string // the file sink's directory
	esURL       string
	index       string
	// topologies: both sinks, and the file sink alone
	both, filesOnly string
}

// verifySeed is what GALE_BENCH_VERIFY_DIR/seeded.json records.
type verifySeed struct {
	Docs, Files int
	URL, Index  string
}

func envCount(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return int(f)
}

// BenchmarkVerify: gale verify of the file sink alone (FILES files), of
// both sinks (FILES files and DOCS documents; the sinks are read at once
// since the read paths went parallel, so this is about the slower one),
// and the baselines: a bare parallel read (and lz4 decode) of the files
// with GOMAXPROCS workers, and a bare sequential `_search` search_after
// read (point in time, sort _doc, pages of verifyPage) of every
// document's _id, then of every _id and _source.
func BenchmarkVerify(b *testing.B) {
	d := seedVerify(b)
	b.Run("bare-files-parallel-read", func(b *testing.B) {
		for range b.N {
			start := time.Now()
			n, bytes := bareReadFiles(b, d.dir)
			report(b, start, "files", n, bytes)
			if n != d.files {
				b.Fatalf("read %d files, want %d", n, d.files)
			}
		}
	})
	b.Run("verify-files", func(b *testing.B) {
		for range b.N {
			start := time.Now()
			runVerify(b, d.filesOnly, d, false)
			report(b, start, "files", d.files, 0)
		}
	})
	for _, source := range []bool{false, true} {
		name := "bare-es-search-after-ids"
		if source {
			name = "bare-es-search-after-sources"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				start := time.Now()
				n, bytes := bareReadES(b, d.esURL, d.index, source)
				report(b, start, "docs", n, bytes)
				if n != d.docs {
					b.Fatalf("read %d documents, want %d", n, d.docs)
				}
			}
		})
	}
	b.Run("verify-files+es", func(b *testing.B) {
		for range b.N {
			start := time.Now()
			runVerify(b, d.both, d, true)
			report(b, start, "docs", d.docs, 0)
		}
	})
}

// report prints and reports one measurement: seconds, and n things/s.
func report(b *testing.B, start time.Time, what string, n int, size int64) {
	took := time.Since(start)
	b.ReportMetric(took.Seconds(), "s")
	b.ReportMetric(float64(n)/took.Seconds(), what+"/s")
	if size > 0 {
		b.ReportMetric(float64(size)/took.Seconds()/1e6, "MB/s")
	}
	fmt.Printf("verify: %-40s %9d %-5s in %7.2f s\n", b.Name(), n, what, took.Seconds())
}

// runVerify runs `gale verify --json` on topology spec and checks that it
// is clean and counted every batch and record. It reports the peaks of
// the heap, sampled every 10 ms while verify ran: all of it (live objects
// and garbage not yet collected: what the process needs, with the GOGC
// of the gale binary) and the live heap the last collection found (what
// verify holds).
func runVerify(b *testing.B, spec string, d *verifyData, withES bool) {
	var out, errs bytes.Buffer
	runtime.GC()
	stop := make(chan struct{})
	peaks := make(chan [2]uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		var top [2]uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			top[0], top[1] = max(top[0], sample[0].Value.Uint64()), max(top[1], sample[1].Value.Uint64())
			select {
			case <-stop:
				peaks <- top
				return
			case <-tick.C:
			}
		}
	}()
	code := cli.Run(context.Background(), &cli.Env{Stdout: &out, Stderr: &errs}, []string{"verify", "--json", spec})
	close(stop)
	top := <-peaks
	b.ReportMetric(float64(top[0])/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(top[1])/(1<<20), "peak-live-MiB")
	fmt.Printf("verify: %-40s peak heap %.0f MiB, of which live %.0f MiB\n", b.Name(), float64(top[0])/(1<<20), float64(top[1])/(1<<20))
	if code != 0 {
		b.Fatalf("gale verify: exit %d\nstdout:\n%.4000s\nstderr:\n%.4000s", code, out.String(), errs.String())
	}
	var rep struct {
		Committed int `json:"committed_batches"`
		Sinks     []struct {
			Component string `json:"component"`
			Batches   int    `json:"batches"`
			Records   int    `json:"records"`
		} `json:"sinks"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		b.Fatalf("gale verify --json: %v\n%.4000s", err, out.String())
	}
	want := 1
	if withES {
		want = 2
	}
	if rep.Committed != d.files || len(rep.Sinks) != want {
		b.Fatalf("gale verify: %d committed batches, %d sinks; want %d, %d\n%.4000s", rep.Committed, len(rep.Sinks), d.files, want, out.String())
	}
	for _, s := range rep.Sinks {
		if s.Batches != d.files || s.Records != d.docs {
			b.Fatalf("gale verify: sink %s holds %d batches, %d records; want %d, %d", s.Component, s.Batches, s.Records, d.files, d.docs)
		}
	}
}

// verifyLine is record off of partition p: a JSON document of exactly
// verifyRecordSize bytes.
func verifyLine(p int32, off int64) []byte {
	v := fmt.Appendf(nil, `{"p":%d,"n":%d,"user":"u%d","msg":"`, p, off, off%97)
	for j := 0; len(v) < verifyRecordSize-2; j++ {
		v = append(v, 'a'+byte((off+int64(j))%26))
	}
	return append(v, '"', '}')
}

// seedVerify writes the ledger, the files and the documents, and the two
// topologies; the index is deleted when the benchmark ends.
func seedVerify(b *testing.B) *verifyData {
	url := os.Getenv(testenv.ESURLVar)
	if url == "" {
		b.Skip(testenv.ESURLVar + " is not set: start OpenSearch with testenv/testenv up es && eval \"$(testenv/testenv env)\"")
	}
	d := &verifyData{docs: envCount(b, "GALE_BENCH_VERIFY_DOCS", 1e6), files: envCount(b, "GALE_BENCH_VERIFY_FILES", 1e4),
		esURL: url, index: "gale-bench-verify-" + uniqueSuffix()}
	if d.files%verifyPartitions != 0 || d.docs%d.files != 0 {
		b.Fatalf("%d documents in %d files: want files a multiple of %d and documents of files", d.docs, d.files, verifyPartitions)
	}
	perBatch := d.docs / d.files
	perPart := d.files / verifyPartitions
	tmp := os.Getenv("GALE_BENCH_VERIFY_DIR")
	keep := tmp != ""
	if !keep {
		tmp = b.TempDir()
	}
	d.dir = filepath.Join(tmp, "files")
	ledgerDir := filepath.Join(tmp, "ledger")
	d.both, d.filesOnly = filepath.Join(tmp, "both.json"), filepath.Join(tmp, "files.json")
	seeded := filepath.Join(tmp, "seeded.json")
	if keep {
		var prev verifySeed
		if js, err := os.ReadFile(seeded); err == nil && json.Unmarshal(js, &prev) == nil {
			if prev.Docs != d.docs || prev.Files != d.files || prev.URL != url {
				b.Fatalf("%s holds %d documents and %d files on %s: remove it, or set the same sizes", tmp, prev.Docs, prev.Files, prev.URL)
			}
			d.index = prev.Index
			fmt.Printf("verify: reusing the %d files in %s and the %d documents of index %s\n", d.files, tmp, d.docs, d.index)
			return d
		}
		if err := os.RemoveAll(tmp); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	t0 := time.Now()

	// the ledger: every batch planned and committed
	store, err := ledger.NewFileStore(ledgerDir)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	metas := make([][]*tuple.BatchMeta, verifyPartitions)
	for p := range int32(verifyPartitions) {
		key := ledger.Key{Topology: verifyTopology, Spout: "k", Topic: verifyTopic, Partition: p}
		w, _, err := store.Open(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		plans := make([]ledger.Plan, perPart)
		seqs := make([]uint64, perPart)
		for s := range perPart {
			plans[s] = ledger.Plan{Key: key, Seq: uint64(s), Start: int64(s * perBatch), End: int64((s + 1) * perBatch)}
			seqs[s] = uint64(s)
			metas[p] = append(metas[p], &tuple.BatchMeta{ID: plans[s].BatchID(), Source: verifyTopic, Partition: p,
				Seq: uint64(s), Start: plans[s].Start, End: plans[s].End})
		}
		if err := w.Plan(ctx, plans...); err != nil {
			b.Fatal(err)
		}
		if err := w.Commit(ctx, seqs...); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
	batch := func(m *tuple.BatchMeta) *sinks.Batch {
		sb := &sinks.Batch{Topology: verifyTopology, Meta: m, Records: make([]sinks.Record, 0, m.End-m.Start)}
		for o := m.Start; o < m.End; o++ {
			sb.Records = append(sb.Records, sinks.Record{ID: fmt.Sprintf("%s/%d/%d", verifyTopic, m.Partition, o), Line: verifyLine(m.Partition, o)})
		}
		return sb
	}

	// the topologies
	sinkInput := []map[string]string{{"component": "k", "grouping": "batch"}}
	filesBolt := map[string]any{"id": "files", "type": file.TypeName, "inputs": sinkInput, "config": map[string]any{"dir": d.dir, "no_fsync": true}}
	esBolt := map[string]any{"id": "search", "type": elasticsearch.TypeName, "inputs": sinkInput,
		"config": map[string]any{"urls": []string{url}, "index": d.index}}
	topo := func(name string, bolts ...map[string]any) string {
		js, err := json.Marshal(map[string]any{"name": verifyTopology,
			"spouts": []map[string]any{{"id": "k", "type": "kafka", "config": map[string]any{
				"brokers": []string{"127.0.0.1:1"}, "topics": []string{verifyTopic}, "ledger": map[string]any{"kind": "file", "dir": ledgerDir}}}},
			"bolts": bolts})
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, js, 0o644); err != nil {
			b.Fatal(err)
		}
		return p
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		b.Fatal(err)
	}
	topo("both.json", filesBolt, esBolt)
	topo("files.json", filesBolt)

	// the files, by the file sink's Writer (no fsync: the benchmark times
	// the reading)
	fc := file.NewConfig()
	fc.Dir, fc.NoFsync = d.dir, true
	if err := fc.Validate(); err != nil {
		b.Fatal(err)
	}
	fw := fc.Writer()
	parallel(b, d.files, func(i int) error {
		_, err := fw.WriteBatch(ctx, batch(metas[i%verifyPartitions][i/verifyPartitions]))
		return err
	})
	fmt.Printf("verify: seeded %d batches into the ledger and %d files in %.1f s\n", d.files, d.files, time.Since(t0).Seconds())

	// the documents, by the es_sink's Writer: records of up to 1000 at a
	// time (the batches' documents, the same _ids, index and sources;
	// fewer requests than one per batch)
	t0 = time.Now()
	ec := elasticsearch.NewConfig()
	ec.URLs, ec.Index = []string{url}, d.index
	if err := ec.Validate(); err != nil {
		b.Fatal(err)
	}
	ew, err := elasticsearch.NewWriter(ec)
	if err != nil {
		b.Fatal(err)
	}
	defer ew.Close()
	b.Cleanup(func() {
		if keep {
			return
		}
		c, err := elasticsearch.NewWriter(ec)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		if _, err := c.Client().Indices.Delete(context.Background(), opensearchapi.IndicesDeleteReq{Indices: []string{d.index}}); err != nil {
			b.Errorf("delete index %s: %v", d.index, err)
		}
	})
	group := max(1, elasticsearch.DefaultBulkMaxDocs/perBatch)
	var written atomic.Int64
	parallel(b, (d.files+group-1)/group, func(i int) error {
		var sb *sinks.Batch
		for k := i * group; k < min((i+1)*group, d.files); k++ {
			// the group's batches are consecutive ones of one partition
			m := metas[(k/perPart)%verifyPartitions][k%perPart]
			if sb == nil {
				sb = batch(m)
			} else {
				sb.Records = append(sb.Records, batch(m).Records...)
			}
		}
		_, err := ew.WriteBatch(ctx, sb)
		if n := written.Add(int64(len(sb.Records))); n%100000 < int64(len(sb.Records)) {
			fmt.Printf("verify: indexed %d documents (%.0f/s)\n", n, float64(n)/time.Since(t0).Seconds())
		}
		return err
	})
	client := ew.Client()
	if _, err := client.Indices.Refresh(ctx, &opensearchapi.IndicesRefreshReq{Index: []string{d.index}}); err != nil {
		b.Fatalf("refresh %s: %v", d.index, err)
	}
	r, err := client.Indices.Count(ctx, &opensearchapi.IndicesCountReq{Indices: []string{d.index}})
	if err != nil {
		b.Fatalf("count %s: %v", d.index, err)
	}
	if r.Count != d.docs {
		b.Fatalf("index %s holds %d documents, want %d", d.index, r.Count, d.docs)
	}
	fmt.Printf("verify: seeded %d documents into index %s in %.1f s\n", d.docs, d.index, time.Since(t0).Seconds())
	if keep {
		js, _ := json.Marshal(verifySeed{Docs: d.docs, Files: d.files, URL: url, Index: d.index})
		if err := os.WriteFile(seeded, js, 0o644); err != nil {
			b.Fatal(err)
		}
		fmt.Printf("verify: kept in %s and index %s (delete both when done)\n", tmp, d.index)
	}
	return d
}

// parallel calls fn(0..n-1) from 4 goroutines; the first error fails b.
func parallel(b *testing.B, n int, fn func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// bareReadFiles reads and decodes every file below dir with GOMAXPROCS
// workers: the files and the content bytes.
func bareReadFiles(b *testing.B, dir string) (int, int64) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var size atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return
				}
				data, err := os.ReadFile(paths[i])
				if err == nil {
					data, err = sinks.Decode(nil, data)
				}
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
				size.Add(int64(len(data)))
			}
		}()
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
	return len(paths), size.Load()
}

// bareReadES reads every document of index in one sequence of `_search`
// requests (a point in time, sort _doc, search_after, pages of
// verifyPage) over plain net/http, decoding only _id (and _source):
// the documents and the response bytes. The index has one shard, so _doc
// alone orders the hits.
func bareReadES(b *testing.B, url, index string, source bool) (int, int64) {
	post := func(path string, body any, out any) int64 {
		var rd io.Reader
		if body != nil {
			js, _ := json.Marshal(body)
			rd = bytes.NewReader(js)
		}
		req, _ := http.NewRequest(http.MethodPost, url+path, rd)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != 200 {
			b.Fatalf("POST %s: %s: %.2000s", path, resp.Status, data)
		}
		if err := json.Unmarshal(data, out); err != nil {
			b.Fatal(err)
		}
		return int64(len(data))
	}
	var pit struct {
		ID string `json:"pit_id"`
	}
	post("/"+index+"/_search/point_in_time?keep_alive=1m", nil, &pit)
	defer func() {
		req, _ := http.NewRequest(http.MethodDelete, url+"/_search/point_in_time", strings.NewReader(`{"pit_id":[`+strconv.Quote(pit.ID)+`]}`))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	n := 0
	var size int64
	var after []any
	for {
		q := map[string]any{"size": verifyPage, "pit": map[string]any{"id": pit.ID, "keep_alive": "1m"},
			"sort": []string{"_doc"}, "track_total_hits": false, "_source": source}
		if after != nil {
			q["search_after"] = after
		}
		var page struct {
			Hits struct {
				Hits []struct {
					ID     string          `json:"_id"`
					Source json.RawMessage `json:"_source"`
					Sort   []any           `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		size += post("/_search", q, &page)
		hits := page.Hits.Hits
		n += len(hits)
		if len(hits) < verifyPage {
			return n, size
		}
		after = hits[len(hits)-1].Sort
	}
}
