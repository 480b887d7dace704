package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// fakeScroll answers the requests of Writer.Documents for index "idx"
// (refresh, _cat/shards, a scroll search, its pages, the clear) from
// pages; the answer to page k is changed by page(k, answer) when set.
type fakeScroll struct {
	pages [][]string // the ids of each page
	total int        // hits.total.value (relation "eq")
	page  func(k int, answer map[string]any) (status int)
	pad   int // bytes of padding in each source

	mu      sync.Mutex
	next    int      // the page the next scroll request gets
	cleared []string // scroll ids cleared
	queries []string // the search bodies
}

func (f *fakeScroll) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	switch {
	case r.URL.Path == "/idx/_refresh":
		fmt.Fprint(w, `{"_shards":{"total":1,"successful":1,"failed":0}}`)
	case r.URL.Path == "/_cat/shards/idx":
		fmt.Fprint(w, `[{"index":"idx","shard":"0","prirep":"p"},{"index":"idx","shard":"0","prirep":"r"}]`)
	case r.Method == http.MethodDelete && r.URL.Path == "/_search/scroll":
		var req struct {
			IDs []string `json:"scroll_id"`
		}
		json.Unmarshal(body.Bytes(), &req)
		f.cleared = append(f.cleared, req.IDs...)
		fmt.Fprint(w, `{"succeeded":true,"num_freed":1}`)
	case r.URL.Path == "/idx/_search" || r.URL.Path == "/_search/scroll":
		scroll := r.URL.Query().Get("scroll") != "" || r.URL.Path == "/_search/scroll"
		if r.URL.Path == "/idx/_search" {
			f.queries = append(f.queries, body.String()+" ?"+r.URL.RawQuery)
			f.next = 0
		}
		k := f.next
		if scroll {
			f.next++
		}
		var hits []map[string]any
		if k < len(f.pages) {
			for _, id := range f.pages[k] {
				hits = append(hits, map[string]any{"_index": "idx", "_id": id, "_score": nil,
					"_source": json.RawMessage(source(id, f.pad)), "sort": []int{0}})
			}
		}
		answer := map[string]any{"_scroll_id": "scroll-1", "took": 1, "timed_out": false,
			"_shards": map[string]int{"total": 1, "successful": 1, "skipped": 0, "failed": 0},
			"hits":    map[string]any{"total": map[string]any{"value": f.total, "relation": "eq"}, "hits": hits}}
		status := http.StatusOK
		if f.page != nil && scroll {
			status = f.page(k, answer)
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(answer)
	default:
		fmt.Fprint(w, `{"name":"fake","cluster_name":"fake","version":{"distribution":"opensearch","number":"2.19.0"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`)
	}
}

// source is the fake's source of document id.
func source(id string, pad int) string {
	return fmt.Sprintf(`{"id":%q,"pad":%q}`, id, strings.Repeat("x", pad))
}

// readAll reads every document of w: the ids in the order visited.
func readAll(w *Writer, pad int) ([]string, error) {
	var ids []string
	err := w.Documents(context.Background(), "t", func(id string, src []byte) error {
		if want := source(id, pad); string(src) != want {
			return fmt.Errorf("document %s: source %s, want %s", id, src, want)
		}
		ids = append(ids, id)
		return nil
	})
	return ids, err
}

