package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/internal/transport"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
	_ "github.com/gale-stream/gale/registry/all"
)

// startKeyed starts an in-process worker of a keyed cluster on loopback.
func startKeyed(t *testing.T, name string, st store.Store, key []byte, join ...string) *Worker {
	t.Helper()
	return startInProcess(t, Config{Name: name, Join: join, ClusterKey: key, Store: st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// startInProcess starts worker cfg on loopback (ports picked, token
// "tok") and runs it until the test ends.
func startInProcess(t *testing.T, cfg Config) *Worker {
	t.Helper()
	cfg.Gossip, cfg.HTTP, cfg.API.Token, cfg.Debounce = "127.0.0.1:0", "127.0.0.1:0", "tok", 100*time.Millisecond
	w, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// TestImpostor: issue 16's finding 2 against workers with a cluster key.
// A process without the key cannot join the gossip, cannot open a
// transport connection to a worker — not even claiming a real worker's
// name, or with a name that wins the connection tie-break — and the real
// peers' connection is not replaced.
func TestImpostor(t *testing.T) {
	st, err := store.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := []byte("0123456789abcdef0123456789abcdef")
	w1 := startKeyed(t, "w1", st, key)
	w2 := startKeyed(t, "w2", st, key, w1.GossipAddr())
	galetest.Eventually(t, "both workers to see each other", 10*time.Second, func() bool {
		return len(w1.ms.Members()) == 2 && len(w2.ms.Members()) == 2
	})
	// the real pair's connection: w1 sends to w2
	if err := w1.tr.Send(context.Background(), "w2", w2.tr.Addr(), 1, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	peerOf := func(w *Worker, name string) transport.PeerStatus {
		for _, p := range w.tr.Peers() {
			if p.Name == name {
				return p
			}
		}
		return transport.PeerStatus{}
	}
	galetest.Eventually(t, "w2 connected to w1", 10*time.Second, func() bool { return peerOf(w2, "w1").Connected })
	before := peerOf(w2, "w1")

	// the gossip: without the key, or with another one, no join
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, k := range [][]byte{nil, []byte("another key of 32 bytes........!")} {
		derived, _ := DeriveKeys(k)
		m, err := membership.Join(membership.Config{Name: "evil", Bind: "127.0.0.1:0", Join: []string{w1.GossipAddr()},
			Key: derived.Gossip, Logger: quiet, JoinTimeout: 2 * time.Second})
		if err == nil {
			m.Leave(time.Second)
			t.Errorf("gossip key %q: the impostor joined", k)
		}
	}
	for _, w := range []*Worker{w1, w2} {
		if n := len(w.ms.Members()); n != 2 {
			t.Errorf("worker %s sees %d members after the impostors, want 2", w.cfg.Name, n)
		}
	}

	// the transport: names that would win the tie-break ("a" < "w1") or
	// claim w1 itself, with no secret or a wrong one
	for _, tc := range []struct{ name, secret string }{{"a", ""}, {"w1", ""}, {"w1", "wrong"}, {"a", "wrong"}} {
		evil, err := transport.New(transport.Config{Name: tc.name, Addr: "127.0.0.1:0", Secret: tc.secret, Logger: quiet,
			Handler: func(string, uint32, []byte) { t.Error("the impostor got a frame") }})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		evil.Send(ctx, "w2", w2.tr.Addr(), 1, []byte("impostor"))
		galetest.Eventually(t, "the impostor's refusal", 5*time.Second, func() bool {
			for _, p := range evil.Peers() {
				if p.Name == "w2" && p.Err != nil {
					return true
				}
			}
			return false
		})
		for _, p := range evil.Peers() {
			if p.Connected || !errors.Is(p.Err, transport.ErrAuth) {
				t.Errorf("impostor %q (secret %q): connected %v, error %v; want refused with ErrAuth", tc.name, tc.secret, p.Connected, p.Err)
			}
		}
		cancel()
		evil.Close()
	}
	// with the key (an insider): a name that is no member's, or a member's
	// name from another address, is still refused
	derived, _ := DeriveKeys(key)
	for _, name := range []string{"ghost", "w1"} {
		evil, err := transport.New(transport.Config{Name: name, Addr: "127.0.0.1:0", Secret: string(derived.Transport), Logger: quiet,
			Handler: func(string, uint32, []byte) { t.Error("the impostor got a frame") }})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		evil.Send(ctx, "w2", w2.tr.Addr(), 1, []byte("impostor"))
		galetest.Eventually(t, "the insider's refusal", 5*time.Second, func() bool {
			for _, p := range evil.Peers() {
				if p.Name == "w2" && errors.Is(p.Err, transport.ErrUnknownPeer) {
					return true
				}
			}
			return false
		})
		cancel()
		evil.Close()
	}
	after := peerOf(w2, "w1")
	if !after.Connected || after.Connects != before.Connects {
		t.Errorf("w2's connection to w1: connected %v, %d connects (was %d); want the same connection", after.Connected, after.Connects, before.Connects)
	}
}
