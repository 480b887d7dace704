package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/internal/ui"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/internal/uitest"
)

const token = "token"

// server serves the API of a fake backend and the UI on 127.0.0.1; it
// can stop and start again on the same address.
type server struct {
	addr string
	h    http.Handler
	mu   sync.Mutex // guards srv
	srv  *http.Server
}

func startServer(t *testing.T, b api.Backend) *server {
	t.Helper()
	return startServerAccess(t, b, api.Access{Token: token, Loopback: true})
}

func startServerAccess(t *testing.T, b api.Backend, a api.Access) *server {
	t.Helper()
	srv := api.NewServer(b, a)
	srv.Handle("GET /", ui.Handler())
	s := &server{h: srv}
	s.start(t, "127.0.0.1:0")
	t.Cleanup(s.stop)
	return s
}

func (s *server) start(t *testing.T, addr string) {
	t.Helper()
	var ln net.Listener
	var err error
	defer func() {
		if ln == nil {
			t.Logf("listen on %s: %v", addr, err)
		}
	}()
	// the old socket may linger a moment
	galetest.Eventually(t, "a listener on "+addr, 5*time.Second, func() bool {
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.srv = &http.Server{Handler: s.h, ReadHeaderTimeout: 5 * time.Second}
	srv := s.srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

func (s *server) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	}
}

func (s *server) url(hash string) string { return "http://" + s.addr + "/" + hash }

func TestBrowser_ClusterPage(t *testing.T) {
	f := newFake(false, wordcount("wordcount"), large("big", 50))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/"))
	b.Wait("the members table", `document.querySelectorAll('#members tr[data-member]').length === 2`)
	b.Wait("the topologies table", `document.querySelectorAll('#topologies tr[data-topology]').length === 2`)
	if got := uitest.Eval[string](b, `document.querySelector('#members tr[data-member="w1"]').innerText`); !strings.Contains(got, "alive") ||
		!strings.Contains(got, "42.5 %") || !strings.Contains(got, "180.0 MiB") {
		t.Errorf("member row w1: %q", got)
	}
	if got := uitest.Eval[string](b, `document.querySelector('#server-info').innerText`); !strings.Contains(got, "cluster · w1 · test") {
		t.Errorf("server info: %q", got)
	}
	b.Screenshot("cluster")
	b.Click(`#topologies a[href="#/topology/wordcount"]`)
	b.Wait("the topology page", `!!document.querySelector('[data-component="sentences"]')`)
}

func TestBrowser_TopologyPage(t *testing.T) {
	f := newFake(false, wordcount("wordcount"))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/topology/wordcount"))
	b.Wait("the DAG", `document.querySelectorAll('svg.dag [data-component]').length > 0`)
	ids := uitest.Eval[[]string](b, `[...document.querySelectorAll('svg.dag [data-component]')].map(n => n.dataset.component).sort()`)
	if want := []string{"count", "files", "flaky", "sentences", "split"}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("DAG nodes %v, want %v", ids, want)
	}
	if n := uitest.Eval[int](b, `document.querySelectorAll('svg.dag path.edge').length`); n != 5 {
		t.Errorf("%d edges, want 5", n)
	}
	labels := uitest.Eval[string](b, `[...document.querySelectorAll('svg.dag .edge-label')].map(l => l.textContent).join('|')`)
	for _, want := range []string{"fields(word)", "shuffle", "counts: global", "local_or_shuffle", "batch"} {
		if !strings.Contains(labels, want) {
			t.Errorf("edge labels %q lack %q", labels, want)
		}
	}
	if kinds := uitest.Eval[string](b, `document.querySelector('[data-component="sentences"]').getAttribute('class')`); !strings.Contains(kinds, "spout") {
		t.Errorf("the spout's node has class %q", kinds)
	}
	// colour by capacity: count (0.93) is the bottleneck, red; flaky (0.35) is not
	if got := uitest.Eval[string](b, `document.querySelector('[data-component="count"]').getAttribute('class')`); !strings.Contains(got, "bottleneck") {
		t.Errorf("count (capacity 0.93) not marked as the bottleneck: class %q", got)
	}
	hue := func(id string) string {
		return uitest.Eval[string](b, fmt.Sprintf(`getComputedStyle(document.querySelector('[data-component=%q] .box')).fill`, id))
	}
	if hc, hf := hue("count"), hue("flaky"); hc == hf {
		t.Errorf("count and flaky have the same fill %s despite capacities 0.93 and 0.35", hc)
	}
	// counts rise between two polls
	acked := func() float64 {
		return uitest.Eval[float64](b, `Number(document.querySelector('[data-metric="acked"]').dataset.value)`)
	}
	a0, p0 := acked(), uitest.Eval[int](b, uitest.Polls)
	b.Wait("another poll", fmt.Sprintf(`%s > %d`, uitest.Polls, p0))
	if a1 := acked(); a1 <= a0 {
		t.Errorf("acked did not rise between two polls: %v then %v", a0, a1)
	}
	// errors, with time, worker, task; the message is text, not HTML
	errs := uitest.Eval[string](b, `document.querySelector('[data-errors="flaky"]').innerText`)
	for _, want := range []string{"flaky: tuple failed on purpose <b>not bold</b>", "flaky: second failure", "w2"} {
		if !strings.Contains(errs, want) {
			t.Errorf("flaky's errors %q lack %q", errs, want)
		}
	}
	// Kafka partitions, sinks, charts, component tables
	if got := uitest.Eval[string](b, `document.querySelector('#partitions-table').innerText`); !strings.Contains(got, "5,000") || !strings.Contains(got, "41,000") {
		t.Errorf("partitions table: %q", got)
	}
	// records lost, ledger errors, a stopped partition: in their columns, by header
	cell := func(part, col string) string {
		return uitest.Eval[string](b, fmt.Sprintf(`(() => {
			const t = document.querySelector('#partitions-table');
			const i = [...t.querySelectorAll('th')].findIndex(th => th.innerText.toLowerCase() === %q);
			const row = t.querySelector('tr[data-partition="sentences/%s"]');
			return i < 0 || !row ? 'no such cell' : row.children[i].innerText + ' | ' + (row.children[i].title || '');
		})()`, col, part))
	}
	if got := cell("0", "lost"); !strings.Contains(got, "⚠ 1,200") || !strings.Contains(got, "[11800, 12000)") || !strings.Contains(got, "sentences/00000/000000000012") {
		t.Errorf("partition 0's lost cell: %q, want the warning, the count and the last range", got)
	}
	if got := cell("1", "lost"); !strings.HasPrefix(got, "0 |") {
		t.Errorf("partition 1's lost cell: %q, want 0", got)
	}
	if got := cell("0", "ledger"); !strings.Contains(got, "3 commit retries") || !strings.Contains(got, "broker timed out") {
		t.Errorf("partition 0's ledger cell: %q, want the retries and the last error", got)
	}
	if got := cell("2", "ledger"); !strings.Contains(got, "stopped") || !strings.Contains(got, "offsets [5000, 7000)") {
		t.Errorf("partition 2's ledger cell: %q, want it stopped, with why", got)
	}
	if got := uitest.Eval[string](b, `(document.querySelector('#partitions-warning') || {}).innerText || ''`); !strings.Contains(got, "sentences/0: 1,200 offsets") ||
		!strings.Contains(got, "sentences/2 stopped") || strings.Contains(got, "sentences/1") {
		t.Errorf("the warning above the partitions: %q, want partition 0's loss and partition 2 stopped", got)
	}
	if got := uitest.Eval[string](b, `document.querySelector('#sinks-table').innerText`); !strings.Contains(got, "file_sink") || !strings.Contains(got, "disk full") ||
		!strings.Contains(got, "3.2 ms") {
		t.Errorf("sinks table: %q", got)
	}
	if n := uitest.Eval[int](b, `document.querySelectorAll('#chart-throughput path.line').length`); n != 3 {
		t.Errorf("throughput chart: %d lines, want 3 (emitted, acked, failed)", n)
	}
	if n := uitest.Eval[int](b, `document.querySelectorAll('#chart-latency path.line').length`); n != 1 {
		t.Errorf("latency chart: %d lines, want 1", n)
	}
	if got := uitest.Eval[string](b, `document.querySelector('#bolts-table tr[data-row="count"]').innerText`); !strings.Contains(got, "0.930") {
		t.Errorf("count's row: %q", got)
	}
	// the window selector changes the table: 3h counts are 5x the 10m ones in the fake
	tenMin := uitest.Eval[float64](b, `Number(document.querySelector('#bolts-table tr[data-row="split"] td:nth-child(4)').dataset.value)`)
	b.Click(`#window-select [data-value="3h"]`)
	b.Wait("the 3h window", `document.querySelector('#window-select [data-value="3h"]').classList.contains('on')`)
	if threeH := uitest.Eval[float64](b, `Number(document.querySelector('#bolts-table tr[data-row="split"] td:nth-child(4)').dataset.value)`); threeH < 4*tenMin {
		t.Errorf("emitted of split: 10m %v, 3h %v: the window selector did not switch", tenMin, threeH)
	}
	b.Do("back to 10m", chromedp.Click(chromedp.CSS(`#window-select [data-value="10m"]`)))
	b.Screenshot("topology")

	// a click on a node opens the component page
	b.Click(`svg.dag [data-component="flaky"]`)
	b.Wait("the component page", `location.hash === '#/topology/wordcount/component/flaky' && !!document.querySelector('#tasks-table')`)
	if n := uitest.Eval[int](b, `document.querySelectorAll('#tasks-table tr[data-task]').length`); n != 2 {
		t.Errorf("flaky has %d task rows, want 2", n)
	}
	if got := uitest.Eval[string](b, `document.querySelector('#errors').innerText`); !strings.Contains(got, "second failure") {
		t.Errorf("component errors: %q", got)
	}
	b.Screenshot("component")
	// a component that does not exist
	b.Open(s.url("#/topology/wordcount/component/nope"))
	b.Wait("the missing component page", `(document.querySelector('#not-found') || {}).innerText?.includes('Component “nope” is not in wordcount')`)
}

