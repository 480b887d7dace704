package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
)

// waitFor bounds every wait of these tests; reaching it is a failure.
const waitFor = 15 * time.Second

// rec is one received frame.
type rec struct {
	from    string
	channel uint32
	payload string
}

// sink records the frames a transport receives.
type sink struct {
	mu     sync.Mutex
	frames []rec
	gate   chan struct{} // when not nil, each Handler call waits for it to be closed
}

func (s *sink) handle(from string, ch uint32, payload []byte) {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	s.frames = append(s.frames, rec{from, ch, string(payload)})
	s.mu.Unlock()
}

func (s *sink) got() []rec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rec(nil), s.frames...)
}

// wait waits until the sink has n frames.
func (s *sink) wait(t *testing.T, n int) []rec {
	t.Helper()
	var got []rec
	galetest.Eventually(t, fmt.Sprintf("%d frames", n), waitFor, func() bool {
		got = s.got()
		return len(got) >= n
	})
	if len(got) != n {
		t.Fatalf("got %d frames, want %d", len(got), n)
	}
	return got
}

type node struct {
	*Transport
	sink *sink
	logs *galetest.Buffer
}

// start runs a transport named name with a recording handler; mod may
// change its config.
func start(t *testing.T, name string, mod ...func(*Config)) *node {
	t.Helper()
	n, err := tryStart(t, name, mod...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tryStart is start returning New's error instead of failing the test.
func tryStart(t *testing.T, name string, mod ...func(*Config)) (*node, error) {
	t.Helper()
	n := &node{sink: &sink{}, logs: &galetest.Buffer{}}
	cfg := Config{
		Name:       name,
		Addr:       "127.0.0.1:0",
		Handler:    n.sink.handle,
		BackoffMin: 5 * time.Millisecond,
		BackoffMax: 50 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mod {
		m(&cfg)
	}
	if cfg.Handler == nil {
		cfg.Handler = n.sink.handle
	}
	tr, err := New(cfg)
	if err != nil {
		return nil, err
	}
	n.Transport = tr
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("logs of %s:\n%s", name, n.logs)
		}
	})
	return n, nil
}

func (n *node) peer(t *testing.T, name string) PeerStatus {
	t.Helper()
	for _, p := range n.Peers() {
		if p.Name == name {
			return p
		}
	}
	return PeerStatus{}
}

func send(t *testing.T, from *node, to *node, ch uint32, payload string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := from.Send(ctx, to.Name(), to.Addr(), ch, []byte(payload)); err != nil {
		t.Fatalf("send %s -> %s: %v", from.Name(), to.Name(), err)
	}
}

func TestConfig_Validate(t *testing.T) {
	h := func(string, uint32, []byte) {}
	ok := Config{Name: "w", Addr: "127.0.0.1:0", Handler: h}
	tests := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"no name", func(c *Config) { c.Name = "" }, false},
		{"long name", func(c *Config) { c.Name = strings.Repeat("n", 256) }, false},
		{"no addr", func(c *Config) { c.Addr = "" }, false},
		{"no handler", func(c *Config) { c.Handler = nil }, false},
		{"negative queue", func(c *Config) { c.QueueFrames = -1 }, false},
		{"max frame beyond u32", func(c *Config) { c.MaxFrame = 1 << 32 }, false},
		{"backoff max below min", func(c *Config) { c.BackoffMin, c.BackoffMax = time.Second, time.Millisecond }, false},
		{"negative timeout", func(c *Config) { c.DialTimeout = -1 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			err := c.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrConfig) {
					t.Fatalf("err %v is not ErrConfig", err)
				}
				if _, err := New(c); !errors.Is(err, ErrConfig) {
					t.Fatalf("New = %v", err)
				}
			}
		})
	}
}

