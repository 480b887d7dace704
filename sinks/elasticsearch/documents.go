package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/gale-stream/gale/sinks"
)

// PageSize is the number of documents Documents reads per request (the
// most a search may return without raising index.max_result_window),
// fewer when PageBytes would not hold them.
const PageSize = 10000

// PageBytes bounds the size of a page of Documents: the documents a page
// holds are about PageBytes divided by the size of the first ones (at
// least 100). A scroll holds up to six pages at once (fetched, decoded,
// being visited).
const PageBytes = 4 << 20

// ScrollKeepAlive is how long the scrolls of Documents stay open between
// two pages.
const ScrollKeepAlive = time.Minute

// ErrScrollExpired is returned by Documents when the cluster no longer
// holds one of its scrolls: more than ScrollKeepAlive passed between two
// pages (the caller's fn held it up), or the cluster restarted or cleared
// it. What was read is not all there is: read again.
var ErrScrollExpired = errors.New("the scroll expired or was cleared before the read ended")

var _ sinks.DocumentCounter = (*Writer)(nil)

// Documents calls fn for every document of the writer's indices (the
// pattern's wildcard: every date, and "none"), with its _source as stored,
// in no particular order and from one goroutine at a time (the calling
// one). It refreshes the indices first, so that it sees every document
// written before the call (the cluster refreshes only every second by
// itself). The topology is not part of the index names: give each
// topology its own index pattern.
//
// It reads a snapshot of the indices with scrolls sorted by _doc (the
// cheapest order: nothing is sorted, each page resumes where the last
// ended, on every shard), PageSize documents a page (fewer when the first
// documents say that a page would exceed PageBytes), the whole _source
// (Gale compares it byte for byte, so it is never filtered). When the
// indices have several shards, it reads up to Slices scrolls at once, each
// of its own shards (preference=_shards:...): that costs the cluster
// nothing more than one scroll, unlike a sliced scroll of one shard. Each
// scroll's next page is fetched while fn works through the last one. The
// documents a scroll returns must add up to the total its first page
// counted: a read cut short is an error, never a smaller index. So is a
// shard failing, a search timing out, and a scroll that expired
// (ErrScrollExpired).
func (w *Writer) Documents(ctx context.Context, _ string, fn func(id string, source []byte) error) error {
	index := w.pattern.Wildcard()
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	yes := true
	_, err := w.client.Indices.Refresh(rctx, &opensearchapi.IndicesRefreshReq{Index: []string{index},
		Params: opensearchapi.IndicesRefreshParams{IgnoreUnavailable: &yes, AllowNoIndices: &yes}})
	cancel()
	if err != nil {
		return fmt.Errorf("%s %s: refresh index %q: %w", TypeName, w.urls, index, err)
	}
	// a user who may read the indices but not list their shards reads
	// them with one scroll
	n, _ := w.shards(ctx, index)
	slices := min(max(n, 1), max(w.Slices, 1))
	size, err := w.pageSizeFor(ctx, index)
	if err != nil {
		return err
	}
	// slice i reads the shards numbered i, i+slices, ... of every index
	prefs := make([]string, slices)
	if slices > 1 {
		for i := range prefs {
			var nums []string
			for j := i; j < n; j += slices {
				nums = append(nums, strconv.Itoa(j))
			}
			prefs[i] = "_shards:" + strings.Join(nums, ",")
		}
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	pages := make(chan *scrollPage, slices)
	errs := make(chan error, slices)
	var wg sync.WaitGroup
	for i := range slices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.scroll(ctx, index, prefs[i], size, pages); err != nil {
				errs <- err
				stop()
			}
		}()
	}
	go func() {
		wg.Wait()
		close(pages)
	}()
	var fnErr error
	for p := range pages {
		if fnErr != nil {
			continue // drain: the scrolls are stopping
		}
		for i := range p.Hits.Hits {
			h := &p.Hits.Hits[i]
			if fnErr = fn(h.ID, h.Source); fnErr != nil {
				stop()
				break
			}
		}
	}
	close(errs)
	if fnErr != nil {
		return fnErr
	}
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

// defaultSlices is Writer.Slices's default.
const defaultSlices = 4