// TestBrowser_Autoscale: a topology with autoscale policies shows the
// autoscaler's state, its policies with the pending rescale, a timeline
// with a marker per decision and the decisions as text; one without shows
// no panel.
func TestBrowser_Autoscale(t *testing.T) {
	scaled := autoscaled("scaled", false)
	f := newFake(false, scaled, autoscaled("held", true), wordcount("plain"))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/topology/scaled"))
	b.Wait("the autoscaling panel", `document.querySelectorAll('#autoscale:not([hidden]) #autoscale-table tr[data-policy]').length === 3`)
	if got := uitest.Eval[string](b, `document.querySelector('#autoscale-state').innerText`); !strings.Contains(got, "active") ||
		!strings.Contains(got, "gale autoscale off scaled") {
		t.Errorf("autoscale state: %q", got)
	}
	rows := uitest.Eval[map[string][]string](b, `Object.fromEntries([...document.querySelectorAll('#autoscale-table tr[data-policy]')]
		.map(r => [r.dataset.policy, [...r.children].map(td => td.innerText)]))`)
	for id, want := range map[string][]string{
		"sentences": {"sentences", "1", "4", "0.80", "30 s", "120 s", "2"},
		"split":     {"split", "1", "8", "0.75", "–", "60 s", "3 → 5 (pending)"},
		"count":     {"count", "2", "2", "0.70", "–", "300 s", "2"},
	} {
		if got := rows[id]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("policy row %s: %q, want %q", id, got, want)
		}
	}
	// the timeline: a step line per component, a marker per decision whose tooltip tells it
	if n := uitest.Eval[int](b, `document.querySelectorAll('#autoscale-timeline path.line').length`); n != 3 {
		t.Errorf("timeline: %d lines, want 3", n)
	}
	type marker struct{ Class, Glyph, Title string }
	markers := uitest.Eval[[]marker](b, `[...document.querySelectorAll('#autoscale-timeline .marker')].map(m =>
		({Class: m.getAttribute('class'), Glyph: m.querySelector('text').textContent, Title: m.querySelector('title').textContent}))`)
	ds := scaled.Autoscale.Decisions
	if len(markers) != len(ds) {
		t.Fatalf("timeline: %d markers, want one per decision (%d): %+v", len(markers), len(ds), markers)
	}
	glyphs := map[string]string{"up": "▲", "down": "▼", "none": "●"}
	for i, d := range ds {
		m := markers[i]
		if !strings.Contains(m.Class, "m-"+d.Direction) || m.Glyph != glyphs[d.Direction] || !strings.Contains(m.Title, d.Reason) ||
			!strings.Contains(m.Title, fmt.Sprintf("%s %d → %d", d.Component, d.From, d.To)) || !strings.Contains(m.Title, d.Limited) {
			t.Errorf("marker %d: %+v, want decision %+v", i, m, d)
		}
	}
	// the list: newest first, the limit muted, the markup as text
	items := uitest.Eval[[]string](b, `[...document.querySelectorAll('#autoscale-decisions li')].map(li => li.innerText)`)
	if len(items) != len(ds) {
		t.Fatalf("decision list: %d items, want %d", len(items), len(ds))
	}
	if !strings.Contains(items[0], "split 3 → 5: capacity 0.97") || !strings.Contains(items[len(items)-1], "split 1 → 2") {
		t.Errorf("decision list not newest first: %q", items)
	}
	if got := uitest.Eval[string](b, `document.querySelector('#autoscale-decisions li:nth-child(2) .muted').innerText`); got != " (limited: max 2 tasks)" {
		t.Errorf("the limited decision's note: %q", got)
	}
	if !strings.Contains(items[2], xssReason) {
		t.Errorf("the reason with markup is not shown as text: %q", items[2])
	}
	if uitest.Eval[bool](b, `!!document.querySelector('#autoscale script') || [...document.querySelectorAll('#autoscale b')].some(e => e.textContent === 'not bold') || !!window.pwned`) {
		t.Error("a decision's reason was parsed as HTML")
	}
	// the read-out gives each line's value at the pointer (not the nearest point's)
	hover := func(at float64) string {
		b.Do("hover the timeline", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const o = document.querySelector('#autoscale-timeline .overlay'), r = o.getBoundingClientRect();
			o.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + %g * r.width, clientY: r.top + r.height / 2}));
		})()`, at)))
		return uitest.Eval[string](b, `document.querySelector('#autoscale-timeline .chart-readout').innerText`)
	}
	if got := hover(0.01); !strings.Contains(got, "count 3") || !strings.Contains(got, "sentences 1") || !strings.Contains(got, "split 1") {
		t.Errorf("read-out at the start: %q, want count 3, sentences 1, split 1", got)
	}
	// the axis spans 21 minutes, from a minute before the first decision: split's last (3 → 5, a minute ago) is at 0.95
	if got := hover(0.94); !strings.Contains(got, "split 3") {
		t.Errorf("read-out just before split's last decision: %q, want split 3", got)
	}
	if got := hover(0.99); !strings.Contains(got, "count 2") || !strings.Contains(got, "sentences 2") || !strings.Contains(got, "split 5") {
		t.Errorf("read-out at the end: %q, want count 2, sentences 2, split 5", got)
	}
	b.Screenshot("autoscale")

	b.Open(s.url("#/topology/held"))
	b.Wait("the paused state", `(document.querySelector('#autoscale-state') || {}).innerText?.includes('paused')`)
	if got := uitest.Eval[string](b, `document.querySelector('#autoscale-state').innerText`); !strings.Contains(got, "gale autoscale on held") {
		t.Errorf("paused state: %q, want the command that resumes it", got)
	}
	b.Open(s.url("#/topology/plain"))
	b.Wait("the plain topology", `!!document.querySelector('[data-component="count"]') && document.querySelector('h1').innerText.includes('plain')`)
	if uitest.Eval[bool](b, `!!document.querySelector('#autoscale:not([hidden])') || !!document.querySelector('#autoscale-table')`) {
		t.Error("a topology without autoscale shows an autoscaling panel")
	}
}

func TestBrowser_LargeTopology(t *testing.T) {
	f := newFake(false, large("big", 50))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/topology/big"))
	b.Wait("the DAG", `document.querySelectorAll('svg.dag [data-component]').length === 50`)
	type box struct {
		ID         string
		X, Y, W, H float64
		Cut        []string
	}
	// each node's box in the SVG's coordinates, and the texts that overflow it
	boxes := uitest.Eval[[]box](b, `[...document.querySelectorAll('svg.dag [data-component]')].map(g => {
		const m = g.transform.baseVal.consolidate().matrix, r = g.querySelector('rect').getBBox();
		const cut = [...g.querySelectorAll('text')].filter(t => { const bb = t.getBBox();
			return bb.x < r.x || bb.y < r.y || bb.x + bb.width > r.x + r.width || bb.y + bb.height > r.y + r.height; }).map(t => t.textContent);
		return {ID: g.dataset.component, X: m.e + r.x, Y: m.f + r.y, W: r.width, H: r.height, Cut: cut};
	})`)
	if len(boxes) != 50 {
		t.Fatalf("%d boxes, want 50", len(boxes))
	}
	for i, a := range boxes {
		if len(a.Cut) > 0 {
			t.Errorf("%s: text overflows its box: %q", a.ID, a.Cut)
		}
		for _, c := range boxes[i+1:] {
			if a.X < c.X+c.W && c.X < a.X+a.W && a.Y < c.Y+c.H && c.Y < a.Y+a.H {
				t.Errorf("boxes overlap: %+v and %+v", a, c)
			}
		}
	}
	// edge labels do not overlap each other
	type rect struct{ X, Y, W, H float64 }
	labels := uitest.Eval[[]rect](b, `[...document.querySelectorAll('svg.dag .edge-label rect')].map(r => { const bb = r.getBBox(); return {X: bb.x, Y: bb.y, W: bb.width, H: bb.height}; })`)
	for i, a := range labels {
		for _, c := range labels[i+1:] {
			if a.X < c.X+c.W && c.X < a.X+a.W && a.Y < c.Y+c.H && c.Y < a.Y+a.H {
				t.Errorf("edge labels overlap: %+v and %+v", a, c)
			}
		}
	}
	// the picture scrolls and zooms
	z0 := uitest.Eval[float64](b, `document.querySelector('svg.dag').getBoundingClientRect().width`)
	b.Click(`#dag-zoom-in`)
	if z1 := uitest.Eval[float64](b, `document.querySelector('svg.dag').getBoundingClientRect().width`); z1 <= z0 {
		t.Errorf("zoom in: width %v -> %v", z0, z1)
	}
	b.Click(`#dag-zoom-1`)
	t.Logf("50 components: %d edge crossings, picture %s", uitest.Eval[int](b, `Number(document.querySelector('svg.dag').dataset.crossings)`),
		uitest.Eval[string](b, `document.querySelector('svg.dag').getAttribute('viewBox')`))
	b.Screenshot("large-topology")
	b.Click(`#dag-zoom-fit`)
	b.Do("scroll to the DAG", chromedp.Evaluate[chromedp.Void](`document.querySelector('#dag-card').scrollIntoView()`))
	b.Screenshot("large-topology-fit")
}

