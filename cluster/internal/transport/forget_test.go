package transport

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
)

// heldProxy forwards connections to target, each only once released:
// until then a dial to it hangs in its handshake, as over a link that is
// cut and comes back.
type heldProxy struct {
	ln      net.Listener
	release chan struct{}
	once    sync.Once
}

func newHeldProxy(t *testing.T, target string) *heldProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &heldProxy{ln: ln, release: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				<-h.release
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				go io.Copy(out, in)
				io.Copy(in, out)
			}()
		}
	}()
	return h
}

func (h *heldProxy) addr() string { return h.ln.Addr().String() }
func (h *heldProxy) open()        { h.once.Do(func() { close(h.release) }) }

// TestTransport_ForgetWhileDialing: a peer forgotten (it left the
// membership) while a dial to it hangs — the link is cut — and whose dial
// then succeeds — the link is back: the connection is dropped and the
// forgotten peer is not dialled again. The dial loop used to go on
// dialling it without end (a connection installed on a forgotten peer is
// failed at once, and a successful dial retried at once): found with
// worker hosts in network namespaces, where it kept replacing the good
// connection of the pair on the other side, hundreds of times a second,
// and no tuple crossed between the two workers ever again.
func TestTransport_ForgetWhileDialing(t *testing.T) {
	a := start(t, "a")
	b := start(t, "b")
	p := newHeldProxy(t, b.Addr())
	if err := a.Send(context.Background(), "b", p.addr(), 1, []byte("x")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a's dial hangs in the handshake
	a.Forget("b")
	p.open()
	time.Sleep(time.Second)
	if n := b.peer(t, "a").Connects; n > 1 {
		t.Errorf("b accepted %d connections from a after a forgot b, want at most 1", n)
	}
	// a new Send dials afresh, once
	send(t, a, b, 1, "y")
	galetest.Eventually(t, "the frame sent after the Forget", waitFor, func() bool {
		for _, r := range b.sink.got() {
			if r.payload == "y" {
				return true
			}
		}
		return false
	})
}