// scrollPage is what Documents decodes of a search or scroll response.
type scrollPage struct {
	ScrollID string `json:"_scroll_id"`
	TimedOut bool   `json:"timed_out"`
	Shards   struct {
		Total    int               `json:"total"`
		Failed   int               `json:"failed"`
		Failures []json.RawMessage `json:"failures"`
	} `json:"_shards"`
	Hits struct {
		Total struct {
			Value    int64  `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		Hits []struct {
			ID     string          `json:"_id"`
			Source json.RawMessage `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

// scroll reads the documents of index (of its shards that preference
// names, all when "") into pages, and clears its scroll at the end. A
// goroutine fetches the answers: it sends the next request as soon as an
// answer came (the scroll id leads it), while this one decodes the answer
// and checks it; at most two answers wait for it.
func (w *Writer) scroll(ctx context.Context, index, preference string, size int, pages chan<- *scrollPage) error {
	what := fmt.Sprintf("index %q", index)
	if preference != "" {
		what = fmt.Sprintf("index %q (%s)", index, preference)
	}
	keepAlive := strconv.Itoa(int(w.keepAlive()/time.Millisecond)) + "ms"
	q, _ := json.Marshal(map[string]any{
		"size":             size,
		"sort":             []string{"_doc"},
		"track_total_hits": true,
		"query":            map[string]any{"match_all": map[string]any{}},
	})
	params := url.Values{"scroll": {keepAlive}, "ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
	if preference != "" {
		params.Set("preference", preference)
	}

	type answer struct {
		buf *bytes.Buffer
		err error
	}
	answers := make(chan answer, 1)
	free := make(chan *bytes.Buffer, 3)
	for range cap(free) {
		free <- new(bytes.Buffer)
	}
	fctx, stop := context.WithCancel(ctx)
	var scrollID string // the last one the cluster gave; the fetcher's until it ends
	var fetcher sync.WaitGroup
	fetcher.Add(1)
	go func() {
		defer fetcher.Done()
		defer close(answers)
		path, body := "/"+url.PathEscape(index)+"/_search?"+params.Encode(), q
		for {
			var buf *bytes.Buffer
			select {
			case buf = <-free:
			case <-fctx.Done():
				return
			}
			err := w.post(fctx, path, body, buf)
			id := ""
			if err == nil {
				if id, err = peekScrollID(buf.Bytes()); err != nil {
					err = fmt.Errorf("decode the answer: %w", err)
				}
			}
			if id != "" {
				scrollID = id
				if w.onScroll != nil {
					w.onScroll(id)
				}
			}
			select {
			case answers <- answer{buf, err}:
			case <-fctx.Done():
				return
			}
			if err != nil || id == "" {
				return // the decoder reports the error, or that no id came
			}
			path = "/_search/scroll"
			body, _ = json.Marshal(map[string]string{"scroll": keepAlive, "scroll_id": id})
		}
	}()
	defer func() {
		stop()
		fetcher.Wait()
		if scrollID != "" {
			w.clearScroll(scrollID)
		}
	}()

	var read, total int64
	exact := false
	for first := true; ; first = false {
		var a answer
		select {
		case a = <-answers:
		case <-ctx.Done():
			return nil // the reader stopped: its error (or ctx's) is the one
		}
		if a.buf == nil {
			return nil // the fetcher stopped: ctx is done
		}
		page := &scrollPage{}
		err := a.err
		if err == nil {
			if err = json.Unmarshal(a.buf.Bytes(), page); err != nil {
				err = fmt.Errorf("decode the answer: %w", err)
			}
		}
		free <- a.buf
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrScrollExpired) {
				return fmt.Errorf("%s %s: scroll of %s after %d of %d documents (keep-alive %v): %w", TypeName, w.urls, what, read, total, w.keepAlive(), err)
			}
			return fmt.Errorf("%s %s: scroll of %s after %d documents: %w", TypeName, w.urls, what, read, err)
		}
		switch {
		case page.Shards.Failed > 0:
			return fmt.Errorf("%s %s: scroll of %s: %d of %d shards failed: %s", TypeName, w.urls, what, page.Shards.Failed, page.Shards.Total, failures(page.Shards.Failures))
		case page.TimedOut:
			return fmt.Errorf("%s %s: scroll of %s: the search timed out (partial results)", TypeName, w.urls, what)
		}
		if first {
			total, exact = page.Hits.Total.Value, page.Hits.Total.Relation == "eq"
		}
		hits := len(page.Hits.Hits)
		read += int64(hits)
		if exact && read > total {
			return fmt.Errorf("%s %s: scroll of %s returned %d documents, its first page counted %d", TypeName, w.urls, what, read, total)
		}
		if hits > 0 {
			select {
			case pages <- page:
			case <-ctx.Done():
				return nil
			}
		}
		if hits == 0 || exact && read == total {
			if exact && read < total {
				return fmt.Errorf("%s %s: scroll of %s ended after %d documents, its first page counted %d", TypeName, w.urls, what, read, total)
			}
			return nil
		}
		if page.ScrollID == "" {
			return fmt.Errorf("%s %s: scroll of %s: no scroll id in the answer", TypeName, w.urls, what)
		}
	}
}

// pageSizeFor returns the documents a page of index holds: PageSize, or
// fewer when the first 100 documents say that PageSize of them would
// exceed PageBytes.
func (w *Writer) pageSizeFor(ctx context.Context, index string) (int, error) {
	if w.pageSize > 0 {
		return w.pageSize, nil
	}
	const sample = 100
	q, _ := json.Marshal(map[string]any{"size": sample, "sort": []string{"_doc"}, "track_total_hits": false})
	params := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
	var buf bytes.Buffer
	if err := w.post(ctx, "/"+url.PathEscape(index)+"/_search?"+params.Encode(), q, &buf); err != nil {
		return 0, fmt.Errorf("%s %s: search index %q: %w", TypeName, w.urls, index, err)
	}
	var page scrollPage
	if err := json.Unmarshal(buf.Bytes(), &page); err != nil {
		return 0, fmt.Errorf("%s %s: search index %q: decode the answer: %w", TypeName, w.urls, index, err)
	}
	n := len(page.Hits.Hits)
	if n == 0 {
		return PageSize, nil
	}
	perDoc := max(buf.Len()/n, 1)
	return min(PageSize, max(sample, PageBytes/perDoc)), nil
}

// peekScrollID returns the _scroll_id of a search answer, which leads it
// (else it is looked for further on), without decoding the hits.
func peekScrollID(answer []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(answer))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", fmt.Errorf("not a JSON object")
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", err
		}
		if k == "_scroll_id" {
			v, err := dec.Token()
			id, _ := v.(string)
			return id, err
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", err
		}
	}
	return "", nil
}

