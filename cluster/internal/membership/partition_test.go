package membership

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/gale-stream/gale/internal/galetest"
)

// cuttable is a gossip transport whose link can be cut: while cut, it
// sends nothing, receives nothing and dials nothing (a silent partition).
type cuttable struct {
	memberlist.Transport
	cut     atomic.Bool
	packets chan *memberlist.Packet
	streams chan net.Conn
}

func newCuttable(inner memberlist.Transport) *cuttable {
	c := &cuttable{Transport: inner, packets: make(chan *memberlist.Packet), streams: make(chan net.Conn)}
	go func() {
		for p := range inner.PacketCh() {
			if !c.cut.Load() {
				c.packets <- p
			}
		}
	}()
	go func() {
		for s := range inner.StreamCh() {
			if c.cut.Load() {
				s.Close()
				continue
			}
			c.streams <- s
		}
	}()
	return c
}

func (c *cuttable) WriteTo(b []byte, addr string) (time.Time, error) {
	if c.cut.Load() {
		return time.Now(), nil // lost on the way
	}
	return c.Transport.WriteTo(b, addr)
}

func (c *cuttable) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if c.cut.Load() {
		time.Sleep(timeout)
		return nil, errors.New("cut: i/o timeout")
	}
	return c.Transport.DialTimeout(addr, timeout)
}

func (c *cuttable) PacketCh() <-chan *memberlist.Packet { return c.packets }
func (c *cuttable) StreamCh() <-chan net.Conn           { return c.streams }

// TestPartitionHeals: w3's link is cut until w1 and w2 hold it dead and it
// holds them dead, and a while longer, then restored (w3 never stopped):
// all three see each other alive again within seconds. memberlist alone
// never looks for a member it declared dead: once the messages about the
// death were spent (it gossips them to the dead for a while:
// GossipToTheDeadTime, here 2 s instead of 15), each side went on without
// the other for good (found by the multi-host test, internal/e2e
// TestPartitions, with a 10 s cut).
func TestPartitionHeals(t *testing.T) {
	var link *cuttable
	tune := func(c *memberlist.Config) { c.GossipToTheDeadTime = 2 * time.Second }
	join := func(name string, addr []string, tr func(memberlist.Transport) memberlist.Transport) *Membership {
		m, err := Join(Config{Name: name, Bind: "127.0.0.1:0", Join: addr, Logger: quiet(), tune: tune, transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Shutdown() })
		return m
	}
	w1 := join("w1", nil, nil)
	w2 := join("w2", []string{w1.Addr()}, nil)
	w3 := join("w3", []string{w1.Addr()}, func(tr memberlist.Transport) memberlist.Transport { link = newCuttable(tr); return link })
	all := func(w *Membership) func() bool { return func() bool { return names(w.Members()) == "w1,w2,w3" } }
	for _, w := range []*Membership{w1, w2, w3} {
		galetest.Eventually(t, w.Name()+" to see 3 workers", 20*time.Second, all(w))
	}
	for round := 1; round <= 1; round++ {
		link.cut.Store(true)
		galetest.Eventually(t, "w1 and w2 to hold w3 dead", 20*time.Second, func() bool {
			return names(w1.Members()) == "w1,w2" && names(w2.Members()) == "w1,w2"
		})
		galetest.Eventually(t, "w3 to hold w1 and w2 dead", 20*time.Second, func() bool { return names(w3.Members()) == "w3" })
		time.Sleep(4 * time.Second) // past GossipToTheDeadTime
		link.cut.Store(false)
		healed := time.Now()
		for _, w := range []*Membership{w1, w2, w3} {
			galetest.Eventually(t, w.Name()+" to see 3 workers again after the heal", 10*time.Second, all(w))
		}
		t.Logf("round %d: the three see each other again %v after the link came back", round, time.Since(healed).Round(100*time.Millisecond))
	}
}
