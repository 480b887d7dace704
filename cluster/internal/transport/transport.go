package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Handler receives every frame: from is the sending peer's name. It is
// called sequentially for the frames of one connection (so frames from
// one peer arrive in the order they were sent), concurrently for
// different peers. payload is valid only until Handler returns: it must
// copy what it keeps. A Handler that blocks stops reading from that peer,
// which in turn blocks the peer's Send once its queue is full.
type Handler func(from string, channel uint32, payload []byte)

// Defaults of Config.
const (
	DefaultQueueFrames      = 1024
	DefaultMaxFrame         = 8<<20 + 64 // codec.MaxMessage and room for a header
	DefaultDialTimeout      = 5 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultBackoffMin       = 50 * time.Millisecond
	DefaultBackoffMax       = 5 * time.Second
	DefaultBufferSize       = 64 << 10
)

// Config configures a Transport; zero fields take the defaults above.
type Config struct {
	// Name is this worker's name, unique in the cluster (1 to 255 bytes).
	Name string
	// Addr is the TCP address to listen on, e.g. "127.0.0.1:7000";
	// "127.0.0.1:0" picks a free port (see Transport.Addr).
	Addr string
	// Handler receives the frames (required).
	Handler Handler
	// Secret, when set, is the cluster's shared secret: a peer must prove
	// it knows the same one (HMAC-SHA256 over fresh nonces; the secret
	// never crosses the wire). Peers without it are refused and logged.
	Secret string
	// Member, when set, tells whether name, listening at addr, is a current
	// member of the cluster (for Gale: the gossip's view, itself
	// authenticated by the cluster key). An incoming connection must claim
	// such a name and its address, or it is refused (ErrUnknownPeer): a
	// peer cannot take the name of a worker that is not there, nor a
	// member's name from another address. The dialer retries, so a worker
	// that just joined waits only until the gossip reaches the acceptor.
	Member func(name, addr string) bool
	// QueueFrames bounds the frames queued per peer: Send blocks while
	// the queue is full.
	QueueFrames int
	// MaxFrame bounds a frame's payload, in bytes (at most 4 GiB - 1). A
	// peer announcing a longer frame is disconnected before anything is
	// allocated for it. Workers of a cluster should agree on it.
	MaxFrame int
	// DialTimeout and HandshakeTimeout bound connecting to a peer and the
	// handshake that follows (either side).
	DialTimeout      time.Duration
	HandshakeTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between failed dials: it
	// doubles from BackoffMin up to BackoffMax, with jitter.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// ReadBuffer and WriteBuffer size each connection's buffers.
	ReadBuffer  int
	WriteBuffer int
	// Compress sends frames of 512 bytes or more as lz4 blocks to the
	// peers that read them (compress.go): less to carry on a real network,
	// for some CPU on both sides.
	Compress bool
	// Logger receives the transport's logs; nil means slog.Default().
	Logger *slog.Logger
	// noCaps (tests) makes the transport behave as one of an earlier
	// version: it never says it reads compressed frames.
	noCaps bool
}

// withDefaults returns c with the zero fields set to the defaults.
func (c Config) withDefaults() Config {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	set(&c.QueueFrames, DefaultQueueFrames)
	set(&c.MaxFrame, DefaultMaxFrame)
	set(&c.ReadBuffer, DefaultBufferSize)
	set(&c.WriteBuffer, DefaultBufferSize)
	setD(&c.DialTimeout, DefaultDialTimeout)
	setD(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	setD(&c.BackoffMin, DefaultBackoffMin)
	setD(&c.BackoffMax, DefaultBackoffMax)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate checks c (after the defaults are applied to its zero fields).
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Name == "" || len(c.Name) > maxName:
		return fmt.Errorf("name %q: must have 1 to %d bytes: %w", c.Name, maxName, ErrConfig)
	case c.Addr == "":
		return fmt.Errorf("no listen address: %w", ErrConfig)
	case c.Handler == nil:
		return fmt.Errorf("no handler: %w", ErrConfig)
	case c.QueueFrames < 0:
		return fmt.Errorf("queue of %d frames: %w", c.QueueFrames, ErrConfig)
	case c.MaxFrame < 0 || uint64(c.MaxFrame) > math.MaxUint32:
		return fmt.Errorf("max frame of %d bytes: %w", c.MaxFrame, ErrConfig)
	case c.DialTimeout < 0 || c.HandshakeTimeout < 0:
		return fmt.Errorf("negative timeout: %w", ErrConfig)
	case c.BackoffMin < 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("backoff from %v to %v: %w", c.BackoffMin, c.BackoffMax, ErrConfig)
	case c.ReadBuffer < 0 || c.WriteBuffer < 0:
		return fmt.Errorf("negative buffer size: %w", ErrConfig)
	}
	return nil
}

