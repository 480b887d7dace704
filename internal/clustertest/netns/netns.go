// Package netns gives the end-to-end tests several network "hosts" on one
// Linux machine: each host is a network namespace with its own address on
// a bridge (veth pairs), so that workers started in them talk to each
// other through real links that a test can cut — the link set down (a
// symmetric cut, or a flapping link), or routes inside a host to a link
// that drops every packet (an asymmetric cut: it reaches the backends but
// not the other workers, or the reverse).
//
// The backends of testenv listen on 127.0.0.1 of the root namespace, and
// Kafka advertises 127.0.0.1:PORT to its clients. Relay makes such a
// backend reachable from every host at the same address: inside each host
// a listener on 127.0.0.1:PORT forwards every connection over the host's
// link to the bridge's address (the outgoing socket is created inside the
// host's namespace), where a listener of the root namespace forwards it to
// 127.0.0.1:PORT. Every byte between a host and a backend crosses the
// host's link: a cut link cuts it.
//
// Everything is created by New and removed when the test ends; leftovers
// of test processes that died are removed by the next New. It needs root
// and the ip command (iproute2).
package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/testenv"
)

// names: namespaces "galens-PID-I", bridges "galebrPID", root ends of the
// veth pairs "galevPID-I" (at most 15 bytes: PID up to 7 digits, I one or
// two). PID is the test process's: the leftovers of a dead one are found
// by it.
const (
	nsPrefix     = "galens-"
	bridgePrefix = "galebr"
	vethPrefix   = "galev"
	lockDir      = "/run/gale-netns"
	subnetBase   = "10.213" // 10.213.K.0/24, K chosen free among 1..250
	dropMAC      = "02:00:00:00:0d:01"
)

// Net is a bridge and the hosts attached to it.
type Net struct {
	// Subnet is "10.213.K": the bridge is Subnet.1, host i Subnet.(10+i).
	Subnet string
	Bridge string
	Hosts  []*Host

	tb     testing.TB
	lock   *os.File
	mu     sync.Mutex
	relays []io.Closer
}

// Host is one network namespace attached to the bridge.
type Host struct {
	Index int
	// NS is the namespace's name (ip netns), IP its address on the bridge.
	NS, IP string
	// Veth is the root namespace's end of its link (the host's end is eth0).
	Veth string

	n       *Net
	mu      sync.Mutex
	dropped []string // addresses routed to the drop link inside the host
}

// Require skips the test (loudly) when it cannot create namespaces: not
// root, or no ip command; with CI=true it fails instead.
func Require(tb testing.TB) {
	tb.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root: network namespaces, veth pairs and bridges need root"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "no ip command (Debian package iproute2)"
	}
	if why == "" {
		return
	}
	if testenv.InCI() {
		tb.Fatalf("CI=true and the multi-host test cannot run: %s", why)
	}
	tb.Skipf("\n*** SKIPPED (no network namespaces) ***\n    %s", why)
}