// TestTransport_Order: frames arrive in order per channel and peer, from
// several peers at once, with their channel and sender.
func TestTransport_Order(t *testing.T) {
	b := start(t, "b")
	senders := []*node{start(t, "a"), start(t, "c")}
	const n = 2000
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if err := s.Send(context.Background(), "b", b.Addr(), uint32(i%4), []byte(fmt.Sprint(i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := b.sink.wait(t, 2*n)
	next := map[string]int{}
	for _, r := range got {
		i := next[r.from]
		if r.payload != fmt.Sprint(i) || r.channel != uint32(i%4) {
			t.Fatalf("from %s: got frame %q on channel %d, want %d on %d", r.from, r.payload, r.channel, i, i%4)
		}
		next[r.from]++
	}
	for _, s := range senders {
		if next[s.Name()] != n {
			t.Fatalf("%d frames from %s", next[s.Name()], s.Name())
		}
		ps := s.peer(t, "b")
		if ps.FramesSent != n || !ps.Connected || ps.Connects != 1 {
			t.Fatalf("%s's view of b: %+v", s.Name(), ps)
		}
		pb := b.peer(t, s.Name())
		if pb.FramesReceived != n || pb.BytesReceived != ps.BytesSent {
			t.Fatalf("b's view of %s: %+v, sender's: %+v", s.Name(), pb, ps)
		}
	}
}

// TestTransport_BothDirections: two workers sending to each other at the
// same time end up with one connection carrying both directions, however
// their dials race.
func TestTransport_BothDirections(t *testing.T) {
	for round := range 20 {
		a, b := start(t, fmt.Sprintf("a%02d", round)), start(t, fmt.Sprintf("b%02d", round))
		const n = 50
		var wg sync.WaitGroup
		for _, pair := range [][2]*node{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					send(t, pair[0], pair[1], 7, fmt.Sprint(i))
				}
			}()
		}
		wg.Wait()
		for _, pair := range [][2]*node{{a, b}, {b, a}} {
			got := pair[1].sink.wait(t, n)
			for i, r := range got {
				if r.payload != fmt.Sprint(i) || r.from != pair[0].Name() {
					t.Fatalf("round %d: %s got %+v as frame %d", round, pair[1].Name(), r, i)
				}
			}
		}
		pa, pb := a.peer(t, b.Name()), b.peer(t, a.Name())
		if pa.Connects != 1 || pb.Connects != 1 || !pa.Connected || !pb.Connected {
			t.Fatalf("round %d: connections: a sees %+v, b sees %+v", round, pa, pb)
		}
		if pa.Dialed == pb.Dialed {
			t.Fatalf("round %d: dialed by a: %v, by b: %v; want exactly one dialer", round, pa.Dialed, pb.Dialed)
		}
		a.Close()
		b.Close()
	}
}

// TestTransport_Backpressure: a Handler that blocks makes the sender's
// Send block once the socket buffers and the queue are full; unblocking
// it lets every queued frame through, in order.
func TestTransport_Backpressure(t *testing.T) {
	gate := make(chan struct{})
	b := start(t, "b")
	b.sink.gate = gate
	const queue = 8
	a := start(t, "a", func(c *Config) { c.QueueFrames = queue })
	payload := strings.Repeat("x", 64<<10) // fills the socket buffers in a few hundred frames
	sent := 0
	blocked := false
	for i := 0; i < 100000 && !blocked; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := a.Send(ctx, "b", b.Addr(), 1, []byte(fmt.Sprintf("%08d%s", i, payload)))
		cancel()
		switch {
		case err == nil:
			sent++
		case errors.Is(err, context.DeadlineExceeded):
			// blocked: the queue must be full (a slow machine may time
			// out before it is: then keep going)
			blocked = a.peer(t, "b").Queued == queue
			if !blocked {
				i-- // retry the same frame
			}
		default:
			t.Fatal(err)
		}
	}
	if !blocked {
		t.Fatalf("Send never blocked after %d frames", sent)
	}
	t.Logf("Send blocked after %d frames of %d bytes", sent, len(payload)+8)
	if got := len(b.sink.got()); got != 0 {
		t.Fatalf("the blocked handler finished %d frames", got)
	}
	close(gate)
	// the frames sent after unblocking follow the others
	for i := sent; i < sent+10; i++ {
		send(t, a, b, 1, fmt.Sprintf("%08d%s", i, payload))
	}
	got := b.sink.wait(t, sent+10)
	for i, r := range got {
		if r.payload[:8] != fmt.Sprintf("%08d", i) {
			t.Fatalf("frame %d is %q", i, r.payload[:8])
		}
	}
}

// TestTransport_Reconnect: when the peer's transport is closed and a new
// one starts on the same address, the sender reconnects and frames sent
// afterwards arrive.
func TestTransport_Reconnect(t *testing.T) {
	a := start(t, "a")
	b := start(t, "b")
	addr := b.Addr()
	send(t, a, b, 1, "before")
	b.sink.wait(t, 1)
	b.Close()
	// frames sent while b is down wait in the queue (some may be lost
	// with the broken connection: not checked)
	for i := range 5 {
		send(t, a, b, 1, fmt.Sprint("down", i))
	}
	b2 := start(t, "b", func(c *Config) { c.Addr = addr })
	galetest.Eventually(t, "a to reconnect", waitFor, func() bool {
		p := a.peer(t, "b")
		return p.Connected && p.Connects == 2
	})
	for i := range 100 {
		send(t, a, b2, 1, fmt.Sprint("after", i))
	}
	var after []string
	galetest.Eventually(t, "the frames sent after reconnecting", waitFor, func() bool {
		after = after[:0]
		for _, r := range b2.sink.got() {
			if strings.HasPrefix(r.payload, "after") {
				after = append(after, r.payload)
			}
		}
		return len(after) == 100
	})
	for i, p := range after {
		if p != fmt.Sprint("after", i) {
			t.Fatalf("frame %d after reconnecting is %q", i, p)
		}
	}
	if p := a.peer(t, "b"); p.Err == nil {
		t.Fatalf("a recorded no error for the broken connection: %+v", p)
	}
}

