package netns

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// echo serves l: every line comes back.
func echo(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if _, err := c.Write([]byte(line)); err != nil {
					return
				}
			}
		}()
	}
}

// roundTrip dials addr from inside h and sends a line that must come back,
// all within about 2 s.
func roundTrip(h *Host, addr string) error {
	c, err := h.Dial(addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	return lineBack(c)
}

func lineBack(c net.Conn) error {
	c.SetDeadline(time.Now().Add(1500 * time.Millisecond))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "ping\n" {
		return fmt.Errorf("got %q back", line)
	}
	return nil
}

// TestNet builds three hosts and checks what reaches what: the hosts
// reach each other and, through the relay, a server on the root
// namespace's loopback; a link set down cuts both (also a connection
// opened before); drop routes cut only the other hosts, or only the
// backends, silently (timeouts, both ways); a flapping link goes down and up; everything is removed at
// the end.
func TestNet(t *testing.T) {
	Require(t)
	var nsNames []string
	var bridge string
	t.Run("cuts", func(t *testing.T) {
		nt := New(t, 3)
		bridge = nt.Bridge
		for _, h := range nt.Hosts {
			nsNames = append(nsNames, h.NS)
		}
		h0, h1 := nt.Hosts[0], nt.Hosts[1]
		t.Logf("bridge %s %s.1/24; hosts %s %s, %s %s, %s %s", nt.Bridge, nt.Subnet,
			h0.NS, h0.IP, h1.NS, h1.IP, nt.Hosts[2].NS, nt.Hosts[2].IP)

		// a process started in a host sees the host's address only
		out, err := h0.Command("ip", "-o", "-4", "addr", "show").CombinedOutput()
		if err != nil || !strings.Contains(string(out), h0.IP+"/24") || strings.Contains(string(out), h1.IP) {
			t.Fatalf("ip addr inside %s: %v\n%s", h0.NS, err, out)
		}

		// a server on host 1, and one on the root namespace's loopback
		// (a backend) relayed into every host
		l1, err := h1.Listen(h1.IP + ":7000")
		if err != nil {
			t.Fatal(err)
		}
		defer l1.Close()
		go echo(l1)
		l0, err := h0.Listen(h0.IP + ":7000")
		if err != nil {
			t.Fatal(err)
		}
		defer l0.Close()
		go echo(l0)
		peer := h1.IP + ":7000"
		lb, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer lb.Close()
		go echo(lb)
		backend := lb.Addr().String()
		nt.Relay(backend)

		reach := func(what string, wantPeer, wantBackend bool) {
			t.Helper()
			check := func(to, addr string, want bool) {
				t.Helper()
				err := roundTrip(h0, addr)
				switch {
				case want && err != nil:
					t.Errorf("%s: host 0 -> %s (%s): %v, want it reached", what, to, addr, err)
				case !want && err == nil:
					t.Errorf("%s: host 0 -> %s (%s) reached, want it cut", what, to, addr)
				default:
					t.Logf("%s: host 0 -> %s: %v", what, to, map[bool]any{true: "reached", false: err}[err == nil])
				}
			}
			check("host 1", peer, wantPeer)
			check("the backend through the relay", backend, wantBackend)
		}
		reach("linked", true, true)
		// the backend is not reachable in the hosts but through the relay:
		// the namespace's loopback is its own
		if c, err := h0.Dial(h1.IP+":1", 500*time.Millisecond); err == nil {
			c.Close()
			t.Error("a closed port on host 1 accepted a connection")
		}

		// symmetric: the link down; also kills connections open before
		open, err := h0.Dial(backend, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer open.Close()
		if err := lineBack(open); err != nil {
			t.Fatalf("a relayed connection before the cut: %v", err)
		}
		if err := h0.Down(); err != nil {
			t.Fatal(err)
		}
		reach("link down", false, false)
		if err := lineBack(open); err == nil {
			t.Error("link down: a relayed connection opened before the cut still works")
		}
		// ... and the other hosts do not reach it either
		if err := roundTrip(nt.Hosts[2], h0.IP+":7000"); err == nil || !isTimeout(err) {
			t.Errorf("link down: host 2 -> host 0: %v, want a timeout", err)
		}
		if err := h0.Heal(); err != nil {
			t.Fatal(err)
		}
		reach("healed", true, true)

		// asymmetric: host 0 cut from the other hosts only
		if err := h0.CutFromHosts(); err != nil {
			t.Fatal(err)
		}
		reach("cut from the hosts", false, true)
		// silently: a timeout, not an error at once; and the other way too
		if c, err := h0.Dial(peer, time.Second); err == nil || !isTimeout(err) {
			if c != nil {
				c.Close()
			}
			t.Errorf("cut from the hosts: host 0 -> host 1: %v, want a timeout", err)
		}
		if err := roundTrip(nt.Hosts[2], h0.IP+":7000"); err == nil || !isTimeout(err) {
			t.Errorf("cut from the hosts: host 2 -> host 0: %v, want a timeout", err)
		}
		h0.Heal()
		// asymmetric the other way: cut from the backends only
		if err := h0.CutFromBackends(); err != nil {
			t.Fatal(err)
		}
		reach("cut from the backends", true, false)
		h0.Heal()
		reach("healed again", true, true)

		// flapping: down 300 ms, up 300 ms, for 1.5 s
		ctx := context.Background()
		cut := 0
		done := make(chan int)
		go func() {
			n, err := h0.Flap(ctx, 300*time.Millisecond, 1500*time.Millisecond)
			if err != nil {
				t.Error(err)
			}
			done <- n
		}()
		time.Sleep(100 * time.Millisecond)
		if roundTrip(h0, peer) != nil {
			cut++
		}
		downs := <-done
		t.Logf("flapping: %d downs; a round trip in the first down phase failed: %v", downs, cut == 1)
		if downs < 2 || cut != 1 {
			t.Errorf("flapping: %d downs, first-phase round trip cut %v; want several downs and a cut", downs, cut == 1)
		}
		reach("after flapping", true, true)
	})
	// everything is gone
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, ns := range nsNames {
		if strings.Contains(string(out), ns) {
			t.Errorf("namespace %s is left after the test", ns)
		}
	}
	if exec.Command("ip", "link", "show", bridge).Run() == nil {
		t.Errorf("bridge %s is left after the test", bridge)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestRemoveStale: the namespace, veth and bridge of a test process that
// is gone (a pid no process has) are removed by the next New.
func TestRemoveStale(t *testing.T) {
	Require(t)
	const pid = "9999999" // above the kernel's pid_max: never a live process
	ns, br, veth := nsPrefix+pid+"-0", bridgePrefix+pid, vethPrefix+pid+"-0"
	ip(t, "netns", "add", ns)
	ip(t, "link", "add", br, "type", "bridge")
	ip(t, "link", "add", veth, "type", "veth", "peer", "name", "galep"+pid+"-0")
	t.Cleanup(func() {
		ipQuiet("netns", "delete", ns)
		ipQuiet("link", "delete", br)
		ipQuiet("link", "delete", veth)
	})
	New(t, 1)
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), ns) {
		t.Errorf("stale namespace %s left", ns)
	}
	for _, l := range []string{br, veth} {
		if exec.Command("ip", "link", "show", l).Run() == nil {
			t.Errorf("stale link %s left", l)
		}
	}
}
