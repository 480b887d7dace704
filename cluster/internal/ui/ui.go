package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed static
var static embed.FS

// versionMark is replaced in index.html by the assets' version path
// segment, so that a new binary's assets never mix with cached old ones.
const versionMark = "@VERSION@"

// contentTypes are the types of the embedded files, by extension (not
// from the system's mime tables, which vary between hosts).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
}

// csp allows nothing but this origin: no external script, style, font,
// image or connection.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type asset struct {
	body  []byte
	ctype string
	etag  string
}

type site struct {
	version string            // "v-" + 12 hex digits of the assets' hash
	index   asset             // index.html, with the version filled in
	assets  map[string]*asset // by name under static/, e.g. "js/app.js"
}

var load = sync.OnceValues(func() (*site, error) { return newSite(static) })

func newSite(fsys fs.FS) (*site, error) {
	s := &site{assets: map[string]*asset{}}
	var names []string
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names = append(names, strings.TrimPrefix(p, "static/"))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: walk the embedded files: %w", err)
	}
	sort.Strings(names)
	all := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, "static/"+n)
		if err != nil {
			return nil, fmt.Errorf("ui: read %s: %w", n, err)
		}
		ct, ok := contentTypes[path.Ext(n)]
		if !ok {
			return nil, fmt.Errorf("ui: %s: no content type for %q", n, path.Ext(n))
		}
		sum := sha256.Sum256(b)
		s.assets[n] = &asset{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		fmt.Fprintf(all, "%s\x00%x\x00", n, sum)
	}
	s.version = "v-" + hex.EncodeToString(all.Sum(nil)[:6])
	idx, ok := s.assets["index.html"]
	if !ok {
		return nil, fmt.Errorf("ui: no index.html among the embedded files")
	}
	body := bytes.ReplaceAll(idx.body, []byte(versionMark), []byte(s.version))
	sum := sha256.Sum256(body)
	s.index = asset{body: body, ctype: idx.ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	return s, nil
}

// Handler serves the UI: the app at / (index.html) and its assets under
// /ui/. Assets under /ui/VERSION/ (the paths index.html uses) are cached
// for good; index.html and unversioned asset paths are revalidated with
// their ETag on every load. Any other path is a 404 (a JSON one under
// /api/, for API clients that mistyped a route).
//
// It is meant to be mounted as "GET /" on the API server's mux. It is
// safe for concurrent use.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := load()
		if err != nil { // only a broken build gets here
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.serveHTTP(w, r)
	})
}

func (s *site) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/" || p == "/index.html":
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Frame-Options", "DENY")
		s.send(w, r, &s.index, "no-cache")
		return
	case p == "/favicon.ico":
		if a := s.assets["favicon.svg"]; a != nil {
			s.send(w, r, a, "public, max-age=86400")
			return
		}
	case strings.HasPrefix(p, "/ui/"):
		name := strings.TrimPrefix(p, "/ui/")
		cache := "no-cache"
		if v, rest, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(v, "v-") {
			name = rest
			if v == s.version {
				cache = "public, max-age=31536000, immutable"
			}
		}
		if a := s.assets[name]; a != nil && name != "index.html" {
			s.send(w, r, a, cache)
			return
		}
	case strings.HasPrefix(p, "/api/"):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "{\"error\": %q}\n", "no such API route: "+r.Method+" "+p)
		return
	}
	http.Error(w, "404 page not found (the UI is at /)", http.StatusNotFound)
}

func (s *site) send(w http.ResponseWriter, r *http.Request, a *asset, cache string) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(a.body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(a.body)
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
