package ui_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/internal/ui"
)

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// staticFiles lists the files under static/ (the embedded ones).
func staticFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir("static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, filepath.ToSlash(strings.TrimPrefix(p, "static"+string(filepath.Separator))))
		}
		return err
	})
	if err != nil || len(names) < 5 {
		t.Fatalf("static files %v: %v", names, err)
	}
	return names
}

var assetRef = regexp.MustCompile(`(?:src|href)="(/ui/[^"]+)"`)

func TestHandler_Index(t *testing.T) {
	h := ui.Handler()
	for _, p := range []string{"/", "/index.html"} {
		r := get(t, h, "GET", p)
		b := body(t, r)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" || r.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: %d %q %q", p, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"))
		}
		if !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("GET %s: CSP %q", p, r.Header.Get("Content-Security-Policy"))
		}
		if strings.Contains(b, "@VERSION@") {
			t.Errorf("GET %s: the version mark is left in the page", p)
		}
		refs := assetRef.FindAllStringSubmatch(b, -1)
		if len(refs) < 3 {
			t.Fatalf("GET %s: %d asset references in %s", p, len(refs), b)
		}
		// every asset the page names is served, versioned, for good
		for _, m := range refs {
			ar := get(t, h, "GET", m[1])
			if ar.StatusCode != 200 || !strings.Contains(ar.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("GET %s: %d, Cache-Control %q", m[1], ar.StatusCode, ar.Header.Get("Cache-Control"))
			}
		}
	}
}

func TestHandler_Assets(t *testing.T) {
	h := ui.Handler()
	types := map[string]string{".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
		".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
	for _, name := range staticFiles(t) {
		if name == "index.html" {
			continue
		}
		want, err := os.ReadFile(filepath.Join("static", name))
		if err != nil {
			t.Fatal(err)
		}
		r := get(t, h, "GET", "/ui/"+name)
		if got := body(t, r); r.StatusCode != 200 || got != string(want) {
			t.Errorf("GET /ui/%s: %d, %d bytes, want the file's %d", name, r.StatusCode, len(got), len(want))
			continue
		}
		if ct := r.Header.Get("Content-Type"); ct != types[filepath.Ext(name)] {
			t.Errorf("GET /ui/%s: Content-Type %q, want %q", name, ct, types[filepath.Ext(name)])
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET /ui/%s: headers %v", name, r.Header)
		}
		// revalidation: the ETag answers 304 with no body
		etag := r.Header.Get("ETag")
		if r2 := get(t, h, "GET", "/ui/"+name, "If-None-Match", etag); r2.StatusCode != 304 || body(t, r2) != "" {
			t.Errorf("GET /ui/%s If-None-Match %s: %d", name, etag, r2.StatusCode)
		}
		if r3 := get(t, h, "GET", "/ui/"+name, "If-None-Match", `"other"`); r3.StatusCode != 200 {
			t.Errorf("GET /ui/%s with a stale ETag: %d", name, r3.StatusCode)
		}
		if r4 := get(t, h, "HEAD", "/ui/"+name); r4.StatusCode != 200 || body(t, r4) != "" || r4.Header.Get("Content-Length") != strconv.Itoa(len(want)) {
			t.Errorf("HEAD /ui/%s: %d, Content-Length %q", name, r4.StatusCode, r4.Header.Get("Content-Length"))
		}
	}
}

func TestHandler_NotFound(t *testing.T) {
	h := ui.Handler()
	for _, tc := range []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/nope", 404, "text/plain; charset=utf-8"},
		{"GET", "/ui/nope.js", 404, "text/plain; charset=utf-8"},
		{"GET", "/ui/index.html", 404, "text/plain; charset=utf-8"},
		{"GET", "/ui/../index.html", 404, "text/plain; charset=utf-8"},
		{"GET", "/api/v1/nope", 404, "application/json"},
		{"POST", "/", 405, "text/plain; charset=utf-8"},
	} {
		r := get(t, h, tc.method, tc.path)
		if r.StatusCode != tc.status || r.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, r.StatusCode, r.Header.Get("Content-Type"), tc.status, tc.ctype)
		}
	}
}

// TestHandler_OnAPIServer mounts the UI as the workers do: the API routes
// still answer, everything else is the UI's.
func TestHandler_OnAPIServer(t *testing.T) {
	srv := api.NewServer(newFake(false, wordcount("wc")), api.Access{Token: "tok"})
	srv.Handle("GET /", ui.Handler())
	if r := get(t, srv, "GET", "/api/v1/topologies/wc"); r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("the API behind the UI: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if r := get(t, srv, "GET", "/"); r.StatusCode != 200 || !strings.Contains(body(t, r), `<main id="app"`) {
		t.Errorf("the UI on the API server: %d", r.StatusCode)
	}
	if r := get(t, srv, "GET", "/api/v1/nothing/here"); r.StatusCode != 404 || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("an unknown API route: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
}

// allowedURLs are the only absolute URLs the assets may contain: XML
// namespace names, which identify and are never fetched.
var allowedURLs = map[string]bool{"http://www.w3.org/2000/svg": true}

var (
	absURL = regexp.MustCompile(`(?i)\b(?:https?|wss?|ftp):\/\/[^\s"'<>)\x60]*|(?:^|[\s"'(=])\/\/[a-z0-9-]+\.[a-z]`)
	cssImp = regexp.MustCompile(`(?i)@import|url\(\s*['"]?[a-z]+:`)
)

// TestAssets_NoExternalURL: the UI works offline, loads nothing from
// elsewhere (no CDN, no font service), and has no build step.
func TestAssets_NoExternalURL(t *testing.T) {
	for _, name := range staticFiles(t) {
		b, err := os.ReadFile(filepath.Join("static", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range absURL.FindAllString(string(b), -1) {
			m = strings.TrimLeft(m, " \t\n\"'(=")
			if !allowedURLs[m] {
				t.Errorf("%s: external URL %q", name, m)
			}
		}
		if m := cssImp.FindString(string(b)); m != "" {
			t.Errorf("%s: %q loads from elsewhere", name, m)
		}
		if strings.Contains(string(b), "fetch(") && name != "js/api.js" {
			t.Errorf("%s: calls fetch; only js/api.js talks to the server", name)
		}
	}
	// the pattern does catch what it must
	for _, bad := range []string{`<script src="https://cdn.example.com/x.js">`, `import x from "//cdn.example.com/x.js"`, `url(http://fonts.example/f.woff)`} {
		if !absURL.MatchString(bad) {
			t.Errorf("the URL pattern misses %q", bad)
		}
	}
}

func TestAssets_NoBuildStep(t *testing.T) {
	for _, name := range staticFiles(t) {
		switch filepath.Ext(name) {
		case ".html", ".css", ".js", ".svg":
		default:
			t.Errorf("%s: only plain HTML, CSS, JavaScript modules and SVG are embedded", name)
		}
		if strings.Contains(name, "node_modules") || strings.HasSuffix(name, ".min.js") || strings.HasSuffix(name, ".map") {
			t.Errorf("%s: looks like a build product", name)
		}
	}
}
