package testenv

// Integration test against the real OpenSearch that `testenv/testenv up es` starts
// (GALE_ES_URL): what Gale's Elasticsearch sink relies on (index create, _bulk with explicit
// ids, refresh, _count, get by id, _search).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

type esDoc struct {
	Seq   int    `json:"seq"`
	Word  string `json:"word"`
	Topic string `json:"topic"`
	Body  string `json:"body"`
}

func esDocFor(i int) esDoc {
	return esDoc{
		Seq:   i,
		Word:  fmt.Sprintf("w%04d", i), // a keyword: one document per value
		Topic: "events",
		Body:  fmt.Sprintf("tuple %d of the gale testenv bulk", i),
	}
}

func TestESBulkCountGetSearch(t *testing.T) {
	url := ESURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses:      []string{url},
		RequestTimeout: 30 * time.Second,
	}})
	if err != nil {
		t.Fatalf("client for %s: %v", url, err)
	}
	index := uniqueName("es")

	mapping := `{"settings":{"number_of_shards":1,"number_of_replicas":0},
		"mappings":{"properties":{"seq":{"type":"integer"},"word":{"type":"keyword"},
		"topic":{"type":"keyword"},"body":{"type":"text"}}}}`
	created, err := client.Indices.Create(ctx, opensearchapi.IndicesCreateReq{Index: index, Body: strings.NewReader(mapping)})
	if err != nil {
		t.Fatalf("create index %s: %v", index, err)
	}
	if !created.Acknowledged {
		t.Fatalf("create index %s: not acknowledged", index)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{index}}); err != nil {
			t.Errorf("delete index %s: %v", index, err)
		}
	})

	// Bulk-index 1,000 documents with explicit ids.
	const n = 1000
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for i := 0; i < n; i++ {
		if err := enc.Encode(map[string]any{"index": map[string]any{"_index": index, "_id": fmt.Sprintf("doc-%04d", i)}}); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(esDocFor(i)); err != nil {
			t.Fatal(err)
		}
	}
	bulk, err := client.Bulk(ctx, opensearchapi.BulkReq{Body: &body})
	if err != nil {
		t.Fatalf("bulk: %v", err)
	}
	if bulk.Errors || len(bulk.Items) != n {
		t.Fatalf("bulk: errors=%v, %d items (want %d); first item: %+v", bulk.Errors, len(bulk.Items), n, bulk.Items[0])
	}
	for i, item := range bulk.Items {
		r := item["index"]
		if r.ID != fmt.Sprintf("doc-%04d", i) || r.Result != "created" || r.Status != 201 {
			t.Fatalf("bulk item %d: id %q result %q status %d", i, r.ID, r.Result, r.Status)
		}
	}

	if _, err := client.Indices.Refresh(ctx, &opensearchapi.IndicesRefreshReq{Index: []string{index}}); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	count, err := client.Indices.Count(ctx, &opensearchapi.IndicesCountReq{Indices: []string{index}})
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	if count.Count != n {
		t.Fatalf("_count = %d, want %d", count.Count, n)
	}

	// Get one document by id and compare its source.
	const pick = 737
	got, err := client.Document.Get(ctx, opensearchapi.DocumentGetReq{Index: index, DocumentID: fmt.Sprintf("doc-%04d", pick)})
	if err != nil {
		t.Fatalf("get doc-%04d: %v", pick, err)
	}
	var src esDoc
	if err := json.Unmarshal(got.Source, &src); err != nil {
		t.Fatalf("get doc-%04d: source %s: %v", pick, got.Source, err)
	}
	if !got.Found || src != esDocFor(pick) {
		t.Fatalf("get doc-%04d: found=%v source %+v, want %+v", pick, got.Found, src, esDocFor(pick))
	}

	// A term query finds exactly that document.
	query := fmt.Sprintf(`{"query":{"term":{"word":"w%04d"}}}`, pick)
	res, err := client.Search(ctx, &opensearchapi.SearchReq{Indices: []string{index}, Body: strings.NewReader(query)})
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if res.Hits.Total.Value != 1 || len(res.Hits.Hits) != 1 || res.Hits.Hits[0].ID != fmt.Sprintf("doc-%04d", pick) {
		t.Fatalf("search word=w%04d: total %d, hits %+v", pick, res.Hits.Total.Value, res.Hits.Hits)
	}
	// And a term that is in no document finds nothing.
	res, err = client.Search(ctx, &opensearchapi.SearchReq{Indices: []string{index},
		Body: strings.NewReader(`{"query":{"term":{"word":"absent"}}}`)})
	if err != nil {
		t.Fatalf("search absent: %v", err)
	}
	if res.Hits.Total.Value != 0 {
		t.Fatalf("search word=absent: total %d, want 0", res.Hits.Total.Value)
	}
}
