package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/gale-stream/gale/sinks"
)

// Writer indexes batches into one Elasticsearch-API cluster (see the
// package doc). It is safe for concurrent use.
type Writer struct {
	// ItemRetries bounds how often, within one call, the items answered
	// 429 or 5xx are sent again (default 5).
	ItemRetries int
	// ItemBackoff is the pause before the first resend (default 100 ms);
	// it doubles up to MaxItemBackoff (default 5 s), with jitter.
	ItemBackoff, MaxItemBackoff time.Duration
	// Slices bounds the slices of the scroll Documents reads at once
	// (default 4; it reads one slice per primary shard, up to Slices).
	Slices int

	client      *opensearchapi.Client
	urls        string
	pattern     IndexPattern
	createIndex bool
	maxDocs     int
	maxBytes    int
	timeout     time.Duration

	mu    sync.Mutex
	known map[string]bool // indices seen to exist

	// tests: the page size if not PageSize, the scrolls' keep-alive if
	// not ScrollKeepAlive, and a hook told each scroll id received
	pageSize        int
	scrollKeepAlive time.Duration
	onScroll        func(id string)
}

var (
	_ sinks.RejectingWriter = (*Writer)(nil)
	_ sinks.DocumentStore   = (*Writer)(nil)
)

// NewWriter returns the writer of c, which must have been validated.
func NewWriter(c *Config) (*Writer, error) {
	p := c.pattern
	if p == (IndexPattern{}) {
		var err error
		if p, err = ParseIndex(c.Index); err != nil {
			return nil, fmt.Errorf("%s: %w", TypeName, err)
		}
	}
	timeout := c.RequestTimeout()
	if timeout <= 0 {
		timeout = DefaultRequestTimeoutMS * time.Millisecond
	}
	password, err := c.password()
	if err != nil {
		return nil, err
	}
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses:      slices.Clone(c.URLs),
		Username:       c.Username,
		Password:       password,
		RequestTimeout: timeout,
		// a refused connection or a 502/503/504 tries the next URL; the
		// whole call is bounded by timeout anyway
		MaxRetries:   max(len(c.URLs)-1, 1),
		RetryBackoff: func(int) time.Duration { return 50 * time.Millisecond },
	}})
	if err != nil {
		return nil, fmt.Errorf("%s: client for %s: %w", TypeName, strings.Join(c.URLs, ","), err)
	}
	return &Writer{
		ItemRetries: 5, ItemBackoff: 100 * time.Millisecond, MaxItemBackoff: 5 * time.Second, Slices: defaultSlices,
		client: client, urls: strings.Join(c.URLs, ","), pattern: p, createIndex: c.CreateIndex,
		maxDocs: max(c.BulkMaxDocs, 1), maxBytes: max(c.BulkMaxBytes, 1), timeout: timeout,
		known: map[string]bool{},
	}, nil
}

// Pattern returns the writer's index pattern.
func (w *Writer) Pattern() IndexPattern { return w.pattern }

// Client returns the writer's client (tests, tools).
func (w *Writer) Client() *opensearchapi.Client { return w.client }

// Close releases the client.
func (w *Writer) Close() error { return w.client.Close() }

// WriteBatch writes b; records the cluster refuses for good make it fail
// (the sink bolt calls WriteBatchRejecting instead).
func (w *Writer) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	n, rejected, err := w.WriteBatchRejecting(ctx, b)
	if err == nil && len(rejected) > 0 {
		err = fmt.Errorf("%s %s: %d documents refused, first %s: %s", TypeName, w.urls, len(rejected), rejected[0].ID, rejected[0].Error)
	}
	return n, err
}

// doc is one record on its way: where it goes and its action line.
type doc struct {
	pos    int // in the batch
	index  string
	id     string
	action []byte
	source []byte
}

func (d *doc) size() int { return len(d.action) + len(d.source) + 1 }

// indexErrors are item errors about the index, not the document (retry the
// batch, do not dead-letter it).
var indexErrors = map[string]bool{
	"index_not_found_exception": true,
	"index_closed_exception":    true,
	"cluster_block_exception":   true,
	"security_exception":        true,
}

// WriteBatchRejecting indexes b's records and returns the bytes of the
// request bodies sent and the records refused for good, in batch order.
func (w *Writer) WriteBatchRejecting(ctx context.Context, b *sinks.Batch) (int64, []sinks.Rejection, error) {
	docs := make([]*doc, len(b.Records))
	indices := map[string]bool{}
	for i, r := range b.Records {
		idx := w.pattern.Name(r.Time)
		indices[idx] = true
		action, _ := json.Marshal(map[string]map[string]string{"index": {"_index": idx, "_id": r.ID}})
		docs[i] = &doc{pos: i, index: idx, id: r.ID, action: append(action, '\n'), source: r.Line}
	}
	if !w.createIndex {
		names := make([]string, 0, len(indices))
		for n := range indices {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if err := w.mustExist(ctx, n); err != nil {
				return 0, nil, err
			}
		}
	}
	var sent int64
	var rejected []sinks.Rejection
	backoff := w.ItemBackoff
	pending := docs
	for try := 0; ; try++ {
		var again []retryItem
		var lastErr string
		for len(pending) > 0 {
			chunk := w.chunk(pending)
			pending = pending[len(chunk):]
			n, retry, rej, err := w.bulk(ctx, chunk)
			sent += n
			if err != nil {
				return sent, nil, err
			}
			rejected = append(rejected, rej...)
			if len(retry) > 0 {
				again = append(again, retry...)
				lastErr = retry[0].errText
			}
		}
		if len(again) == 0 {
			break
		}
		if try >= w.ItemRetries {
			return sent, nil, fmt.Errorf("%s %s: %d of %d documents still refused after %d resends, first %s: %s",
				TypeName, w.urls, len(again), len(docs), try, again[0].doc.id, lastErr)
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
			return sent, nil, fmt.Errorf("%s %s: %d documents to resend: %w", TypeName, w.urls, len(again), ctx.Err())
		}
		backoff = min(2*backoff, max(w.MaxItemBackoff, w.ItemBackoff))
		pending = make([]*doc, 0, len(again))
		for _, r := range again {
			pending = append(pending, r.doc)
		}
	}
	slices.SortFunc(rejected, func(a, b sinks.Rejection) int { return sinks.CompareIDs(a.ID, b.ID) })
	return sent, rejected, nil
}