func TestBrowser_NotFound(t *testing.T) {
	f := newFake(false, wordcount("wordcount"))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/topology/gone"))
	b.Wait("the not-found page", `!!document.querySelector('#not-found')`)
	text := uitest.Eval[string](b, `document.querySelector('#not-found').innerText`)
	if !strings.Contains(text, "“gone” does not exist") || !strings.Contains(text, "killed") {
		t.Errorf("not-found page: %q", text)
	}
	if href := uitest.Eval[string](b, `document.querySelector('#not-found a').getAttribute('href')`); href != "#/" {
		t.Errorf("the not-found page links to %q, want the cluster page", href)
	}
	b.Screenshot("not-found")
	b.Open(s.url("#/no/such/page"))
	b.Wait("the no-such-page page", `(document.querySelector('#not-found') || {}).innerText?.includes('No such page')`)
}

func TestBrowser_Unreachable(t *testing.T) {
	f := newFake(false, wordcount("wordcount"))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/topology/wordcount"))
	b.Wait("the DAG", `!!document.querySelector('[data-component="count"]')`)
	s.stop()
	b.Wait("the banner", `getComputedStyle(document.querySelector('#banner')).display !== 'none'`)
	text := uitest.Eval[string](b, `document.querySelector('#banner').innerText`)
	if !strings.Contains(text, "Cannot reach the API at http://"+s.addr+"/api/v1") || !strings.Contains(text, "retrying in") {
		t.Errorf("banner: %q", text)
	}
	if !uitest.Eval[bool](b, `document.querySelector('#app').classList.contains('stale') && !!document.querySelector('[data-component="count"]')`) {
		t.Error("while the API is away the last data should stay, greyed")
	}
	b.Screenshot("unreachable")
	// the banner counts down
	before := uitest.Eval[string](b, `document.querySelector('#banner-text').textContent`)
	b.Wait("the countdown", fmt.Sprintf(`document.querySelector('#banner-text').textContent !== %q`, before))
	s.start(t, s.addr)
	b.Wait("the banner to go", `getComputedStyle(document.querySelector('#banner')).display === 'none' && !document.querySelector('#app').classList.contains('stale')`)
}