// TestTransport_Secret: a peer with another secret, or none, is refused
// on both sides and logged; the same secret works.
func TestTransport_Secret(t *testing.T) {
	tests := []struct {
		name         string
		secretA      string
		secretB      string
		wantRejected bool
	}{
		{"same", "s3cret", "s3cret", false},
		{"different", "s3cret", "other", true},
		{"dialer has none", "", "s3cret", true},
		{"acceptor has none", "s3cret", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := start(t, "a", func(c *Config) { c.Secret = tc.secretA })
			b := start(t, "b", func(c *Config) { c.Secret = tc.secretB })
			send(t, a, b, 1, "hello")
			if !tc.wantRejected {
				b.sink.wait(t, 1)
				return
			}
			galetest.Eventually(t, "a to record the refusal", waitFor, func() bool { return errors.Is(a.peer(t, "b").Err, ErrAuth) })
			galetest.Eventually(t, "b to log the refusal", waitFor, func() bool {
				return strings.Contains(b.logs.String(), "level=ERROR") && strings.Contains(b.logs.String(), ErrAuth.Error())
			})
			// a logs the refusal after recording it
			galetest.Eventually(t, "a to log the refusal", waitFor, func() bool { return strings.Contains(a.logs.String(), ErrAuth.Error()) })
			if got := b.sink.got(); len(got) != 0 || a.peer(t, "b").Connects != 0 {
				t.Fatalf("b got %v; a's view %+v", got, a.peer(t, "b"))
			}
		})
	}
}

// TestTransport_WrongPeer: an address that belongs to another worker is
// not used for the peer Send names.
func TestTransport_WrongPeer(t *testing.T) {
	a := start(t, "a")
	b := start(t, "b")
	if err := a.Send(context.Background(), "c", b.Addr(), 1, []byte("x")); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "a to record the wrong peer", waitFor, func() bool { return errors.Is(a.peer(t, "c").Err, ErrWrongPeer) })
	if got := b.sink.got(); len(got) != 0 {
		t.Fatalf("b got %v", got)
	}
}

// rawDial connects to tr and runs the dialer's side of the handshake as
// name, returning the connection ready for frames.
func rawDial(t *testing.T, tr *Transport, name, secret string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", tr.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(waitFor))
	fake := &Transport{cfg: Config{Name: name, Secret: secret}}
	mine := hello{name: name, want: tr.Name()}
	if _, err := nc.Write(mine.append(nil)); err != nil {
		t.Fatal(err)
	}
	theirs, err := readHello(nc)
	if err != nil {
		t.Fatal(err)
	}
	mac := make([]byte, macSize)
	if _, err := io.ReadFull(nc, mac); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(fake.mac("dialer", &mine, &theirs)); err != nil {
		t.Fatal(err)
	}
	status := make([]byte, 1)
	if _, err := io.ReadFull(nc, status); err != nil || status[0] != statusOK {
		t.Fatalf("status %v, %v", status, err)
	}
	// the transport's first frame says it reads compressed frames
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		t.Fatal(err)
	}
	if ch := binary.BigEndian.Uint32(hdr[4:]); ch != chanCaps {
		t.Fatalf("first frame on channel %#x, want the capabilities' %#x", ch, chanCaps)
	}
	if _, err := io.ReadFull(nc, make([]byte, binary.BigEndian.Uint32(hdr[0:]))); err != nil {
		t.Fatal(err)
	}
	return nc
}