// keepAlive is the scrolls' keep-alive: ScrollKeepAlive unless a test set
// another.
func (w *Writer) keepAlive() time.Duration {
	if w.scrollKeepAlive > 0 {
		return w.scrollKeepAlive
	}
	return ScrollKeepAlive
}

// failures summarises a response's shard failures.
func failures(fs []json.RawMessage) string {
	if len(fs) == 0 {
		return "no reason given"
	}
	s := string(fs[0])
	if len(s) > 500 {
		s = s[:500] + "..."
	}
	if len(fs) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(fs)-1)
	}
	return s
}

// post sends body to path and reads a 200 answer into buf. An error answer
// is an error naming its type and reason; a missing scroll context is
// ErrScrollExpired.
func (w *Writer) post(ctx context.Context, path string, body []byte, buf *bytes.Buffer) error {
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	// on a fast network, compressing pages costs the cluster more than
	// sending them (and gale as much to decompress them)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := w.client.Client.Perform(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		type cause struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		var e struct {
			Error struct {
				cause
				RootCause []cause `json:"root_cause"`
			} `json:"error"`
		}
		if json.Unmarshal(buf.Bytes(), &e) != nil || e.Error.Type == "" {
			b := buf.Bytes()
			if len(b) > 500 {
				b = b[:500]
			}
			return fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		err := fmt.Errorf("status %d: %s: %s", resp.StatusCode, e.Error.Type, e.Error.Reason)
		if len(e.Error.RootCause) > 0 && e.Error.RootCause[0] != e.Error.cause {
			err = fmt.Errorf("%w (caused by %s: %s)", err, e.Error.RootCause[0].Type, e.Error.RootCause[0].Reason)
		}
		missing := e.Error.Type == "search_context_missing_exception"
		for _, c := range e.Error.RootCause {
			missing = missing || c.Type == "search_context_missing_exception"
		}
		if missing || resp.StatusCode == http.StatusNotFound && path == "/_search/scroll" {
			err = fmt.Errorf("%w (%w)", ErrScrollExpired, err)
		}
		return err
	}
	return nil
}

// clearScroll releases a scroll on the cluster (best effort: it expires
// by itself anyway).
func (w *Writer) clearScroll(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	body, _ := json.Marshal(map[string][]string{"scroll_id": {id}})
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, "/_search/scroll", bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if resp, err := w.client.Client.Perform(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// shards returns the most primary shards an index that index matches has
// (0 when none exists).
func (w *Writer) shards(ctx context.Context, index string) (int, error) {
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "/_cat/shards/"+url.PathEscape(index)+"?format=json&h=index,shard,prirep", nil)
	if err != nil {
		return 0, err
	}
	resp, err := w.client.Client.Perform(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: shards of index %q: %w", TypeName, w.urls, index, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: shards of index %q: %w", TypeName, w.urls, index, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return 0, nil
	}
	var rows []struct {
		Shard string `json:"shard"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &rows) != nil {
		return 0, fmt.Errorf("%s %s: shards of index %q: status %d: %.500s", TypeName, w.urls, index, resp.StatusCode, data)
	}
	n := 0
	for _, r := range rows {
		if k, err := strconv.Atoi(r.Shard); err == nil {
			n = max(n, k+1)
		}
	}
	return n, nil
}

// CountDocuments returns the number of documents of the writer's indices
// as last refreshed (gale verify's progress line).
func (w *Writer) CountDocuments(ctx context.Context, _ string) (int64, error) {
	index := w.pattern.Wildcard()
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	yes := true
	r, err := w.client.Indices.Count(rctx, &opensearchapi.IndicesCountReq{Indices: []string{index},
		Params: opensearchapi.IndicesCountParams{IgnoreUnavailable: &yes, AllowNoIndices: &yes}})
	if err != nil {
		return 0, fmt.Errorf("%s %s: count index %q: %w", TypeName, w.urls, index, err)
	}
	return int64(r.Count), nil
}