// Transport carries frames between this worker and its peers. Its
// methods may be called from any goroutine.
type Transport struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	addr   string          // ln's address
	ctx    context.Context // cancelled by Close; bounds dials
	cancel context.CancelFunc
	done   chan struct{} // closed by Close
	wg     sync.WaitGroup

	mu     sync.Mutex // guards the fields below
	closed bool
	peers  map[string]*peer
	conns  map[net.Conn]struct{} // every open connection, handshakes included
}

// New listens on cfg.Addr and returns the running Transport.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("transport listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		cfg:    cfg,
		log:    cfg.Logger.With("transport", cfg.Name),
		ln:     ln,
		addr:   ln.Addr().String(),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		peers:  map[string]*peer{},
		conns:  map[net.Conn]struct{}{},
	}
	t.wg.Add(1)
	go t.acceptLoop()
	return t, nil
}

// Name returns the worker's name.
func (t *Transport) Name() string { return t.cfg.Name }

// Addr returns the address the transport listens on.
func (t *Transport) Addr() string { return t.addr }

// Close closes the listener and every connection, drops the queued
// frames, makes blocked Sends return ErrClosed, and waits for the
// transport's goroutines, including running Handler calls. It is safe to
// call more than once.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		t.wg.Wait()
		return nil
	}
	t.closed = true
	close(t.done)
	t.cancel()
	err := t.ln.Close()
	for nc := range t.conns {
		nc.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("transport close: %w", err)
	}
	return nil
}

// frame is one queued frame.
type frame struct {
	channel uint32
	head    []byte // written before payload, in the same frame (SendHead)
	payload []byte
}

// peer is another worker: its queue and its connection.
type peer struct {
	name string
	q    chan frame    // frames to send, in order
	gone chan struct{} // closed by Forget
	wake chan struct{} // pokes the dial loop: the connection or address changed

	// traffic, for Peers
	framesSent, bytesSent, framesRecv, bytesRecv atomic.Uint64
	wireSent, wireRecv                           atomic.Uint64 // bytes on the connections, headers and seals too
	waiting                                      atomic.Int64  // Sends blocked on the full queue

	mu       sync.Mutex // guards the fields below
	addr     string     // where to dial: from Send, else from the peer's handshake
	conn     *conn      // the connection in use, nil when down
	last     *conn      // the newest connection (its reader must finish before the next one's starts)
	dialing  bool       // a dial is under way
	dialLoop bool       // the dial loop runs
	connects uint64
	lastErr  error
	lastAt   time.Time
}

func (p *peer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// getPeer returns the peer called name, creating it; it returns nil once
// the transport is closed.
func (t *Transport) getPeer(name string) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	p := t.peers[name]
	if p == nil {
		p = &peer{
			name: name,
			q:    make(chan frame, t.cfg.QueueFrames),
			gone: make(chan struct{}),
			wake: make(chan struct{}, 1),
		}
		t.peers[name] = p
	}
	return p
}

// Send queues a frame of payload on channel for the peer called
// peerName, listening at peerAddr, and returns once it is queued. The
// frame is written by the connection's writer goroutine; Send takes
// ownership of payload: the caller must not modify it afterwards.
//
// Send blocks while the peer's queue is full (backpressure), until ctx
// is done (it then returns ctx.Err() and the frame is not queued). It does
// not fail because the peer is down: the frame waits in the queue while
// the transport (re)connects. It fails when the transport is closed,
// when the peer is forgotten while Send waits, and for a frame longer
// than MaxFrame.
//
// peerAddr may be "" when the address is already known (an earlier Send,
// or the peer connected to us). A new address replaces the known one for
// the next dial; an established connection is kept.
func (t *Transport) Send(ctx context.Context, peerName, peerAddr string, channel uint32, payload []byte) error {
	return t.SendHead(ctx, peerName, peerAddr, channel, nil, payload)
}

