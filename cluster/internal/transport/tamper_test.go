package transport

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gale-stream/gale/internal/galetest"
)

// tamperProxy forwards TCP between a dialer and target, and from the
// dialer's side, once armed, replaces every "hello" in what it forwards
// with "HELLO": a man in the middle of an authenticated handshake.
type tamperProxy struct {
	ln    net.Listener
	armed atomic.Bool
	hits  atomic.Int64
}

func newTamperProxy(t *testing.T, target string) *tamperProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tamperProxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(c, s); c.Close() }()
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						chunk := buf[:n]
						if p.armed.Load() && bytes.Contains(chunk, []byte("hello")) {
							chunk = bytes.ReplaceAll(chunk, []byte("hello"), []byte("HELLO"))
							p.hits.Add(1)
						}
						if _, err := s.Write(chunk); err != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				s.Close()
			}()
		}
	}()
	return p
}

// TestTransport_FramesSealed: with a secret, frames are encrypted (issue
// 16, item 12): a man in the middle that rewrites "hello" finds none to
// rewrite. Without a secret the same rewriting goes through unnoticed —
// what the test would see if frames were not sealed.
func TestTransport_FramesSealed(t *testing.T) {
	for _, secret := range []string{"s3cret", ""} {
		b := start(t, "b", func(c *Config) { c.Secret = secret })
		a := start(t, "a", func(c *Config) { c.Secret = secret })
		proxy := newTamperProxy(t, b.Addr())
		// a reaches b through the proxy
		if err := a.Send(t.Context(), "b", proxy.ln.Addr().String(), 1, []byte("first")); err != nil {
			t.Fatal(err)
		}
		b.sink.wait(t, 1)
		proxy.armed.Store(true)
		if err := a.Send(t.Context(), "b", proxy.ln.Addr().String(), 1, []byte("hello world")); err != nil {
			t.Fatal(err)
		}
		if secret == "" {
			got := b.sink.wait(t, 2)
			if got[1].payload != "HELLO world" || proxy.hits.Load() == 0 {
				t.Fatalf("without a secret: b got %q (proxy hits %d); the test's tampering did not work", got[1].payload, proxy.hits.Load())
			}
			continue
		}
		// sealed: the proxy finds no "hello" to alter; b gets it intact
		got := b.sink.wait(t, 2)
		if proxy.hits.Load() != 0 || got[1].payload != "hello world" {
			t.Fatalf("with a secret: proxy hits %d, b got %q; want the payload unseen and intact", proxy.hits.Load(), got[1].payload)
		}
	}
}

// TestTransport_AlteredFrameRefused flips a bit of a sealed frame: the
// receiver refuses it (ErrAuth, logged) and hands nothing to the Handler.
func TestTransport_AlteredFrameRefused(t *testing.T) {
	b := start(t, "b", func(c *Config) { c.Secret = "s3cret" })
	a := start(t, "a", func(c *Config) { c.Secret = "s3cret" })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var forwarded atomic.Int64
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", b.Addr())
		if err != nil {
			return
		}
		go io.Copy(c, s)
		buf := make([]byte, 1)
		for {
			if _, err := c.Read(buf); err != nil {
				s.Close()
				return
			}
			// the dialer's side of the handshake is under 100 bytes, then
			// the first frame (8 + 300 + 16 bytes): flip one bit of its body
			if forwarded.Add(1) == 250 {
				buf[0] ^= 1
			}
			s.Write(buf)
		}
	}()
	if err := a.Send(t.Context(), "b", ln.Addr().String(), 1, bytes.Repeat([]byte("x"), 300)); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(t.Context(), "b", ln.Addr().String(), 1, bytes.Repeat([]byte("y"), 200)); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "b to refuse the altered frame", waitFor, func() bool {
		return strings.Contains(b.logs.String(), "does not authenticate")
	})
	for _, f := range b.sink.got() {
		if f.payload != strings.Repeat("y", 200) {
			t.Fatalf("b's handler got the altered frame: %q", f.payload)
		}
	}
}
