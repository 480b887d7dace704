package api

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Access is who may call a Server. A Gale API runs code on request (a
// `shell` bolt runs any command), so the rules hold for every call, not
// only for the ones that look dangerous:
//
//   - Host: on loopback, the Host header must name a loopback host
//     (localhost, 127.0.0.1, [::1]) or one of Hosts: a page whose DNS name
//     was rebound to 127.0.0.1 cannot read the API. Off loopback any Host
//     is answered unless Hosts is given: then only those and loopback's.
//   - A change (POST, PUT, PATCH, DELETE) needs Content-Type
//     application/json — which a cross-site form or "simple" fetch cannot
//     send without a CORS preflight, and the API answers none — unless it
//     carries the token (a header such a request cannot carry either); and,
//     when the request carries an Origin, the API's own origin or one of
//     Origins. Then the token, when there is one.
//   - A read (GET) of /api/ or /metrics needs the token when ReadsNeedToken.
//     The UI's static files never do: they hold no data.
type Access struct {
	// Token is the bearer token changes need ("" = none: only for loopback).
	Token string
	// ReadsNeedToken: reads need the token too (the default off loopback:
	// members, describe and errors show the cluster's layout, command lines
	// and addresses).
	ReadsNeedToken bool
	// Loopback: the API listens on loopback only (the Host check applies).
	Loopback bool
	// Hosts are the host names the Host header may carry besides loopback's
	// (off loopback: when empty, any).
	Hosts []string
	// Origins are more origins ("https://ops.example") allowed to make
	// changes from a browser.
	Origins []string
	// Insecure: started with --insecure (reported by /api/v1/info and the UI).
	Insecure bool
}

// refuse answers a request the access rules refuse, and says whether it
// did.
func (a *Access) refuse(w http.ResponseWriter, r *http.Request) bool {
	if !a.hostAllowed(r.Host) {
		writeJSON(w, http.StatusMisdirectedRequest, Error{Error: fmt.Sprintf("Host %q is not a name of this API "+
			"(it listens on loopback; a DNS name pointing here needs `--allow-host NAME`)", r.Host)})
		return true
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		if a.ReadsNeedToken && isData(r.URL.Path) && !a.tokenOK(r) {
			a.unauthorized(w, "this API needs its token for reads too (Authorization: Bearer TOKEN; gale --token or GALE_AUTH_TOKEN)")
			return true
		}
		return false
	}
	// a valid bearer token is what a cross-site form cannot send: with
	// one, a change needs no Content-Type (Storm UI's REST clients POST
	// actions with an empty body and none)
	tokenOK := a.Token != "" && a.tokenOK(r)
	if a.Token != "" && !tokenOK {
		a.unauthorized(w, "this call needs the cluster's token (Authorization: Bearer TOKEN; gale --token or GALE_AUTH_TOKEN)")
		return true
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); !tokenOK && (err != nil || mt != "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, Error{Error: fmt.Sprintf("%s %s: Content-Type %q: want application/json",
			r.Method, r.URL.Path, r.Header.Get("Content-Type"))})
		return true
	}
	if o := r.Header.Get("Origin"); o != "" && !a.originAllowed(o, r) {
		writeJSON(w, http.StatusForbidden, Error{Error: fmt.Sprintf("Origin %q may not change this API "+
			"(only its own origin, or one given with `--allow-origin`)", o)})
		return true
	}
	return false
}

func (a *Access) unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="gale"`)
	writeJSON(w, http.StatusUnauthorized, Error{Error: msg})
}

// isData: the paths that carry the cluster's data (not the UI's files).
func isData(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/metrics"
}

// tokenOK: the request carries the token ("Bearer" in any case, RFC 7235).
func (a *Access) tokenOK(r *http.Request) bool {
	if a.Token == "" {
		return false
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(a.Token)) == 1
}

func (a *Access) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if slices.ContainsFunc(a.Hosts, func(h string) bool { return strings.EqualFold(h, host) }) {
		return true
	}
	if !a.Loopback && len(a.Hosts) == 0 {
		return true // off loopback, no list: the token guards every call
	}
	return IsLoopbackHost(host)
}

// IsLoopbackHost: host (no port) is a loopback IP or "localhost".
func IsLoopbackHost(host string) bool {
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddr: a listener's address (host:port) accepts loopback
// connections only. "" and 0.0.0.0 (every interface) are not.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "" {
		return false
	}
	if IsLoopbackHost(host) {
		return true
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// originAllowed: o is the request's own origin (scheme, host and port of
// the Host it was sent to) or listed in Origins.
func (a *Access) originAllowed(o string, r *http.Request) bool {
	if slices.ContainsFunc(a.Origins, func(x string) bool { return strings.EqualFold(strings.TrimRight(x, "/"), o) }) {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || o == "null" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(u.Host, r.Host)
}

// NewHTTPServer is the http.Server of an API handler, with the limits a
// server reachable by strangers needs: headers within 10 s and 64 KiB, a
// request within 60 s, answers written within 60 s, idle connections
// closed after 2 min. (Bodies are bounded by each route: 4 MiB for a
// topology.)
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}