// SendHead is Send of a frame whose payload is head followed by payload,
// without copying them together first (a small header of the caller's
// before a large body). It takes ownership of both.
func (t *Transport) SendHead(ctx context.Context, peerName, peerAddr string, channel uint32, head, payload []byte) error {
	if peerName == t.cfg.Name {
		return fmt.Errorf("send to %s: %w", peerName, ErrSelf)
	}
	if peerName == "" || len(peerName) > maxName {
		return fmt.Errorf("send to %q: %w", peerName, ErrPeerName)
	}
	if n := len(head) + len(payload); n > t.cfg.MaxFrame {
		return fmt.Errorf("send %d bytes to %s (max %d): %w", n, peerName, t.cfg.MaxFrame, ErrFrameTooLarge)
	}
	if Reserved(channel) {
		return fmt.Errorf("send on channel %#x: %w", channel, ErrChannel)
	}
	p := t.getPeer(peerName)
	if p == nil {
		return ErrClosed
	}
	p.mu.Lock()
	if peerAddr != "" && peerAddr != p.addr {
		p.addr = peerAddr
		p.poke()
	}
	if !p.dialLoop {
		p.dialLoop = true
		if t.goFunc(func() { t.dialLoop(p) }) != nil {
			p.mu.Unlock()
			return ErrClosed
		}
	}
	p.mu.Unlock()

	f := frame{channel: channel, head: head, payload: payload}
	select {
	case <-t.done:
		return ErrClosed
	case <-p.gone:
		return fmt.Errorf("send to %s: %w", peerName, ErrPeerForgotten)
	default:
	}
	select {
	case p.q <- f:
		return nil
	default:
	}
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	select {
	case p.q <- f:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.done:
		return ErrClosed
	case <-p.gone:
		return fmt.Errorf("send to %s: %w", peerName, ErrPeerForgotten)
	}
}

// Forget drops the peer called name: closes its connection, drops its
// queued frames, stops redialling it, and makes the Sends waiting on its
// queue return ErrPeerForgotten. A later Send, or a connection from the
// peer, starts afresh. Call it when the peer has left the cluster.
func (t *Transport) Forget(name string) {
	t.mu.Lock()
	p := t.peers[name]
	if p != nil {
		delete(t.peers, name)
		close(p.gone)
	}
	t.mu.Unlock()
	if p == nil {
		return
	}
	p.mu.Lock()
	c := p.conn
	p.mu.Unlock()
	if c != nil {
		c.fail(ErrPeerForgotten)
	}
}

// PeerStatus is what Peers reports of one peer, for the monitor UI.
type PeerStatus struct {
	Name string `json:"name"`
	// Addr is the address the peer is dialled at.
	Addr string `json:"addr"`
	// Connected: a connection is up. Dialed: this side dialled it.
	Connected bool `json:"connected"`
	Dialed    bool `json:"dialed"`
	// Connects counts the connections established with the peer.
	Connects uint64 `json:"connects"`
	// Queued is the number of frames waiting in the peer's queue, and
	// Waiting the number of Sends blocked because it is full.
	Queued  int `json:"queued"`
	Waiting int `json:"waiting"`
	// LastError is the last connection failure ("" if none) and
	// LastErrorAt when it happened; Err is the error itself.
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	Err         error     `json:"-"`
	// Frames and bytes (payloads) written to and read from the peer's
	// connections.
	FramesSent     uint64 `json:"framesSent"`
	BytesSent      uint64 `json:"bytesSent"`
	FramesReceived uint64 `json:"framesReceived"`
	BytesReceived  uint64 `json:"bytesReceived"`
	// WireBytesSent and WireBytesReceived are the bytes the connections
	// carried: frames as written (compressed, sealed) with their headers.
	WireBytesSent     uint64 `json:"wireBytesSent"`
	WireBytesReceived uint64 `json:"wireBytesReceived"`
}

