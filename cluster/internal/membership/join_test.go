package membership

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
)

// fakeResolver answers names from a table; a name fails its first
// failFirst lookups (a DNS record not published yet).
type fakeResolver struct {
	mu        sync.Mutex
	names     map[string][]string
	failFirst int
	calls     int
}

func (r *fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.failFirst {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []net.IPAddr
	for _, s := range r.names[host] {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

func (r *fakeResolver) set(host string, ips ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names[host] = ips
}

// hosts starts a worker on each loopback address of ips (127.0.0.0/8 is
// all loopback on Linux), all on the same gossip port, like pods behind a
// headless service; cfg(i) gives the rest of each worker's Config.
func hosts(t *testing.T, ips []string, cfg func(i, port int) Config) (int, []*Membership) {
	t.Helper()
	for try := 0; try < 20; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		var ms []*Membership
		for i, ip := range ips {
			c := cfg(i, port)
			c.Bind, c.Logger = net.JoinHostPort(ip, strconv.Itoa(port)), quiet()
			m, err := Join(c)
			if err != nil {
				break // the port is taken on this address: another one
			}
			ms = append(ms, m)
		}
		if len(ms) == len(ips) {
			t.Cleanup(func() {
				for _, m := range ms {
					m.Shutdown()
				}
			})
			return port, ms
		}
		for _, m := range ms {
			m.Shutdown()
		}
	}
	t.Fatal("no gossip port free on every address")
	return 0, nil
}

// TestJoin_EveryAddress: a name resolving to three addresses (one where
// nobody listens, two workers that do not know each other) joins both
// workers.
func TestJoin_EveryAddress(t *testing.T) {
	r := &fakeResolver{names: map[string][]string{}}
	port, ms := hosts(t, []string{"127.0.0.2", "127.0.0.3"}, func(i, _ int) Config { return Config{Name: fmt.Sprint("w", i+2)} })
	r.set("gale-gossip.test", "127.0.0.4", "127.0.0.2", "127.0.0.3")
	w1, err := Join(Config{Name: "w1", Bind: "127.0.0.5:" + strconv.Itoa(port), Logger: quiet(), Resolver: r,
		Join: []string{"gale-gossip.test:" + strconv.Itoa(port)}, Rejoin: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Shutdown()
	for _, w := range append(ms, w1) {
		galetest.Eventually(t, w.Name()+" to see the 3 workers", 20*time.Second, func() bool { return names(w.Members()) == "w1,w2,w3" })
	}
	st := w1.JoinState()
	if st.Others != 3 || st.Answered != 2 || st.Self || st.First() || st.Err != nil {
		t.Errorf("join state %+v; want 3 addresses, 2 answered, no error", st)
	}
}

// TestJoin_ResolvesLater: a name that resolves to nothing at the start
// (the first pod of a StatefulSet, DNS not published yet) does not stop
// the worker: it retries (up to ResolveTimeout) and joins once the name
// resolves; later it also joins an address that appears in DNS while it
// runs. A name that never resolves fails the start, clearly
// (ErrNoAddress), Rejoin or not.
func TestJoin_ResolvesLater(t *testing.T) {
	r := &fakeResolver{names: map[string][]string{}, failFirst: 4}
	port, ms := hosts(t, []string{"127.0.0.2", "127.0.0.3"}, func(i, _ int) Config { return Config{Name: fmt.Sprint("w", i+2)} })
	r.set("gale-gossip.test", "127.0.0.2")
	p := strconv.Itoa(port)
	w1, err := Join(Config{Name: "w1", Bind: "127.0.0.5:" + p, Logger: quiet(), Resolver: r,
		Join: []string{"gale-gossip.test:" + p}, JoinTimeout: 50 * time.Millisecond, Rejoin: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("a name that does not resolve yet must not fail the start: %v", err)
	}
	defer w1.Shutdown()
	if st := w1.JoinState(); st.Err != nil || st.Answered != 1 {
		t.Errorf("join state at the start %+v; want the name resolved (after 4 failures) and w2 joined", st)
	}
	galetest.Eventually(t, "w1 to join w2 once the name resolves", 20*time.Second, func() bool { return names(w1.Members()) == "w1,w2" })
	if _, err := Join(Config{Name: "w8", Bind: "127.0.0.7:" + p, Logger: quiet(), Resolver: r, Join: []string{"typo.test"},
		JoinTimeout: 50 * time.Millisecond, ResolveTimeout: 300 * time.Millisecond, Rejoin: time.Minute}); !errors.Is(err, ErrNoAddress) {
		t.Errorf("a name that never resolves: %v, want ErrNoAddress", err)
	}
	// w3, alone so far, appears in DNS: w1 re-resolves and joins it
	r.set("gale-gossip.test", "127.0.0.2", "127.0.0.3", "127.0.0.5")
	galetest.Eventually(t, "w1 to join w3 after re-resolving", 20*time.Second, func() bool { return names(w1.Members()) == "w1,w2,w3" })
	galetest.Eventually(t, "w3 to see everyone", 20*time.Second, func() bool { return names(ms[1].Members()) == "w1,w2,w3" })
	if st := w1.JoinState(); st.Err != nil || !st.Self || st.Others != 2 {
		t.Errorf("join state %+v; want 2 others and itself, no error", st)
	}
	// without Rejoin, nobody answering fails the start (as before)
	r.set("nobody.test", "127.0.0.4")
	if _, err := Join(Config{Name: "w9", Bind: "127.0.0.6:" + p, Logger: quiet(), Resolver: r,
		Join: []string{"nobody.test:" + p}, JoinTimeout: 200 * time.Millisecond}); err == nil {
		t.Error("a join nobody answers, without Rejoin: no error")
	}
}

// TestJoin_First: names that resolve to this worker only make it the
// first: it starts at once, without waiting for JoinTimeout, and its join
// state says so.
func TestJoin_First(t *testing.T) {
	r := &fakeResolver{names: map[string][]string{}}
	r.set("gale-gossip.test", "127.0.0.2")
	start := time.Now()
	_, ms := hosts(t, []string{"127.0.0.2"}, func(_, port int) Config {
		return Config{Name: "w0", Resolver: r, Join: []string{"gale-gossip.test:" + strconv.Itoa(port)}, Rejoin: time.Minute, JoinTimeout: time.Minute}
	})
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the first worker waited %v", d)
	}
	if st := ms[0].JoinState(); !st.First() || st.Others != 0 || !st.Self {
		t.Errorf("join state %+v; want first", st)
	}
}

// TestJoin_Localhost: joining by a real name, localhost:PORT, through the
// system's resolver (it may also give ::1, where nobody listens).
func TestJoin_Localhost(t *testing.T) {
	w2 := start(t, "w2", nil, nil)
	_, port, _ := net.SplitHostPort(w2.Addr())
	w1, err := Join(Config{Name: "w1", Bind: "127.0.0.1:0", Logger: quiet(), Join: []string{"localhost:" + port}, Rejoin: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Shutdown()
	galetest.Eventually(t, "w1 and w2 to see each other", 20*time.Second, func() bool {
		return names(w1.Members()) == "w1,w2" && names(w2.Members()) == "w1,w2"
	})
	if st := w1.JoinState(); st.Answered < 1 || st.Err != nil {
		t.Errorf("join state %+v", st)
	}
}

func TestJoinHostPort(t *testing.T) {
	for _, c := range []struct {
		in   string
		host string
		port int
		bad  bool
	}{
		{in: "gale-0.gale-gossip.ns.svc:7946", host: "gale-0.gale-gossip.ns.svc", port: 7946},
		{in: "gale-gossip.ns.svc", host: "gale-gossip.ns.svc", port: DefaultPort},
		{in: " 10.0.0.4:8000 ", host: "10.0.0.4", port: 8000},
		{in: "10.0.0.4", host: "10.0.0.4", port: DefaultPort},
		{in: "[fd00::1]:7000", host: "fd00::1", port: 7000},
		{in: "fd00::1", host: "fd00::1", port: DefaultPort},
		{in: "", bad: true},
		{in: "host:0", bad: true},
		{in: "host:http", bad: true},
	} {
		host, port, err := joinHostPort(c.in)
		if (err != nil) != c.bad || !c.bad && (host != c.host || port != c.port) {
			t.Errorf("joinHostPort(%q) = %q, %d, %v", c.in, host, port, err)
		}
	}
}
