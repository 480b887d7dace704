package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	boltbuiltin "github.com/gale-stream/gale/bolt/builtin"
	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
	"github.com/gale-stream/gale/registry"
	spoutbuiltin "github.com/gale-stream/gale/spout/builtin"
)

// hangingStore is a store whose reads can be made to hang until their
// context ends (a store that does not answer).
type hangingStore struct {
	store.Store
	hang atomic.Bool
}

var errDown = errors.New("store down")

func (s *hangingStore) ListTopologies(ctx context.Context) ([]store.Topology, error) {
	if !s.hang.Load() {
		return s.Store.ListTopologies(ctx)
	}
	if _, ok := ctx.Deadline(); !ok {
		return nil, errDown // the worker's own reconcile: fail at once
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// probe GETs path from w's API with no token and a Host that is not the
// API's, as a kubelet does.
func probe(t *testing.T, w *Worker, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+w.APIAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "10.1.2.3:8080"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// failedChecks decodes a 503 body of /readyz.
func failedChecks(t *testing.T, body string) readiness {
	t.Helper()
	var r readiness
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("503 body %q: %v", body, err)
	}
	return r
}

// TestHealth: /healthz and /readyz of a real worker on loopback, without
// the token and with a Host the API would refuse: ready once its share
// runs; not ready, naming the check, when the store does not answer, when
// an assigned share does not run, and while it leaves.
func TestHealth(t *testing.T) {
	fs, err := store.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	st := &hangingStore{Store: fs}
	reg := registry.New()
	if err := spoutbuiltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := boltbuiltin.Register(reg); err != nil {
		t.Fatal(err)
	}
	w := startInProcess(t, Config{Name: "w1", Store: st, Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if code, body := probe(t, w, "/api/v1/members"); code != http.StatusMisdirectedRequest {
		t.Fatalf("the API answered a foreign Host: %d %s", code, body)
	}
	if code, body := probe(t, w, HealthzPath); code != 200 || body != "ok\n" {
		t.Errorf("%s: %d %q", HealthzPath, code, body)
	}
	galetest.Eventually(t, "ready with no topology", 10*time.Second, func() bool { c, _ := probe(t, w, ReadyzPath); return c == 200 })

	// a topology assigned here: ready once its share runs
	if _, err := w.Submit(context.Background(), []byte(wcTopology)); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "the share to run", 20*time.Second, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.running["wc"] != nil
	})
	galetest.Eventually(t, "ready with the share running", 10*time.Second, func() bool { c, _ := probe(t, w, ReadyzPath); return c == 200 })

	// an assignment gives this worker a topology that cannot run here
	// (a type it lacks): not ready, "shares"
	ctx := context.Background()
	if _, err := fs.PutTopology(ctx, store.Topology{Name: "bad",
		JSON: []byte(`{"name": "bad", "spouts": [{"id": "s", "type": "no_such_type"}]}`)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.PutAssignment(ctx, store.Assignment{Topology: "bad", Epoch: 1, Tasks: map[string]string{"s/0": "w1"}}); err != nil {
		t.Fatal(err)
	}
	var body string
	galetest.Eventually(t, "not ready: a share not running", 10*time.Second, func() bool {
		var c int
		c, body = probe(t, w, ReadyzPath)
		return c == 503
	})
	if r := failedChecks(t, body); r.Status != "not ready" || r.Failed[checkShares] == "" || len(r.Failed) != 1 ||
		strings.Contains(body, "bad") || strings.Contains(body, "no_such_type") {
		t.Errorf("503 body %s: want the shares check only, and no topology name", body)
	}
	if err := fs.DeleteTopology(ctx, "bad", 1); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "ready again", 10*time.Second, func() bool { c, _ := probe(t, w, ReadyzPath); return c == 200 })

	// the store does not answer: not ready within the probe's time
	st.hang.Store(true)
	time.Sleep(healthTTL) // the cached read expires
	start := time.Now()
	code, body := probe(t, w, ReadyzPath)
	if d := time.Since(start); code != 503 || d > 3*healthTimeout {
		t.Errorf("store hanging: %d after %v", code, d)
	}
	if r := failedChecks(t, body); r.Failed[checkStore] == "" {
		t.Errorf("503 body %s: want the store check", body)
	}
	// the read is cached: a second probe does not wait for the store
	start = time.Now()
	if code, _ := probe(t, w, ReadyzPath); code != 503 || time.Since(start) > healthTimeout/2 {
		t.Errorf("second probe: %d after %v; want the cached answer at once", code, time.Since(start))
	}
	st.hang.Store(false)
	galetest.Eventually(t, "ready once the store answers", 10*time.Second, func() bool { c, _ := probe(t, w, ReadyzPath); return c == 200 })

	// leaving: draining; /healthz still ok
	w.leaving.Store(true)
	code, body = probe(t, w, ReadyzPath)
	if r := failedChecks(t, body); code != 503 || r.Status != "draining" || r.Failed[checkDraining] == "" {
		t.Errorf("leaving: %d %s", code, body)
	}
	if code, _ := probe(t, w, HealthzPath); code != 200 {
		t.Errorf("%s while leaving: %d", HealthzPath, code)
	}
}

// TestHealth_Joined: the "joined" check of a worker given join names.
func TestHealth_Joined(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	resolver := resolverFunc(func(_ context.Context, host string) ([]net.IPAddr, error) {
		if host == "nobody.test" {
			return []net.IPAddr{{IP: net.ParseIP("127.0.0.4")}}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	})
	for _, c := range []struct {
		name string
		join []string
		want string // the reason's start, "" when joined
	}{
		{"no join names: starts a cluster", nil, ""},
		{"nobody answers", []string{"nobody.test:7946"}, "alone: no worker of the join names answers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := membership.Join(membership.Config{Name: "w1", Bind: "127.0.0.1:0", Join: c.join, Logger: quiet,
				Resolver: resolver, JoinTimeout: 100 * time.Millisecond, Rejoin: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Shutdown()
			h := &health{w: &Worker{ms: m}}
			if reason, _ := h.joined(); !strings.HasPrefix(reason, c.want) || (c.want == "") != (reason == "") {
				t.Errorf("joined: %q, want %q", reason, c.want)
			}
		})
	}
	// a worker that sees another has joined
	m, err := membership.Join(membership.Config{Name: "w1", Bind: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	_, port, _ := net.SplitHostPort(m.Addr())
	first, err := membership.Join(membership.Config{Name: "w2", Bind: "127.0.0.1:0", Join: []string{"127.0.0.1:" + port}, Logger: quiet,
		Rejoin: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Shutdown()
	galetest.Eventually(t, "w2 to see w1", 10*time.Second, func() bool { return len(first.Members()) == 2 })
	if reason, _ := (&health{w: &Worker{ms: first}}).joined(); reason != "" {
		t.Errorf("a worker that sees another: %q", reason)
	}
}

type resolverFunc func(ctx context.Context, host string) ([]net.IPAddr, error)

func (f resolverFunc) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return f(ctx, host)
}

// TestWorker_JoinByName: a worker given a DNS name joins through
// Config.Resolver (every address of the name: one dead, one a worker) and
// is ready.
func TestWorker_JoinByName(t *testing.T) {
	st, err := store.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	w1 := startInProcess(t, Config{Name: "w1", Store: st, Logger: quiet})
	_, port, _ := net.SplitHostPort(w1.GossipAddr())
	resolver := resolverFunc(func(_ context.Context, host string) ([]net.IPAddr, error) {
		if host != "gale-gossip.test" {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return []net.IPAddr{{IP: net.ParseIP("127.0.0.4")}, {IP: net.ParseIP("127.0.0.1")}}, nil
	})
	w2 := startInProcess(t, Config{Name: "w2", Store: st, Logger: quiet, Join: []string{"gale-gossip.test:" + port},
		Resolver: resolver, Rejoin: time.Minute})
	galetest.Eventually(t, "w1 and w2 to see each other", 20*time.Second, func() bool {
		return len(w1.ms.Members()) == 2 && len(w2.ms.Members()) == 2
	})
	galetest.Eventually(t, "w2 to be ready", 10*time.Second, func() bool { c, _ := probe(t, w2, ReadyzPath); return c == 200 })
}