// TestTransport_OversizedFrame: a frame announcing more than MaxFrame
// closes the connection with an error, without allocating the frame.
func TestTransport_OversizedFrame(t *testing.T) {
	b := start(t, "b", func(c *Config) { c.MaxFrame = 1 << 20 })
	nc := rawDial(t, b.Transport, "a", "")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var hdr [frameHeader]byte
	binary.BigEndian.PutUint32(hdr[0:], 0xFFFF_FFF0) // 4 GiB
	binary.BigEndian.PutUint32(hdr[4:], 1)
	if _, err := nc.Write(hdr[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the oversized frame: %v, want EOF (connection closed)", err)
	}
	galetest.Eventually(t, "b to record the error", waitFor, func() bool { return errors.Is(b.peer(t, "a").Err, ErrFrameTooLarge) })
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 256<<20 {
		t.Fatalf("allocated %d bytes while refusing a frame of 4 GiB", d)
	}
	// b logs the error after recording it
	galetest.Eventually(t, "b to log the error", waitFor, func() bool { return strings.Contains(b.logs.String(), ErrFrameTooLarge.Error()) })
	// a frame of MaxFrame bytes exactly is fine, between real transports
	a := start(t, "a2", func(c *Config) { c.MaxFrame = 2 << 20 })
	send(t, a, b, 2, strings.Repeat("y", 1<<20))
	if got := b.sink.wait(t, 1); len(got[0].payload) != 1<<20 {
		t.Fatalf("got %d bytes", len(got[0].payload))
	}
	// and a larger one from a peer with a larger MaxFrame breaks the
	// connection
	send(t, a, b, 2, strings.Repeat("z", 1<<20+1))
	galetest.Eventually(t, "b to drop a2", waitFor, func() bool { return errors.Is(b.peer(t, "a2").Err, ErrFrameTooLarge) })
}

// TestTransport_BadHandshake: garbage instead of a handshake is refused
// and the transport keeps working.
func TestTransport_BadHandshake(t *testing.T) {
	b := start(t, "b")
	for _, junk := range []string{"GET / HTTP/1.1\r\n\r\n", "GALT\x02" + strings.Repeat("\x00", 40), "GALT\x01" + strings.Repeat("\x00", 17)} {
		nc, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(waitFor))
		nc.Write([]byte(junk))
		if _, err := io.ReadAll(nc); err != nil {
			t.Fatalf("read: %v", err)
		}
		nc.Close()
	}
	galetest.Eventually(t, "the failures to be logged", waitFor, func() bool { return strings.Count(b.logs.String(), ErrHandshake.Error()) == 3 })
	a := start(t, "a")
	send(t, a, b, 1, "still works")
	b.sink.wait(t, 1)
}