// TestDocuments_Scroll: Documents reads every page of the scroll, stops at
// the total the first page counted (or at an empty page), clears the
// scroll, and fails — never returns less — when the pages do not add up
// to the total, a shard fails, the search times out or the scroll is gone.
func TestDocuments_Scroll(t *testing.T) {
	pages := [][]string{{"ev/0/0", "ev/0/1", "ev/0/2"}, {"ev/0/3", "ev/0/4", "ev/0/5"}, {"ev/0/6"}}
	all := []string{"ev/0/0", "ev/0/1", "ev/0/2", "ev/0/3", "ev/0/4", "ev/0/5", "ev/0/6"}
	for _, tc := range []struct {
		name    string
		pages   [][]string
		total   int
		page    func(k int, answer map[string]any) int
		want    []string
		wantErr string
		expired bool
	}{{
		name: "pages that add up to the total", pages: pages, total: 7, want: all,
	}, {
		name: "no document", total: 0,
	}, {
		name: "a last page that is full", pages: pages[:2], total: 6, want: all[:6],
	}, {
		name: "an empty page before the total", pages: pages[:2], total: 7,
		wantErr: "scroll of index \"idx\" ended after 6 documents, its first page counted 7",
	}, {
		name: "more documents than the total", pages: pages, total: 5,
		wantErr: "scroll of index \"idx\" returned 6 documents, its first page counted 5",
	}, {
		name: "a shard failing on page 2", pages: pages, total: 7,
		page: func(k int, a map[string]any) int {
			if k == 1 {
				a["_shards"] = map[string]any{"total": 2, "successful": 1, "failed": 1,
					"failures": []any{map[string]any{"shard": 1, "reason": map[string]string{"type": "x_exception", "reason": "broken"}}}}
			}
			return 200
		},
		wantErr: `scroll of index "idx": 1 of 2 shards failed: {"reason":{"reason":"broken","type":"x_exception"},"shard":1}`,
	}, {
		name: "a search timing out", pages: pages, total: 7,
		page: func(k int, a map[string]any) int {
			a["timed_out"] = k == 2
			return 200
		},
		wantErr: `scroll of index "idx": the search timed out (partial results)`,
	}, {
		name: "the scroll gone on page 3", pages: pages, total: 7,
		page: func(k int, a map[string]any) int {
			if k < 2 {
				return 200
			}
			clear(a)
			a["error"] = map[string]any{"type": "search_phase_execution_exception", "reason": "all shards failed",
				"root_cause": []any{map[string]string{"type": "search_context_missing_exception", "reason": "No search context found for id [3]"}}}
			a["status"] = 404
			return 404
		},
		wantErr: "scroll of index \"idx\" after 6 of 7 documents (keep-alive 1m0s): the scroll expired or was cleared before the read ended " +
			"(status 404: search_phase_execution_exception: all shards failed (caused by search_context_missing_exception: No search context found for id [3]))",
		expired: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeScroll{pages: tc.pages, total: tc.total, page: tc.page}
			srv := httptest.NewServer(f)
			defer srv.Close()
			w := newTestWriter(t, srv.URL, nil)
			got, err := readAll(w, 0)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Documents: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.HasSuffix(err.Error(), tc.wantErr)):
				t.Fatalf("Documents: error %v, want one ending %q", err, tc.wantErr)
			case errors.Is(err, ErrScrollExpired) != tc.expired:
				t.Errorf("Documents: errors.Is(%v, ErrScrollExpired) = %v, want %v", err, !tc.expired, tc.expired)
			}
			if tc.wantErr == "" && strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("Documents visited %v, want %v", got, tc.want)
			}
			if len(f.queries) != 2 || !strings.Contains(f.queries[0], `"size":100,`) || strings.Contains(f.queries[0], "scroll=") ||
				!strings.Contains(f.queries[1], `"sort":["_doc"]`) || !strings.Contains(f.queries[1], `"size":10000`) ||
				!strings.Contains(f.queries[1], "scroll=60000ms") || strings.Contains(f.queries[1], "preference") {
				t.Errorf("searches %q: want a sample of 100 documents, then a scroll sorted by _doc, 10000 a page, scroll 60000ms, of every shard (the index has one)", f.queries)
			}
			if strings.Join(f.cleared, " ") != "scroll-1" {
				t.Errorf("cleared scrolls %q, want the one opened", f.cleared)
			}
		})
	}
}

// TestDocuments_PageBytes: the first documents tell how many a page of
// PageBytes holds: with sources of 10 kB, 4 MiB hold about 400.
func TestDocuments_PageBytes(t *testing.T) {
	f := &fakeScroll{pages: [][]string{{"ev/0/0", "ev/0/1"}, {"ev/0/2"}}, total: 3, pad: 10000}
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := newTestWriter(t, srv.URL, nil)
	if got, err := readAll(w, f.pad); err != nil || len(got) != 3 {
		t.Fatalf("Documents: %v, %v", got, err)
	}
	var q struct {
		Size int `json:"size"`
	}
	if len(f.queries) != 2 || json.Unmarshal([]byte(strings.Split(f.queries[1], " ?")[0]), &q) != nil || q.Size < 380 || q.Size > 420 {
		t.Errorf("searches %q: want the scroll's pages of about 400 documents", f.queries)
	}
}

// TestDocuments_FnError: fn's error ends the read and is returned; the
// scroll is cleared.
func TestDocuments_FnError(t *testing.T) {
	f := &fakeScroll{pages: [][]string{{"ev/0/0", "ev/0/1"}, {"ev/0/2", "ev/0/3"}, {"ev/0/4"}}, total: 5}
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := newTestWriter(t, srv.URL, nil)
	stop := errors.New("stop")
	n := 0
	err := w.Documents(context.Background(), "t", func(string, []byte) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("Documents: %v after %d documents, want fn's error after 3", err, n)
	}
	if strings.Join(f.cleared, " ") != "scroll-1" {
		t.Errorf("cleared scrolls %q, want the one opened", f.cleared)
	}
}

