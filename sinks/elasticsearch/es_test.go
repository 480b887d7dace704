package elasticsearch

// Integration tests against the real OpenSearch that `testenv/testenv up es`
// starts (GALE_ES_URL); each test uses indices of its own (a random
// suffix) and deletes them at the end.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/gale-stream/gale/internal/testenv"
)

// uniqueIndex returns an index name (prefix) no other test run uses.
func uniqueIndex(name string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "gale-test-" + name + "-" + hex.EncodeToString(b)
}

// es is the test's view of the cluster.
type es struct {
	t      *testing.T
	url    string
	client *opensearchapi.Client
}

// newES connects to the test cluster and deletes the indices matching
// cleanup (a wildcard) when the test ends.
func newES(t *testing.T, cleanup string) *es {
	t.Helper()
	url := testenv.ESURL(t)
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{url}, RequestTimeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{cleanup},
			Params: opensearchapi.IndicesDeleteParams{AllowNoIndices: opensearchapi.ToPointer(true)}}); err != nil {
			t.Errorf("delete indices %s: %v", cleanup, err)
		}
		client.Close()
	})
	return &es{t: t, url: url, client: client}
}

func (e *es) writer(index string, mod func(*Config)) *Writer {
	e.t.Helper()
	c := NewConfig()
	c.URLs, c.Index = []string{e.url}, index
	if mod != nil {
		mod(c)
	}
	if err := c.Validate(); err != nil {
		e.t.Fatal(err)
	}
	w, err := NewWriter(c)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { w.Close() })
	return w
}

func (e *es) refresh(index string) {
	e.t.Helper()
	if _, err := e.client.Indices.Refresh(context.Background(), &opensearchapi.IndicesRefreshReq{Index: []string{index}}); err != nil {
		e.t.Fatalf("refresh %s: %v", index, err)
	}
}

func (e *es) count(index string) int {
	e.t.Helper()
	e.refresh(index)
	r, err := e.client.Indices.Count(context.Background(), &opensearchapi.IndicesCountReq{Indices: []string{index}})
	if err != nil {
		e.t.Fatalf("count %s: %v", index, err)
	}
	return r.Count
}

func (e *es) exists(index string) bool {
	e.t.Helper()
	resp, err := e.client.Indices.Exists(context.Background(), opensearchapi.IndicesExistsReq{Indices: []string{index}})
	if resp != nil && resp.StatusCode == 404 {
		return false
	}
	if err != nil {
		e.t.Fatalf("exists %s: %v", index, err)
	}
	return true
}