func TestTransport_SendErrors(t *testing.T) {
	a := start(t, "a", func(c *Config) { c.MaxFrame = 10 })
	if err := a.Send(context.Background(), "a", "x", 1, nil); !errors.Is(err, ErrSelf) {
		t.Fatalf("send to self: %v", err)
	}
	for _, name := range []string{"", strings.Repeat("n", 256)} {
		if err := a.Send(context.Background(), name, "127.0.0.1:1", 1, nil); !errors.Is(err, ErrPeerName) {
			t.Fatalf("send to %q: %v", name, err)
		}
	}
	if err := a.Send(context.Background(), "b", "127.0.0.1:1", 1, make([]byte, 11)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("send too large: %v", err)
	}
	a.Close()
	if err := a.Send(context.Background(), "b", "127.0.0.1:1", 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestTransport_PeerDown: Send to a peer that is down queues without
// error, blocks when the queue is full, and returns on ctx, Forget and
// Close.
func TestTransport_PeerDown(t *testing.T) {
	// an address nobody listens on
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	a := start(t, "a", func(c *Config) { c.QueueFrames = 3 })
	for i := range 3 {
		if err := a.Send(context.Background(), "b", dead, 1, []byte{byte(i)}); err != nil {
			t.Fatalf("send %d to a peer that is down: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := a.Send(ctx, "b", dead, 1, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send to a full queue: %v", err)
	}
	galetest.Eventually(t, "a dial failure", waitFor, func() bool {
		p := a.peer(t, "b")
		return p.Err != nil && p.Queued == 3 && !p.Connected
	})

	errc := make(chan error, 1)
	go func() { errc <- a.Send(context.Background(), "b", dead, 1, nil) }()
	galetest.Eventually(t, "the Send to block", waitFor, func() bool { return a.peer(t, "b").Waiting == 1 })
	a.Forget("b")
	if err := <-errc; !errors.Is(err, ErrPeerForgotten) {
		t.Fatalf("blocked Send after Forget: %v", err)
	}
	if n := len(a.Peers()); n != 0 {
		t.Fatalf("%d peers after Forget", n)
	}

	for range 3 {
		if err := a.Send(context.Background(), "b", dead, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	go func() { errc <- a.Send(context.Background(), "b", dead, 1, nil) }()
	galetest.Eventually(t, "the Send to block", waitFor, func() bool { return a.peer(t, "b").Waiting == 1 })
	a.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Send after Close: %v", err)
	}
}

// TestTransport_Queued: frames sent while the peer is not yet up are
// delivered once it is.
func TestTransport_Queued(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a := start(t, "a")
	for i := range 10 {
		if err := a.Send(context.Background(), "b", addr, 3, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	// The port was free a moment ago, but another process (or a's own
	// dial, when the kernel picks the same port for its local end: a TCP
	// self-connect) may hold it briefly; retry the listen until it frees.
	var b *node
	galetest.Eventually(t, "b to listen on "+addr, waitFor, func() bool {
		var err error
		b, err = tryStart(t, "b", func(c *Config) { c.Addr = addr })
		if err != nil && !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatal(err)
		}
		return err == nil
	})
	got := b.sink.wait(t, 10)
	for i, r := range got {
		if r.payload != fmt.Sprint(i) {
			t.Fatalf("frame %d: %q", i, r.payload)
		}
	}
}

// TestTransport_Reply: a peer that connected to us can be answered
// without knowing its address, over the same connection.
func TestTransport_Reply(t *testing.T) {
	var b *node
	var replies atomic.Int32
	b = start(t, "b", func(c *Config) {
		c.Handler = func(from string, ch uint32, payload []byte) {
			if err := b.Send(context.Background(), from, "", ch+1, append([]byte("re:"), payload...)); err != nil {
				t.Error(err)
			}
			replies.Add(1)
		}
	})
	a := start(t, "a")
	for i := range 20 {
		send(t, a, b, 1, fmt.Sprint(i))
	}
	got := a.sink.wait(t, 20)
	for i, r := range got {
		if r.payload != fmt.Sprint("re:", i) || r.channel != 2 || r.from != "b" {
			t.Fatalf("reply %d: %+v", i, r)
		}
	}
	if p := b.peer(t, "a"); p.Connects != 1 || p.Dialed {
		t.Fatalf("b's view of a: %+v", p)
	}
}

// TestTransport_BreakWhileBusy: a connection that breaks while both sides
// send is re-established once (one connection again, however the two
// redials race), and each side gets the other's frames in order, without
// duplicates (frames in flight when it broke may be lost).
func TestTransport_BreakWhileBusy(t *testing.T) {
	for round := range 5 {
		a, b := start(t, fmt.Sprint("a", round)), start(t, fmt.Sprint("b", round))
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var sent [2]atomic.Int64
		pairs := [][2]*node{{a, b}, {b, a}}
		for k, pair := range pairs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					if err := pair[0].Send(ctx, pair[1].Name(), pair[1].Addr(), 1, []byte(fmt.Sprint(i))); err != nil {
						return
					}
					sent[k].Store(int64(i + 1))
				}
			}()
		}
		galetest.Eventually(t, "traffic both ways", waitFor, func() bool { return len(a.sink.got()) > 100 && len(b.sink.got()) > 100 })
		// break the connection under both sides
		a.mu.Lock()
		p := a.peers[b.Name()]
		a.mu.Unlock()
		p.mu.Lock()
		c := p.conn
		p.mu.Unlock()
		c.nc.Close()
		galetest.Eventually(t, "both sides to reconnect", waitFor, func() bool {
			pa, pb := a.peer(t, b.Name()), b.peer(t, a.Name())
			return pa.Connected && pb.Connected && pa.Connects == 2 && pb.Connects == 2
		})
		cancel()
		wg.Wait()
		for k, pair := range pairs {
			send(t, pair[0], pair[1], 2, "end")
			var got []rec
			galetest.Eventually(t, "the last frame", waitFor, func() bool {
				got = pair[1].sink.got()
				return len(got) > 0 && got[len(got)-1].payload == "end"
			})
			last := -1
			for _, r := range got[:len(got)-1] {
				var i int
				fmt.Sscan(r.payload, &i)
				if i <= last {
					t.Fatalf("round %d: %s got frame %d after %d", round, pair[1].Name(), i, last)
				}
				last = i
			}
			if int64(last) >= sent[k].Load() {
				t.Fatalf("round %d: %s got frame %d, only %d were sent", round, pair[1].Name(), last, sent[k].Load())
			}
			t.Logf("round %d: %s -> %s: %d sent, %d received", round, pair[0].Name(), pair[1].Name(), sent[k].Load(), len(got)-1)
		}
		pa, pb := a.peer(t, b.Name()), b.peer(t, a.Name())
		if pa.Connects != 2 || pb.Connects != 2 || pa.Dialed == pb.Dialed {
			t.Fatalf("round %d: a sees %+v, b sees %+v", round, pa, pb)
		}
		a.Close()
		b.Close()
	}
}