// ip runs the ip command, failing the test on an error.
func ip(tb testing.TB, args ...string) {
	tb.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		tb.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ipQuiet runs the ip command and returns its error with its output.
func ipQuiet(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// New creates a bridge and n hosts attached to it; all are removed when
// the test ends.
func New(tb testing.TB, n int) *Net {
	tb.Helper()
	Require(tb)
	if n < 1 || n > 99 {
		tb.Fatalf("netns.New: %d hosts: want 1 to 99", n)
	}
	RemoveStale()
	pid := os.Getpid()
	nt := &Net{tb: tb, Bridge: fmt.Sprintf("%s%d", bridgePrefix, pid)}
	nt.Subnet, nt.lock = lockSubnet(tb)
	tb.Cleanup(nt.remove)
	ip(tb, "link", "add", nt.Bridge, "type", "bridge")
	ip(tb, "addr", "add", nt.Subnet+".1/24", "dev", nt.Bridge)
	ip(tb, "link", "set", nt.Bridge, "up")
	for i := range n {
		h := &Host{Index: i, n: nt, NS: fmt.Sprintf("%s%d-%d", nsPrefix, pid, i),
			IP: fmt.Sprintf("%s.%d", nt.Subnet, 10+i), Veth: fmt.Sprintf("%s%d-%d", vethPrefix, pid, i)}
		peer := fmt.Sprintf("galep%d-%d", pid, i)
		ip(tb, "netns", "add", h.NS)
		ip(tb, "link", "add", h.Veth, "type", "veth", "peer", "name", peer)
		ip(tb, "link", "set", peer, "netns", h.NS)
		ip(tb, "-n", h.NS, "link", "set", peer, "name", "eth0")
		ip(tb, "-n", h.NS, "addr", "add", h.IP+"/24", "dev", "eth0")
		ip(tb, "-n", h.NS, "link", "set", "lo", "up")
		ip(tb, "-n", h.NS, "link", "set", "eth0", "up")
		// the drop link: packets routed to cut0 reach cut1, which has
		// no address and does not forward: they vanish (a silent cut)
		ip(tb, "-n", h.NS, "link", "add", "cut0", "type", "veth", "peer", "name", "cut1")
		ip(tb, "-n", h.NS, "link", "set", "cut1", "address", dropMAC)
		ip(tb, "-n", h.NS, "link", "set", "cut0", "up")
		ip(tb, "-n", h.NS, "link", "set", "cut1", "up")
		ip(tb, "link", "set", h.Veth, "master", nt.Bridge)
		ip(tb, "link", "set", h.Veth, "up")
		nt.Hosts = append(nt.Hosts, h)
	}
	return nt
}

// remove closes the relays and deletes the namespaces, the veth pairs
// (deleting one end deletes both) and the bridge.
func (nt *Net) remove() {
	nt.mu.Lock()
	for _, r := range nt.relays {
		r.Close()
	}
	nt.relays = nil
	nt.mu.Unlock()
	for _, h := range nt.Hosts {
		if err := ipQuiet("netns", "delete", h.NS); err != nil {
			nt.tb.Logf("netns: %v", err)
		}
		ipQuiet("link", "delete", h.Veth) // gone with the namespace, usually
	}
	if err := ipQuiet("link", "delete", nt.Bridge); err != nil {
		nt.tb.Logf("netns: %v", err)
	}
	if nt.lock != nil {
		os.Remove(nt.lock.Name())
		nt.lock.Close()
	}
}

// lockSubnet takes a subnet 10.213.K no other live test process holds: the
// flock of lockDir/K (released when this process dies).
func lockSubnet(tb testing.TB) (string, *os.File) {
	tb.Helper()
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for k := 1; k <= 250; k++ {
		f, err := os.OpenFile(filepath.Join(lockDir, strconv.Itoa(k)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			tb.Fatal(err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		return fmt.Sprintf("%s.%d", subnetBase, k), f
	}
	tb.Fatalf("netns: all 250 subnets %s.K.0/24 are held by other processes (%s)", subnetBase, lockDir)
	return "", nil
}

// RemoveStale deletes the namespaces, bridges and veths that test
// processes no longer running left behind (a test killed before its
// cleanup).
func RemoveStale() {
	alive := func(pid string) bool {
		p, err := strconv.Atoi(pid)
		return err == nil && syscall.Kill(p, 0) == nil
	}
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			name, _, _ := strings.Cut(strings.TrimSpace(l), " ")
			rest, ok := strings.CutPrefix(name, nsPrefix)
			if !ok {
				continue
			}
			pid, _, _ := strings.Cut(rest, "-")
			if !alive(pid) {
				ipQuiet("netns", "delete", name)
			}
		}
	}
	if out, err := exec.Command("ip", "-o", "link", "show").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			var pid string
			switch {
			case strings.HasPrefix(name, bridgePrefix):
				pid = strings.TrimPrefix(name, bridgePrefix)
			case strings.HasPrefix(name, vethPrefix):
				pid, _, _ = strings.Cut(strings.TrimPrefix(name, vethPrefix), "-")
			default:
				continue
			}
			if !alive(pid) {
				ipQuiet("link", "delete", name)
			}
		}
	}
}

// Command returns cmd run inside the host's namespace (ip netns exec,
// which execs it: the process's pid is the command's).
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// inNS runs f on an OS thread that entered the host's namespace; the
// thread is never used again (it exits with the goroutine), so the rest
// of the process stays in its own namespace. Sockets f creates belong to
// the host's namespace for their whole life.
func (h *Host) inNS(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// no UnlockOSThread: the thread dies with this goroutine
		fd, err := unix.Open("/run/netns/"+h.NS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", h.NS, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", h.NS, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// Listen listens on addr inside the host.
func (h *Host) Listen(addr string) (net.Listener, error) {
	var l net.Listener
	err := h.inNS(func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}

// Dial connects to addr from inside the host, within timeout.
func (h *Host) Dial(addr string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := h.inNS(func() (err error) {
		c, err = net.DialTimeout("tcp", addr, timeout)
		return err
	})
	return c, err
}

// Relay makes the backend at 127.0.0.1:PORT (addr) reachable at the same
// address inside every host, through each host's link and the bridge.
func (nt *Net) Relay(addr string) {
	nt.tb.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		nt.tb.Fatalf("netns.Relay(%q): want 127.0.0.1:PORT", addr)
	}
	// root half: Subnet.1:PORT -> 127.0.0.1:PORT
	bridgeAddr := net.JoinHostPort(nt.Subnet+".1", port)
	rl, err := net.Listen("tcp", bridgeAddr)
	if err != nil {
		nt.tb.Fatalf("netns: relay listener %s: %v", bridgeAddr, err)
	}
	nt.addRelay(rl)
	go serve(rl, func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) })
	// host halves: 127.0.0.1:PORT inside the host -> Subnet.1:PORT
	for _, h := range nt.Hosts {
		l, err := h.Listen(addr)
		if err != nil {
			nt.tb.Fatalf("netns: relay listener %s in %s: %v", addr, h.NS, err)
		}
		nt.addRelay(l)
		go serve(l, func() (net.Conn, error) { return h.Dial(bridgeAddr, 5*time.Second) })
	}
}

func (nt *Net) addRelay(c io.Closer) {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	nt.relays = append(nt.relays, c)
}

// serve forwards every connection l accepts to a connection dial opens,
// until l is closed. A connection that dial cannot open is closed.
func serve(l net.Listener, dial func() (net.Conn, error)) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	defer func() {
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
	}()
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			out, err := dial()
			if err != nil {
				in.Close()
				return
			}
			mu.Lock()
			open[in], open[out] = true, true
			mu.Unlock()
			pipe(in, out)
			mu.Lock()
			delete(open, in)
			delete(open, out)
			mu.Unlock()
		}()
	}
}