// chunk returns the first documents of docs that fit one request.
func (w *Writer) chunk(docs []*doc) []*doc {
	size := 0
	for i, d := range docs {
		if i == w.maxDocs || (i > 0 && size+d.size() > w.maxBytes) {
			return docs[:i]
		}
		size += d.size()
	}
	return docs
}

type retryItem struct {
	doc     *doc
	errText string
}

// bulk sends one _bulk request. It returns the body's size, the documents
// to send again (429, 5xx, or an index just created), the rejected ones,
// and an error when the request failed or an item names a problem of the
// index.
func (w *Writer) bulk(ctx context.Context, chunk []*doc) (int64, []retryItem, []sinks.Rejection, error) {
	var body bytes.Buffer
	for _, d := range chunk {
		body.Grow(d.size())
	}
	for _, d := range chunk {
		body.Write(d.action)
		body.Write(d.source)
		body.WriteByte('\n')
	}
	n := int64(body.Len())
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	resp, err := w.client.Bulk(rctx, opensearchapi.BulkReq{Body: bytes.NewReader(body.Bytes())})
	if err != nil && !isPartial(err) {
		return n, nil, nil, fmt.Errorf("%s %s: _bulk of %d documents (index %s): %w", TypeName, w.urls, len(chunk), chunk[0].index, err)
	}
	if len(resp.Items) != len(chunk) {
		return n, nil, nil, fmt.Errorf("%s %s: _bulk of %d documents answered %d items", TypeName, w.urls, len(chunk), len(resp.Items))
	}
	var retry []retryItem
	var rejected []sinks.Rejection
	var created map[string]bool
	for i, item := range resp.Items {
		d := chunk[i]
		var r opensearchapi.BulkRespItem
		for _, v := range item {
			r = v
		}
		if r.ID != "" && r.ID != d.id {
			return n, nil, nil, fmt.Errorf("%s %s: _bulk item %d is %q, sent %q", TypeName, w.urls, i, r.ID, d.id)
		}
		if r.Status >= 200 && r.Status < 300 && r.Error == nil {
			continue
		}
		typ, reason := "", ""
		if r.Error != nil {
			typ, reason = r.Error.Type, r.Error.Reason
		}
		text := fmt.Sprintf("%s: %s: %s", d.index, typ, reason)
		if typ == "" {
			text = fmt.Sprintf("%s: status %d", d.index, r.Status)
		}
		switch {
		case r.Status == http.StatusTooManyRequests || r.Status >= 500:
			retry = append(retry, retryItem{d, fmt.Sprintf("status %d: %s", r.Status, text)})
		case typ == "index_not_found_exception" && w.createIndex:
			if !created[d.index] {
				if err := w.create(ctx, d.index); err != nil {
					return n, nil, nil, err
				}
				if created == nil {
					created = map[string]bool{}
				}
				created[d.index] = true
				w.mu.Lock()
				w.known[d.index] = true
				w.mu.Unlock()
			}
			retry = append(retry, retryItem{d, text})
		case indexErrors[typ]:
			if typ == "index_not_found_exception" {
				w.mu.Lock()
				delete(w.known, d.index)
				w.mu.Unlock()
				return n, nil, nil, fmt.Errorf("%s %s: index %q does not exist and create_index is false", TypeName, w.urls, d.index)
			}
			return n, nil, nil, fmt.Errorf("%s %s: writing to index %q: %s: %s", TypeName, w.urls, d.index, typ, reason)
		default:
			rejected = append(rejected, sinks.Rejection{ID: d.id, Error: text})
		}
	}
	return n, retry, rejected, nil
}

func isPartial(err error) bool {
	var p opensearchapi.PartialFailureError
	return errors.As(err, &p)
}

// mustExist checks, once per writer, that index exists.
func (w *Writer) mustExist(ctx context.Context, index string) error {
	w.mu.Lock()
	ok := w.known[index]
	w.mu.Unlock()
	if ok {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	resp, err := w.client.Indices.Exists(rctx, opensearchapi.IndicesExistsReq{Indices: []string{index}})
	switch {
	case resp != nil && resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s %s: index %q does not exist and create_index is false", TypeName, w.urls, index)
	case err != nil:
		return fmt.Errorf("%s %s: does index %q exist: %w", TypeName, w.urls, index, err)
	}
	w.mu.Lock()
	w.known[index] = true
	w.mu.Unlock()
	return nil
}

// create creates index with the cluster's defaults; an index that exists
// meanwhile is fine.
func (w *Writer) create(ctx context.Context, index string) error {
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	_, err := w.client.Indices.Create(rctx, opensearchapi.IndicesCreateReq{Index: index})
	var se *opensearch.StructError
	if err != nil && !(errors.As(err, &se) && se.Err.Type == "resource_already_exists_exception") {
		return fmt.Errorf("%s %s: create index %q: %w", TypeName, w.urls, index, err)
	}
	return nil
}