func TestBrowser_ActionNeedsToken(t *testing.T) {
	f := newFake(false, wordcount("wordcount"))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/topology/wordcount"))
	b.Wait("the actions", `!!document.querySelector('#action-deactivate:not([disabled])')`)
	b.Click("#action-deactivate")
	b.Wait("the confirmation", `!!document.querySelector('#dialog[open] #confirm-form')`)
	if len(f.Calls()) != 0 {
		t.Fatal("the action ran before it was confirmed")
	}
	b.Click("#dialog-ok")
	b.Wait("the token prompt", `!!document.querySelector('#dialog[open] #token-input')`)
	b.Screenshot("token-prompt")
	// a wrong token: refused (401), asked again
	b.Type("#token-input", "wrong")
	b.Click("#dialog-ok")
	b.Wait("the prompt again", `(document.querySelector('#dialog[open] #token-form') || {}).innerText?.includes('refused')`)
	if len(f.Calls()) != 0 {
		t.Fatalf("a call went through with a wrong token: %+v", f.Calls())
	}
	b.Type("#token-input", token)
	b.Click("#dialog-ok")
	b.Wait("the topology to be inactive", `(document.querySelector('[data-metric="status"]') || {}).dataset?.value === 'inactive'`)
	if c := f.Calls(); len(c) != 1 || c[0].Op != "active" || c[0].Active {
		t.Fatalf("calls %+v, want one deactivate", c)
	}
	// the token is kept for the next action
	b.Wait("activate enabled", `!!document.querySelector('#action-activate:not([disabled])')`)
	b.Click("#action-activate")
	b.Wait("the confirmation", `!!document.querySelector('#dialog[open] #confirm-form')`)
	b.Click("#dialog-ok")
	b.Wait("the topology to be active", `document.querySelector('[data-metric="status"]').dataset.value === 'active'`)
	if c := f.Calls(); len(c) != 2 || c[1].Op != "active" || !c[1].Active {
		t.Fatalf("calls %+v, want deactivate then activate", c)
	}
	// cancelling the confirmation does nothing
	b.Click("#action-deactivate")
	b.Wait("the confirmation", `!!document.querySelector('#dialog[open] #confirm-form')`)
	b.Click("#dialog-cancel")
	b.Wait("the dialog to close", `!document.querySelector('#dialog').open`)
	if c := f.Calls(); len(c) != 2 {
		t.Fatalf("a cancelled action ran: %+v", c)
	}
}

