package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/api"
)

// stubBackend answers every call; what matters here is whether the
// access rules let a request reach it.
type stubBackend struct{ calls int }

func (b *stubBackend) Members(context.Context) ([]api.Member, error) { b.calls++; return nil, nil }
func (b *stubBackend) Topologies(context.Context) ([]api.TopologySummary, error) {
	b.calls++
	return nil, nil
}
func (b *stubBackend) Submit(context.Context, []byte) (api.TopologySummary, error) {
	b.calls++
	return api.TopologySummary{Name: "t"}, nil
}
func (b *stubBackend) Describe(context.Context, string) (*api.Topology, error) {
	b.calls++
	return &api.Topology{}, nil
}
func (b *stubBackend) Kill(context.Context, string, time.Duration) error { b.calls++; return nil }
func (b *stubBackend) SetActive(context.Context, string, bool) error     { b.calls++; return nil }
func (b *stubBackend) SetAutoscale(context.Context, string, bool) error  { b.calls++; return nil }
func (b *stubBackend) Rebalance(context.Context, string, api.Rebalance) error {
	b.calls++
	return nil
}
func (b *stubBackend) Series(context.Context, string, string) (*api.Series, error) {
	b.calls++
	return &api.Series{}, nil
}
func (b *stubBackend) Info(context.Context) api.Info { b.calls++; return api.Info{} }