// The integration tests below run against the real OpenSearch of testenv.

// TestESDocuments_Pages: with pages of 7 documents, Documents visits every
// document once with its source byte for byte (spaces, number forms and
// escapes as written), whether the index holds no page, part of one,
// exactly one, one and one more document, or several; on an index of one
// shard (one scroll) and of three (three slices read at once).
func TestESDocuments_Pages(t *testing.T) {
	for _, shards := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d shards", shards), func(t *testing.T) {
			index := uniqueIndex(fmt.Sprintf("pages%d", shards))
			e := newES(t, index)
			if _, err := e.client.Indices.Create(context.Background(), opensearchapi.IndicesCreateReq{Index: index,
				Body: strings.NewReader(fmt.Sprintf(`{"settings":{"number_of_shards":%d,"number_of_replicas":0}}`, shards))}); err != nil {
				t.Fatal(err)
			}
			w := e.writer(index, nil)
			w.pageSize = 7
			var mu sync.Mutex
			scrolls := map[string]bool{}
			w.onScroll = func(id string) {
				mu.Lock()
				scrolls[id] = true
				mu.Unlock()
			}
			line := func(i int) string { return fmt.Sprintf(`{"n" : %d,  "f":1.50, "s":"\u00e9 é \"%d\""}`, i, i) }
			b := batchOf(23, line)
			written := 0
			for _, n := range []int{0, 1, 6, 7, 8, 14, 15, 23} {
				part := *b
				part.Records = b.Records[written:n]
				if _, err := w.WriteBatch(context.Background(), &part); err != nil {
					t.Fatal(err)
				}
				written = n
				clear(scrolls)
				docs := documents(t, w)
				if len(scrolls) != shards {
					t.Errorf("%d documents: Documents read %d scrolls at once, want one per shard (%d)", n, len(scrolls), shards)
				}
				if len(docs) != n {
					t.Errorf("%d documents: Documents visited %d", n, len(docs))
				}
				for _, r := range b.Records[:n] {
					if !bytes.Equal(docs[r.ID], r.Line) {
						t.Errorf("%d documents: %s is %s, want %s", n, r.ID, docs[r.ID], r.Line)
					}
				}
			}
		})
	}
}

// TestESDocuments_ScrollCleared: a scroll the cluster no longer holds
// (cleared here, as it is when its keep-alive passes between two pages)
// fails the read with ErrScrollExpired: what was read is not all there is.
func TestESDocuments_ScrollCleared(t *testing.T) {
	index := uniqueIndex("expiry")
	e := newES(t, index)
	w := e.writer(index, nil)
	w.pageSize = 5
	if _, err := w.WriteBatch(context.Background(), batchOf(40, func(i int) string { return fmt.Sprintf(`{"n":%d}`, i) })); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ids := map[string]bool{}
	w.onScroll = func(id string) {
		mu.Lock()
		ids[id] = true
		mu.Unlock()
	}
	n := 0
	err := w.Documents(context.Background(), "t", func(string, []byte) error {
		if n++; n == 1 {
			mu.Lock()
			var scrolls []string
			for id := range ids {
				scrolls = append(scrolls, id)
			}
			mu.Unlock()
			if _, err := e.client.Scroll.Delete(context.Background(), opensearchapi.ScrollDeleteReq{ScrollIDs: scrolls}); err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("Documents after its scroll was cleared: %v", err)
	if !errors.Is(err, ErrScrollExpired) || n >= 40 {
		t.Errorf("Documents after its scroll was cleared: %v after %d of 40 documents, want ErrScrollExpired", err, n)
	}
}

// TestPeekScrollID: the scroll id is read from the head of an answer, or
// found further on; an answer without one has none.
func TestPeekScrollID(t *testing.T) {
	for _, tc := range []struct{ answer, id, err string }{
		{`{"_scroll_id":"abc","took":1,"hits":{"hits":[{"_id":"x"}]}}`, "abc", ""},
		{`{"took":1,"hits":{"hits":[{"_id":"x","_source":{"_scroll_id":"no"}}]},"_scroll_id":"abc"}`, "abc", ""},
		{`{"took":1,"hits":{"hits":[]}}`, "", ""},
		{`[1]`, "", "not a JSON object"},
		{`{"took":1,"hits":{"hits":[`, "", "unexpected EOF"},
	} {
		id, err := peekScrollID([]byte(tc.answer))
		if id != tc.id || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("peekScrollID(%s) = %q, %v; want %q, %q", tc.answer, id, err, tc.id, tc.err)
		}
	}
}
