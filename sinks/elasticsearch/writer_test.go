package elasticsearch

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/tuple"
)

func TestParseIndex(t *testing.T) {
	day := time.Date(2026, 11, 27, 23, 30, 0, 0, time.FixedZone("x", 2*3600)) // 21:30 UTC
	for _, c := range []struct{ in, name, none, wild string }{
		{"logs", "logs", "logs", "logs"},
		{"logs-{2006.01.02}", "logs-2026.11.27", "logs-none", "logs-*"},
		{"{2006-01-02-15}-gale", "2026-11-27-21-gale", "none-gale", "*-gale"},
	} {
		p, err := ParseIndex(c.in)
		if err != nil {
			t.Fatalf("ParseIndex(%q): %v", c.in, err)
		}
		if got := p.Name(day); got != c.name {
			t.Errorf("%q.Name(day) = %q, want %q", c.in, got, c.name)
		}
		if got := p.Name(time.Time{}); got != c.none {
			t.Errorf("%q.Name(zero) = %q, want %q", c.in, got, c.none)
		}
		if got := p.Wildcard(); got != c.wild {
			t.Errorf("%q.Wildcard() = %q, want %q", c.in, got, c.wild)
		}
		if p.String() != c.in {
			t.Errorf("String() = %q, want %q", p.String(), c.in)
		}
	}
	for _, bad := range []string{"", "Logs", "logs-{Jan-02}", "logs-{2006", "logs-}", "logs-{}", "logs-{x}", "a{2006}b{01}", "_logs", "lo gs", "logs*", "logs-{2006/01}"} {
		if _, err := ParseIndex(bad); !errors.Is(err, sinks.ErrConfig) {
			t.Errorf("ParseIndex(%q) = %v, want a config error", bad, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	valid := func() *Config {
		c := NewConfig()
		c.URLs, c.Index = []string{"http://127.0.0.1:9200"}, "logs-{2006.01.02}"
		return c
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	c := valid()
	if !c.CreateIndex || c.BulkMaxDocs != 1000 || c.BulkMaxBytes != 5<<20 || c.RequestTimeoutMS != 30000 {
		t.Errorf("defaults: %+v", c)
	}
	for name, mod := range map[string]func(*Config){
		"lines format":   func(c *Config) { c.Format = sinks.FormatLines },
		"no urls":        func(c *Config) { c.URLs = nil },
		"bad url":        func(c *Config) { c.URLs = []string{"127.0.0.1:9200"} },
		"no index":       func(c *Config) { c.Index = "" },
		"bad index":      func(c *Config) { c.Index = "Logs" },
		"zero docs":      func(c *Config) { c.BulkMaxDocs = 0 },
		"zero bytes":     func(c *Config) { c.BulkMaxBytes = 0 },
		"zero timeout":   func(c *Config) { c.RequestTimeoutMS = 0 },
		"time partition": func(c *Config) { c.TimePartition = sinks.PartitionDay },
	} {
		c := valid()
		mod(c)
		if err := c.Validate(); !errors.Is(err, sinks.ErrConfig) {
			t.Errorf("%s: Validate() = %v, want a config error", name, err)
		}
	}
}

// TestTypeDecodes: the registered type decodes a component's config, with
// defaults, and refuses a bad one naming the key.
func TestTypeDecodes(t *testing.T) {
	ct, err := registry.Describe(Type())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ct.DecodeSettings([]byte(`{"urls": ["http://127.0.0.1:9200"], "index": "ev-{2006.01.02}", "create_index": false, "bulk_max_docs": 10}`), "config")
	if err != nil {
		t.Fatal(err)
	}
	c := s.(*Config)
	if c.CreateIndex || c.BulkMaxDocs != 10 || c.BulkMaxBytes != DefaultBulkMaxBytes || c.pattern.Wildcard() != "ev-*" {
		t.Errorf("decoded %+v", c)
	}
	if _, err := ct.DecodeSettings([]byte(`{"urls": ["http://127.0.0.1:9200"], "index": "ev", "format": "lines"}`), "config"); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("format lines: %v", err)
	}
}

func batchOf(n int, line func(i int) string) *sinks.Batch {
	b := &sinks.Batch{Topology: "t", Meta: &tuple.BatchMeta{ID: "ev/00000/000000000000", Source: "ev"}}
	for i := range n {
		b.Records = append(b.Records, sinks.Record{ID: fmt.Sprintf("ev/0/%d", i), Line: []byte(line(i))})
	}
	return b
}

// fakeES answers _bulk requests with status(request number, id) per item
// and records the ids of every request.
type fakeES struct {
	mu       sync.Mutex
	requests [][]string
	other    []string
	status   func(req int, id string) int
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/_bulk" {
		f.mu.Lock()
		f.other = append(f.other, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name":"fake","cluster_name":"fake","version":{"distribution":"opensearch","number":"2.19.0"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`)
		return
	}
	var ids []string
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		ids = append(ids, action["index"].ID)
		sc.Scan() // the source
	}
	f.mu.Lock()
	req := len(f.requests)
	f.requests = append(f.requests, ids)
	f.mu.Unlock()
	var items []any
	errs := false
	for _, id := range ids {
		st := f.status(req, id)
		item := map[string]any{"_index": "idx", "_id": id, "status": st}
		switch {
		case st == 429:
			item["error"] = map[string]string{"type": "es_rejected_execution_exception", "reason": "rejected execution (queue full)"}
		case st >= 400:
			item["error"] = map[string]string{"type": "mapper_parsing_exception", "reason": "failed to parse"}
		default:
			item["result"] = "created"
		}
		errs = errs || st >= 400
		items = append(items, map[string]any{"index": item})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"took": 1, "errors": errs, "items": items})
}

func newTestWriter(t *testing.T, url string, mod func(*Config)) *Writer {
	t.Helper()
	c := NewConfig()
	c.URLs, c.Index = []string{url}, "idx"
	if mod != nil {
		mod(c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	w.ItemBackoff, w.MaxItemBackoff = time.Millisecond, 5*time.Millisecond
	t.Cleanup(func() { w.Close() })
	return w
}

// TestRetries429Items: the items answered 429 are sent again, only they,
// and the call succeeds; rejected items come back as rejections.
func TestRetries429Items(t *testing.T) {
	throttled := map[string]bool{"ev/0/3": true, "ev/0/10": true, "ev/0/11": true, "ev/0/42": true}
	f := &fakeES{status: func(req int, id string) int {
		switch {
		case id == "ev/0/7":
			return 400 // rejected for good, every time
		case req <= 1 && throttled[id]: // the two first requests
			return 429
		case req == 2 && id == "ev/0/42":
			return 503 // still failing on the first resend
		}
		return 201
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := newTestWriter(t, srv.URL, func(c *Config) { c.BulkMaxDocs = 30 })
	b := batchOf(50, func(i int) string { return fmt.Sprintf(`{"n":%d}`, i) })
	n, rejected, err := w.WriteBatchRejecting(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 1 || rejected[0].ID != "ev/0/7" || rejected[0].Error != "idx: mapper_parsing_exception: failed to parse" {
		t.Errorf("rejected %+v", rejected)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// two chunks (30 + 20), then the four 429s, then the 503
	if len(f.requests) != 4 || len(f.requests[0]) != 30 || len(f.requests[1]) != 20 {
		t.Fatalf("requests: %q", f.requests)
	}
	if want := []string{"ev/0/3", "ev/0/10", "ev/0/11", "ev/0/42"}; !slices.Equal(f.requests[2], want) {
		t.Errorf("first resend sent %q, want %q", f.requests[2], want)
	}
	if want := []string{"ev/0/42"}; !slices.Equal(f.requests[3], want) {
		t.Errorf("second resend sent %q, want %q", f.requests[3], want)
	}
	if n <= 0 {
		t.Errorf("bytes sent = %d", n)
	}
}

// TestRetriesAreBounded: items that stay throttled fail the call, after
// ItemRetries resends, naming the document.
func TestRetriesAreBounded(t *testing.T) {
	f := &fakeES{status: func(_ int, id string) int {
		if id == "ev/0/1" {
			return 429
		}
		return 201
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := newTestWriter(t, srv.URL, nil)
	w.ItemRetries = 3
	_, _, err := w.WriteBatchRejecting(context.Background(), batchOf(5, func(i int) string { return `{}` }))
	if err == nil || !strings.Contains(err.Error(), "ev/0/1") || !strings.Contains(err.Error(), "429") {
		t.Fatalf("err = %v, want one naming ev/0/1 and 429", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 4 {
		t.Errorf("%d requests, want 1 + 3 resends", len(f.requests))
	}
}

// TestRequestError: a 500 answer to the whole request fails the call,
// naming the URL.
func TestRequestError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		fmt.Fprint(w, `{"error":{"type":"internal_error","reason":"boom"},"status":500}`)
	}))
	defer srv.Close()
	w := newTestWriter(t, srv.URL, nil)
	_, _, err := w.WriteBatchRejecting(context.Background(), batchOf(3, func(int) string { return `{}` }))
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want one naming %s and the reason", err, srv.URL)
	}
}

// TestUnreachable: a closed port fails the call within the request
// timeout, naming the URL.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	w := newTestWriter(t, url, func(c *Config) { c.RequestTimeoutMS = 2000 })
	for range 2 { // the second call meets a connection marked dead
		start := time.Now()
		_, _, err := w.WriteBatchRejecting(context.Background(), batchOf(3, func(int) string { return `{}` }))
		if err == nil || !strings.Contains(err.Error(), url) {
			t.Fatalf("err = %v, want one naming %s", err, url)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("failed after %v, want within the 2 s request timeout", d)
		}
		t.Logf("unreachable: %v", err)
	}
}

// TestChunks: bulk_max_docs and bulk_max_bytes bound each request; a
// document larger than bulk_max_bytes goes alone.
func TestChunks(t *testing.T) {
	f := &fakeES{status: func(int, string) int { return 201 }}
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := newTestWriter(t, srv.URL, func(c *Config) { c.BulkMaxDocs, c.BulkMaxBytes = 4, 200 })
	big := `{"s":"` + strings.Repeat("x", 300) + `"}`
	b := batchOf(9, func(i int) string {
		if i == 5 {
			return big
		}
		return `{"n":1}`
	})
	if _, _, err := w.WriteBatchRejecting(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var all []string
	for _, r := range f.requests {
		sizes = append(sizes, len(r))
		all = append(all, r...)
	}
	if want := []int{4, 1, 1, 3}; !slices.Equal(sizes, want) {
		t.Errorf("request sizes %v, want %v", sizes, want)
	}
	var ids []string
	for _, r := range b.Records {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(all, ids) {
		t.Errorf("sent %q, want batch order %q", all, ids)
	}
}

// TestSilentServer: a server that never answers fails the call within the
// request timeout, naming the URL.
func TestSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	silent := "http://" + l.Addr().String() // accepts (backlog), never answers
	w := newTestWriter(t, silent, func(c *Config) { c.RequestTimeoutMS = 300 })
	start := time.Now()
	_, _, err = w.WriteBatchRejecting(context.Background(), batchOf(2, func(int) string { return `{}` }))
	if err == nil || !strings.Contains(err.Error(), silent) {
		t.Fatalf("err = %v, want one naming %s", err, silent)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("failed after %v with a 300 ms request timeout", d)
	}
	t.Logf("silent server: %v", err)
}