// Peers reports the state of every known peer, sorted by name.
func (t *Transport) Peers() []PeerStatus {
	t.mu.Lock()
	ps := make([]*peer, 0, len(t.peers))
	for _, p := range t.peers {
		ps = append(ps, p)
	}
	t.mu.Unlock()
	out := make([]PeerStatus, 0, len(ps))
	for _, p := range ps {
		p.mu.Lock()
		s := PeerStatus{Name: p.name, Addr: p.addr, Connected: p.conn != nil, Connects: p.connects,
			Queued: len(p.q), Waiting: int(p.waiting.Load()), Err: p.lastErr, LastErrorAt: p.lastAt}
		if p.conn != nil {
			s.Dialed = p.conn.dialed
		}
		p.mu.Unlock()
		if s.Err != nil {
			s.LastError = s.Err.Error()
		}
		s.FramesSent, s.BytesSent = p.framesSent.Load(), p.bytesSent.Load()
		s.FramesReceived, s.BytesReceived = p.framesRecv.Load(), p.bytesRecv.Load()
		s.WireBytesSent, s.WireBytesReceived = p.wireSent.Load(), p.wireRecv.Load()
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b PeerStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// goFunc runs f in a goroutine owned by the transport, unless it is
// closed.
func (t *Transport) goFunc(f func()) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
	return nil
}

// track registers an open connection, so that Close closes it; it fails
// (and closes nc) once the transport is closed.
func (t *Transport) track(nc net.Conn) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		nc.Close()
		return ErrClosed
	}
	t.conns[nc] = struct{}{}
	return nil
}

func (t *Transport) untrack(nc net.Conn) {
	t.mu.Lock()
	delete(t.conns, nc)
	t.mu.Unlock()
}

func (t *Transport) isClosed() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

func (t *Transport) acceptLoop() {
	defer t.wg.Done()
	var wait time.Duration
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			if t.isClosed() {
				return
			}
			// out of file descriptors and the like: wait a little
			wait = min(max(2*wait, 5*time.Millisecond), time.Second)
			t.log.Warn("transport accept", "err", err, "retry in", wait)
			select {
			case <-time.After(wait):
				continue
			case <-t.done:
				return
			}
		}
		wait = 0
		if t.track(nc) != nil {
			return
		}
		if t.goFunc(func() { t.accept(nc) }) != nil {
			nc.Close()
			return
		}
	}
}

// dialLoop keeps a connection to p while the transport runs and p is not
// forgotten: whenever there is none it dials p's address, with
// exponential backoff after failures.
func (t *Transport) dialLoop(p *peer) {
	backoff := t.cfg.BackoffMin
	var logged string // the last failure logged at Warn, to log repeats at Debug
	for {
		// a peer forgotten while a dial was under way (its link cut) is
		// not dialled again once that dial succeeded: the connection was
		// dropped at once, and dialling on would replace the peer's good
		// connection (we may be the smaller name) without end
		select {
		case <-p.gone:
			return
		case <-t.done:
			return
		default:
		}
		p.mu.Lock()
		for p.conn != nil || p.addr == "" {
			p.mu.Unlock()
			select {
			case <-p.wake:
			case <-t.done:
				return
			case <-p.gone:
				return
			}
			p.mu.Lock()
		}
		p.dialing = true
		addr := p.addr
		p.mu.Unlock()

		err := t.dial(p, addr)
		if err == nil {
			backoff, logged = t.cfg.BackoffMin, ""
			continue
		}
		p.mu.Lock()
		p.dialing = false
		if !errors.Is(err, errSuperseded) && !t.isClosed() {
			p.lastErr, p.lastAt = err, time.Now()
		}
		p.mu.Unlock()
		switch {
		case t.isClosed():
			return
		case errors.Is(err, errSuperseded):
			t.log.Debug("transport dial superseded", "peer", p.name, "addr", addr)
		case errors.Is(err, ErrAuth) || errors.Is(err, ErrSameName) || errors.Is(err, ErrWrongPeer):
			t.log.Error("transport dial refused", "peer", p.name, "addr", addr, "err", err)
		case err.Error() != logged:
			logged = err.Error()
			t.log.Warn("transport dial failed", "peer", p.name, "addr", addr, "err", err, "retry in", backoff)
		default:
			t.log.Debug("transport dial failed", "peer", p.name, "addr", addr, "err", err, "retry in", backoff)
		}
		// full jitter in the upper half: [backoff/2, backoff)
		wait := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		backoff = min(2*backoff, t.cfg.BackoffMax)
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-p.wake: // a new address, or the peer connected to us
			timer.Stop()
		case <-t.done:
			timer.Stop()
			return
		case <-p.gone:
			timer.Stop()
			return
		}
	}
}