// TestBrowser_ReadsNeedToken: a worker off loopback needs the token for
// reads; the page asks for it once (however many calls got 401), then
// shows the cluster, and says the worker runs insecurely when it does.
func TestBrowser_ReadsNeedToken(t *testing.T) {
	f := newFake(false, wordcount("wordcount"))
	s := startServerAccess(t, f, api.Access{Token: token, ReadsNeedToken: true, Insecure: true})
	b := uitest.New(t)
	b.Open(s.url("#/"))
	b.Wait("the token prompt", `!!document.querySelector('#dialog[open] #token-input')`)
	if n := uitest.Eval[int](b, `document.querySelectorAll('#members tr[data-member]').length`); n != 0 {
		t.Fatalf("%d members shown before the token was given", n)
	}
	b.Type("#token-input", token)
	b.Click("#dialog-ok")
	b.Wait("the members table", `document.querySelectorAll('#members tr[data-member]').length === 2`)
	b.Wait("the insecure badge", `(document.querySelector('#insecure') || {}).innerText === 'INSECURE'`)
	if open := uitest.Eval[bool](b, `document.querySelector('#dialog').open`); open {
		t.Error("a second token prompt is open")
	}
	b.Screenshot("reads-need-token")
}

func TestBrowser_Rebalance(t *testing.T) {
	f := newFake(false, wordcount("wordcount"))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/topology/wordcount"))
	b.Do("set the token", chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('gale.token', 'token')`))
	b.Wait("the actions", `!!document.querySelector('#action-rebalance:not([disabled])')`)
	b.Click("#action-rebalance")
	b.Wait("the rebalance form", `!!document.querySelector('#dialog[open] #rebalance-form')`)
	// a bad value is refused in the form
	b.Type(`#rebalance-form input[data-component="split"]`, "0")
	b.Click("#dialog-ok")
	b.Wait("the form error", `(document.querySelector('#rebalance-form .form-error') || {}).hidden === false`)
	b.Type(`#rebalance-form input[data-component="split"]`, "5")
	b.Type(`#rebalance-workers`, "3")
	b.Screenshot("rebalance-form")
	b.Click("#dialog-ok")
	b.Wait("the confirmation", `!!document.querySelector('#dialog[open] #rebalance-summary')`)
	if got := uitest.Eval[string](b, `document.querySelector('#rebalance-summary').innerText`); !strings.Contains(got, "split: 3 → 5") || !strings.Contains(got, "workers: 2 → 3") {
		t.Errorf("confirmation: %q", got)
	}
	if len(f.Calls()) != 0 {
		t.Fatal("rebalanced before the confirmation")
	}
	b.Click("#dialog-ok")
	b.Wait("the new parallelism on the page", `(document.querySelector('[data-component="split"] .t2') || {}).textContent?.includes('×5')`)
	c := f.Calls()
	if len(c) != 1 || c[0].Op != "rebalance" {
		t.Fatalf("calls %+v, want one rebalance", c)
	}
	got, _ := json.Marshal(c[0].Rebalance)
	if want := `{"parallelism":{"split":5},"workers":3}`; string(got) != want {
		t.Errorf("rebalance body %s, want %s", got, want)
	}
}

func TestBrowser_LocalModeCannotRebalance(t *testing.T) {
	f := newFake(true, wordcount("wordcount"))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/topology/wordcount"))
	b.Wait("the actions", `!!document.querySelector('#action-rebalance')`)
	if !uitest.Eval[bool](b, `document.querySelector('#action-rebalance').disabled`) {
		t.Error("rebalance is enabled in local mode")
	}
	if got := uitest.Eval[string](b, `document.querySelector('#rebalance-note').innerText`); !strings.Contains(got, "local run") {
		t.Errorf("the note says %q", got)
	}
}

func TestBrowser_Kill(t *testing.T) {
	f := newFake(false, wordcount("wordcount"))
	s := startServer(t, f)
	b := uitest.New(t)
	b.Open(s.url("#/topology/wordcount"))
	b.Do("set the token", chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('gale.token', 'token')`))
	b.Wait("the actions", `!!document.querySelector('#action-kill:not([disabled])')`)
	b.Click("#action-kill")
	b.Wait("the kill form", `!!document.querySelector('#dialog[open] #kill-drain')`)
	b.Type("#kill-drain", "5")
	b.Click("#dialog-ok")
	b.Wait("the not-found page after the kill", `!!document.querySelector('#not-found')`)
	c := f.Calls()
	if len(c) != 1 || c[0].Op != "kill" || c[0].Drain != 5*time.Second {
		t.Fatalf("calls %+v, want a kill with 5 s of drain", c)
	}
}