// TestAccess: the rules of a Gale API, each with the attack it stops.
func TestAccess(t *testing.T) {
	loop := api.Access{Token: "tok", Loopback: true}
	open := api.Access{Loopback: true}
	remote := api.Access{Token: "tok", ReadsNeedToken: true}
	json := map[string]string{"Content-Type": "application/json"}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name         string
		access       api.Access
		method, path string
		host         string
		header       map[string]string
		want         int
	}{
		// DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host
		{"rebinding read", loop, "GET", "/api/v1/topologies", "evil.example:8080", nil, 421},
		{"rebinding UI", loop, "GET", "/", "evil.example", nil, 421},
		{"localhost read", loop, "GET", "/api/v1/topologies", "localhost:8080", nil, 200},
		{"127.0.0.1 read", loop, "GET", "/api/v1/topologies", "127.0.0.1:8080", nil, 200},
		{"[::1] read", loop, "GET", "/api/v1/topologies", "[::1]:8080", nil, 200},
		{"allowed host", api.Access{Loopback: true, Hosts: []string{"gale.internal"}}, "GET", "/api/v1/topologies", "gale.internal:80", nil, 200},
		{"listed host off loopback", api.Access{Token: "tok", Hosts: []string{"gale.example"}}, "GET", "/api/v1/topologies", "gale.example:8080", nil, 200},
		{"unlisted host off loopback", api.Access{Token: "tok", Hosts: []string{"gale.example"}}, "GET", "/api/v1/topologies", "evil.example:8080", nil, 421},
		{"any host off loopback", remote, "GET", "/api/v1/topologies", "10.1.2.3:8080", map[string]string{"Authorization": "Bearer tok"}, 200},

		// a cross-site "simple" POST: text/plain or a form, with or without an Origin
		{"text/plain submit", open, "POST", "/api/v1/topologies", "127.0.0.1:8080", map[string]string{"Content-Type": "text/plain"}, 415},
		{"form kill", open, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"bodiless kill without type", open, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", nil, 415},
		{"json kill", open, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", json, 202},
		{"json with charset", open, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", map[string]string{"Content-Type": "application/json; charset=utf-8"}, 202},
		{"cross origin json", open, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", with(json, "Origin", "http://evil.example"), 403},
		{"null origin", open, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", with(json, "Origin", "null"), 403},
		{"other port origin", open, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", with(json, "Origin", "http://127.0.0.1:9999"), 403},
		{"same origin", open, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", with(json, "Origin", "http://127.0.0.1:8080"), 202},
		{"allowed origin", api.Access{Loopback: true, Origins: []string{"https://ops.example"}}, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", with(json, "Origin", "https://ops.example"), 202},

		// the token
		{"no token", loop, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", json, 401},
		{"wrong token", loop, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", with(json, "Authorization", "Bearer nope"), 401},
		{"token", loop, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", with(json, "Authorization", "Bearer tok"), 202},
		{"bearer in lower case", loop, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", with(json, "Authorization", "bearer tok"), 202},
		{"token as basic", loop, "POST", "/api/v1/topologies/t/kill", "127.0.0.1:8080", with(json, "Authorization", "Basic tok"), 401},
		{"loopback read without token", loop, "GET", "/api/v1/members", "127.0.0.1:8080", nil, 200},

		// off loopback, reads need the token: layout, errors and addresses are not public
		{"remote read without token", remote, "GET", "/api/v1/members", "10.1.2.3:8080", nil, 401},
		{"remote describe without token", remote, "GET", "/api/v1/topologies/t", "10.1.2.3:8080", nil, 401},
		{"remote metrics without token", remote, "GET", "/metrics", "10.1.2.3:8080", nil, 401},
		{"remote UI files", remote, "GET", "/", "10.1.2.3:8080", nil, 200},
		{"remote read with token", remote, "GET", "/api/v1/members", "10.1.2.3:8080", map[string]string{"Authorization": "Bearer tok"}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &stubBackend{}
			srv := api.NewServer(b, tc.access)
			srv.Handle("GET /", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }))
			srv.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("up 1")) }))
			var body *strings.Reader
			if tc.method == "POST" {
				body = strings.NewReader(`{}`)
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequest(tc.method, "http://"+tc.host+tc.path, body)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("%s %s (Host %s, %v): %d %s, want %d", tc.method, tc.path, tc.host, tc.header, rec.Code, rec.Body, tc.want)
			}
			if rec.Code >= 400 {
				if b.calls != 0 {
					t.Errorf("refused with %d, but the backend was called", rec.Code)
				}
				if !strings.Contains(rec.Body.String(), `"error"`) {
					t.Errorf("refusal without an error message: %s", rec.Body)
				}
			}
		})
	}
}

// TestAccess_InfoSaysWhatIsRequired: the UI learns from /api/v1/info
// whether actions and reads need the token and whether the worker runs
// insecurely.
func TestAccess_InfoSaysWhatIsRequired(t *testing.T) {
	srv := api.NewServer(&stubBackend{}, api.Access{Token: "tok", ReadsNeedToken: true, Insecure: true})
	req := httptest.NewRequest("GET", "http://10.0.0.1/api/v1/info", nil)
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	for _, want := range []string{`"auth_required": true`, `"reads_need_token": true`, `"insecure": true`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("info %s: no %s", rec.Body, want)
		}
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true, "127.0.0.2:1": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "10.1.2.3:8080": false, "192.168.0.1:1": false,
	} {
		if got := api.IsLoopbackAddr(addr); got != want {
			t.Errorf("IsLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestNewHTTPServer_Limits: a slow or huge client cannot hold the server.
func TestNewHTTPServer_Limits(t *testing.T) {
	s := api.NewHTTPServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout == 0 || s.ReadTimeout == 0 || s.WriteTimeout == 0 || s.IdleTimeout == 0 || s.MaxHeaderBytes == 0 || s.MaxHeaderBytes > 1<<20 {
		t.Errorf("limits: header timeout %v, read %v, write %v, idle %v, header bytes %d", s.ReadHeaderTimeout,
			s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes)
	}
}

// TestServer_HandlePublic: a public path (a probe) answers GET and HEAD
// without the token and whatever the Host; nothing else does: not a POST
// to it, not a path beside it, not the API.
func TestServer_HandlePublic(t *testing.T) {
	srv := api.NewServer(&stubBackend{}, api.Access{Token: "tok", ReadsNeedToken: true, Hosts: []string{"gale.example"}})
	srv.HandlePublic("/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	for _, c := range []struct {
		method, path, host string
		want               int
	}{
		{"GET", "/healthz", "10.1.2.3:8080", 200},
		{"HEAD", "/healthz", "gale.example", 200},
		{"POST", "/healthz", "gale.example", http.StatusUnauthorized}, // a change: the token first
		{"GET", "/healthz/x", "gale.example", 404},
		{"GET", "/api/v1/members", "gale.example", 401},
		{"GET", "/api/v1/members", "10.1.2.3:8080", http.StatusMisdirectedRequest},
		{"GET", "/metrics", "gale.example", 401},
	} {
		req := httptest.NewRequest(c.method, "http://"+c.host+c.path, nil)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s %s (Host %s): %d, want %d", c.method, c.path, c.host, rec.Code, c.want)
		}
	}
}