// pipe copies both ways until either side ends, then closes both.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	// one direction ended: give the other a moment to drain, then close
	t := time.AfterFunc(30*time.Second, func() { a.Close(); b.Close() })
	<-done
	t.Stop()
	a.Close()
	b.Close()
}

// Down sets the host's link down: it reaches nothing and nothing reaches
// it (the process keeps running).
func (h *Host) Down() error { return ipQuiet("link", "set", h.Veth, "down") }

// Up sets the host's link up again.
func (h *Host) Up() error { return ipQuiet("link", "set", h.Veth, "up") }

// CutFromHosts makes this host drop, silently, every packet it sends to
// another host: it still reaches the bridge (the backends' relays), but no
// packet of it reaches another host. Their packets still arrive; nothing
// they send is answered: connections time out both ways, as in a real
// partition (a blackhole route would instead fail the host's own sends at
// once with EINVAL, and an unreachable route with EHOSTUNREACH).
func (h *Host) CutFromHosts() error {
	var ips []string
	for _, o := range h.n.Hosts {
		if o != h {
			ips = append(ips, o.IP)
		}
	}
	return h.drop(ips...)
}

// CutFromBackends makes this host drop, silently, every packet it sends
// to the bridge's address: it reaches the other hosts, but not the
// backends (nor answers the test process, which talks from the bridge's
// address).
func (h *Host) CutFromBackends() error { return h.drop(h.n.Subnet + ".1") }

// drop routes each address to the host's drop link (cut0, whose peer
// takes the packets and forwards none), with a fixed neighbour entry so
// that no ARP is needed: the sends succeed and the packets vanish.
func (h *Host) drop(ips ...string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range ips {
		if err := ipQuiet("-n", h.NS, "neigh", "replace", a, "lladdr", dropMAC, "dev", "cut0", "nud", "permanent"); err != nil {
			return err
		}
		if err := ipQuiet("-n", h.NS, "route", "add", a+"/32", "dev", "cut0"); err != nil {
			return err
		}
		h.dropped = append(h.dropped, a)
	}
	return nil
}

// Heal removes every cut of the host: its link up, no drop route.
func (h *Host) Heal() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for _, a := range h.dropped {
		if err := ipQuiet("-n", h.NS, "route", "del", a+"/32", "dev", "cut0"); err != nil {
			errs = append(errs, err)
		}
		ipQuiet("-n", h.NS, "neigh", "del", a, "dev", "cut0")
	}
	h.dropped = nil
	errs = append(errs, h.Up())
	return errors.Join(errs...)
}

// Flap sets the host's link down and up, each phase lasting period, for
// total (at least one down phase); it returns with the link up, or when
// ctx ends. It returns how many times the link went down.
func (h *Host) Flap(ctx context.Context, period, total time.Duration) (int, error) {
	end := time.Now().Add(total)
	downs := 0
	defer h.Up()
	for first := true; first || time.Now().Before(end); first = false {
		if err := h.Down(); err != nil {
			return downs, err
		}
		downs++
		select {
		case <-ctx.Done():
			return downs, ctx.Err()
		case <-time.After(period):
		}
		if err := h.Up(); err != nil {
			return downs, err
		}
		select {
		case <-ctx.Done():
			return downs, ctx.Err()
		case <-time.After(period):
		}
	}
	return downs, nil
}

// GossipPort and HTTPPort are the ports of a worker started by
// StartWorker (the transport takes GossipPort+1).
const (
	GossipPort = 7946
	HTTPPort   = 8080
)

// StartWorker starts `gale worker` (binary bin) named name inside the
// host, gossiping on IP:7946 (transport 7947), its API on IP:8080, joining
// join; env is added to its environment. It stops at the end of the test.
// Off loopback a worker needs an API token (clustertest.Token is given)
// and a cluster key: put GALE_CLUSTER_KEY in env or --cluster-key-file in
// extra.
func (h *Host) StartWorker(tb testing.TB, bin, dir, name, join string, env []string, extra ...string) *clustertest.Worker {
	tb.Helper()
	return clustertest.StartWorkerAt(tb, bin, dir, name, join, clustertest.At{
		Wrap:   []string{"ip", "netns", "exec", h.NS},
		Gossip: net.JoinHostPort(h.IP, strconv.Itoa(GossipPort)),
		HTTP:   net.JoinHostPort(h.IP, strconv.Itoa(HTTPPort)),
		Env:    env,
	}, extra...)
}