// documents reads every document through Writer.Documents: id -> source.
func documents(t *testing.T, w *Writer) map[string][]byte {
	t.Helper()
	docs := map[string][]byte{}
	err := w.Documents(context.Background(), "t", func(id string, source []byte) error {
		if _, dup := docs[id]; dup {
			return fmt.Errorf("document %s visited twice", id)
		}
		docs[id] = bytes.Clone(source)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestESReplayIsIdempotent: 2,000 documents written twice (a replay) are
// 2,000 documents, whose sources are the records' lines, byte for byte.
func TestESReplayIsIdempotent(t *testing.T) {
	index := uniqueIndex("replay")
	e := newES(t, index)
	w := e.writer(index, func(c *Config) { c.BulkMaxDocs = 700 }) // 3 requests
	const n = 2000
	b := batchOf(n, func(i int) string {
		return fmt.Sprintf(`{"n":%d,"user":"u%d","text":"record %d of the replay test"}`, i, i%13, i)
	})
	ctx := context.Background()
	for round := range 2 {
		sent, rejected, err := w.WriteBatchRejecting(ctx, b)
		if err != nil {
			t.Fatalf("write %d: %v", round, err)
		}
		if len(rejected) > 0 || sent < int64(n*40) {
			t.Fatalf("write %d: %d bytes sent, rejected %v", round, sent, rejected)
		}
	}
	if got := e.count(index); got != n {
		t.Fatalf("_count = %d after a write and a replay of %d documents", got, n)
	}
	for _, i := range []int{0, 1, 999, 1000, 1999} {
		r := b.Records[i]
		got, err := e.client.Document.Get(ctx, opensearchapi.DocumentGetReq{Index: index, DocumentID: r.ID})
		if err != nil {
			t.Fatalf("get %s: %v", r.ID, err)
		}
		if !got.Found || !bytes.Equal(got.Source, r.Line) {
			t.Errorf("get %s: found %v, source %s, want %s", r.ID, got.Found, got.Source, r.Line)
		}
	}
	res, err := e.client.Search(ctx, &opensearchapi.SearchReq{Indices: []string{index}, Body: strings.NewReader(`{"query":{"term":{"n":1234}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits.Hits) != 1 || res.Hits.Hits[0].ID != b.Records[1234].ID || !bytes.Equal(res.Hits.Hits[0].Source, b.Records[1234].Line) {
		t.Errorf("search n=1234: %+v", res.Hits.Hits)
	}
	docs := documents(t, w)
	if len(docs) != n {
		t.Fatalf("Documents visited %d documents, want %d", len(docs), n)
	}
	for _, r := range b.Records {
		if !bytes.Equal(docs[r.ID], r.Line) {
			t.Fatalf("Documents: %s is %s, want %s", r.ID, docs[r.ID], r.Line)
		}
	}
}

// TestESMappingRejection: a document the mapping refuses comes back as a
// rejection naming the index and the reason; the others are written.
func TestESMappingRejection(t *testing.T) {
	index := uniqueIndex("mapping")
	e := newES(t, index)
	ctx := context.Background()
	if _, err := e.client.Indices.Create(ctx, opensearchapi.IndicesCreateReq{Index: index, Body: strings.NewReader(
		`{"settings":{"number_of_shards":1,"number_of_replicas":0},"mappings":{"properties":{"n":{"type":"long"}}}}`)}); err != nil {
		t.Fatal(err)
	}
	w := e.writer(index, nil)
	b := batchOf(50, func(i int) string {
		if i == 17 {
			return `{"n":"abc"}`
		}
		return fmt.Sprintf(`{"n":%d}`, i)
	})
	_, rejected, err := w.WriteBatchRejecting(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 1 || rejected[0].ID != "ev/0/17" ||
		!strings.HasPrefix(rejected[0].Error, index+": mapper_parsing_exception: ") || !strings.Contains(rejected[0].Error, "[n]") {
		t.Fatalf("rejected %+v, want ev/0/17 with %q and the field", rejected, index+": mapper_parsing_exception: ")
	}
	t.Logf("rejection: %s", rejected[0].Error)
	if got := e.count(index); got != 49 {
		t.Errorf("_count = %d, want the 49 other documents", got)
	}
	docs := documents(t, w)
	if _, ok := docs["ev/0/17"]; ok || len(docs) != 49 {
		t.Errorf("Documents: %d documents, rejected one present: %v", len(docs), ok)
	}
}

// TestESDatePattern: records land in the index of their day (UTC), those
// without a timestamp in the "none" index; Documents reads them all.
func TestESDatePattern(t *testing.T) {
	prefix := uniqueIndex("dated")
	e := newES(t, prefix+"-*")
	w := e.writer(prefix+"-{2006.01.02}", nil)
	day1 := time.Date(2026, 11, 27, 23, 59, 0, 0, time.UTC)
	b := batchOf(30, func(i int) string { return fmt.Sprintf(`{"n":%d}`, i) })
	for i := range b.Records {
		switch i % 3 {
		case 0:
			b.Records[i].Time = day1
		case 1: // 00:30 on the 28th in UTC, still the 27th in New York
			ny, _ := time.LoadLocation("America/New_York")
			b.Records[i].Time = day1.Add(31 * time.Minute).In(ny)
		}
	}
	if _, rej, err := w.WriteBatchRejecting(context.Background(), b); err != nil || len(rej) > 0 {
		t.Fatalf("write: %v %v", err, rej)
	}
	for _, idx := range []string{prefix + "-2026.11.27", prefix + "-2026.11.28", prefix + "-none"} {
		if got := e.count(idx); got != 10 {
			t.Errorf("%s holds %d documents, want 10", idx, got)
		}
	}
	res, err := e.client.Search(context.Background(), &opensearchapi.SearchReq{Indices: []string{prefix + "-*"},
		Body: strings.NewReader(`{"size":100,"query":{"match_all":{}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{0: prefix + "-2026.11.27", 1: prefix + "-2026.11.28", 2: prefix + "-none"}
	for _, h := range res.Hits.Hits {
		var src struct{ N int }
		json.Unmarshal(h.Source, &src)
		if h.Index != want[src.N%3] {
			t.Errorf("%s (n=%d) is in %s, want %s", h.ID, src.N, h.Index, want[src.N%3])
		}
	}
	if docs := documents(t, w); len(docs) != 30 {
		t.Errorf("Documents visited %d documents, want 30", len(docs))
	}
}

// TestESNoCreateIndex: with create_index false a missing index is an error
// naming it (and is not created); once it exists, writes go through.
func TestESNoCreateIndex(t *testing.T) {
	index := uniqueIndex("nocreate")
	e := newES(t, index)
	w := e.writer(index, func(c *Config) { c.CreateIndex = false })
	b := batchOf(5, func(i int) string { return fmt.Sprintf(`{"n":%d}`, i) })
	ctx := context.Background()
	_, _, err := w.WriteBatchRejecting(ctx, b)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("index %q does not exist", index)) {
		t.Fatalf("err = %v, want one naming the missing index %s", err, index)
	}
	if e.exists(index) {
		t.Fatalf("index %s was created", index)
	}
	if docs := documents(t, w); len(docs) != 0 {
		t.Errorf("Documents of a missing index: %d documents", len(docs))
	}
	if _, err := e.client.Indices.Create(ctx, opensearchapi.IndicesCreateReq{Index: index,
		Body: strings.NewReader(`{"settings":{"number_of_replicas":0}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.WriteBatchRejecting(ctx, b); err != nil {
		t.Fatalf("write once the index exists: %v", err)
	}
	if got := e.count(index); got != 5 {
		t.Errorf("_count = %d, want 5", got)
	}
}

// TestESCreatesIndexWithoutAutoCreate: with create_index true, an index
// that auto-creation may not make is created explicitly.
func TestESCreatesIndexWithoutAutoCreate(t *testing.T) {
	index := uniqueIndex("explicit")
	e := newES(t, index)
	ctx := context.Background()
	// a bulk item with require_alias answers index_not_found_exception,
	// as one without auto-creation does: fake it by a writer whose
	// action lines ask for an alias
	w := e.writer(index, nil)
	b := batchOf(4, func(i int) string { return fmt.Sprintf(`{"n":%d}`, i) })
	docs := make([]*doc, len(b.Records))
	for i, r := range b.Records {
		docs[i] = &doc{pos: i, index: index, id: r.ID, source: r.Line,
			action: []byte(fmt.Sprintf(`{"index":{"_index":%q,"_id":%q,"require_alias":true}}`+"\n", index, r.ID))}
	}
	_, retry, rejected, err := w.bulk(ctx, docs)
	if err != nil || len(rejected) > 0 {
		t.Fatalf("bulk: %v, rejected %v", err, rejected)
	}
	if len(retry) != 4 || !e.exists(index) {
		t.Fatalf("%d documents to resend, index exists: %v; want 4 and the index created", len(retry), e.exists(index))
	}
	if _, _, err := w.WriteBatchRejecting(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := e.count(index); got != 4 {
		t.Errorf("_count = %d, want 4", got)
	}
}
