package transport

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The handshake (see the package doc).
const (
	magic = "GALT"
	// version 2: the cluster's frames start with their assignment epoch
	// (cluster.splitFrame); a worker of version 1 would misread them, so
	// the two refuse each other at the handshake; version 3: a batch's
	// end markers carry the partition's committed seq (tuple.BatchMeta)
	version   = 3
	nonceSize = 16
	macSize   = sha256.Size
	maxName   = 255
	maxAddr   = 255
)

// handshake statuses, the acceptor's last word
const (
	statusOK byte = iota
	statusSuperseded
	statusAuth
	statusSameName
	statusClosing
	statusWrongPeer
	statusUnknown
)

// frameHeader is [u32 payload length][u32 channel], big-endian.
const frameHeader = 8

// maxReuse bounds the read buffer kept between frames: a larger frame
// gets a buffer of its own, dropped after its Handler call.
const maxReuse = 1 << 20

// frameBuf returns n bytes for a frame: buf's, grown (doubling, up to
// maxReuse) when too small, or a buffer of their own past maxReuse; and
// the buffer to keep for the next frame.
func frameBuf(buf []byte, n int) (frame, keep []byte) {
	if n > maxReuse {
		return make([]byte, n), buf
	}
	if cap(buf) < n {
		buf = make([]byte, min(max(n, 2*cap(buf), 4096), maxReuse))
	}
	return buf[:n], buf
}

// conn is one established connection to a peer.
type conn struct {
	t      *Transport
	p      *peer
	nc     net.Conn
	br     *bufio.Reader
	dialed bool          // this side dialled it
	done   chan struct{} // closed by fail
	// seal and open protect the frames each way (AES-256-GCM, keys of
	// this connection's handshake, frame numbers as nonces) when the
	// transport has a secret; nil without one.
	seal, open cipher.AEAD
	// peerLZ4: the peer said it reads compressed frames (compress.go);
	// set by the reader, read by the writer
	peerLZ4 atomic.Bool
	once    sync.Once

	// prev is the connection installed before this one: this one's reader
	// waits for prev's to finish, so frames stay in order across
	// reconnects. Cleared once waited for.
	prev       *conn
	readerDone chan struct{}
}

// fail closes the connection once, for err, and marks the peer down.
func (c *conn) fail(err error) {
	c.once.Do(func() {
		// the peer's state first, then the socket: once it is closed the
		// peer may reconnect at once, and its new connection would make
		// this one look replaced (its error unrecorded)
		p := c.p
		p.mu.Lock()
		current := p.conn == c
		if current {
			p.conn = nil
			if !errors.Is(err, errReplaced) && !c.t.isClosed() {
				p.lastErr, p.lastAt = err, time.Now()
			}
		}
		p.mu.Unlock()
		c.nc.Close()
		close(c.done)
		c.t.untrack(c.nc)
		if current {
			p.poke()
		}
		switch {
		case c.t.isClosed() || errors.Is(err, errReplaced) || errors.Is(err, ErrPeerForgotten):
			c.t.log.Debug("transport connection closed", "peer", p.name, "reason", err)
		default:
			c.t.log.Warn("transport connection lost", "peer", p.name, "err", err)
		}
	})
}

// hello is the first message of each side of the handshake: the name,
// the listen address, a fresh nonce, and (from the dialer) the name it
// expects to reach.
type hello struct {
	name, addr, want string
	nonce            [nonceSize]byte
}

func (h *hello) append(b []byte) []byte {
	b = append(b, magic...)
	b = append(b, version)
	b = append(b, h.nonce[:]...)
	b = append(b, byte(len(h.name)))
	b = append(b, h.name...)
	b = append(b, byte(len(h.addr)))
	b = append(b, h.addr...)
	b = append(b, byte(len(h.want)))
	return append(b, h.want...)
}

func readHello(r io.Reader) (hello, error) {
	var h hello
	// the magic and version first, so that a stranger is turned away at
	// once rather than waited for
	var head [len(magic) + 1]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return h, fmt.Errorf("read hello: %w", err)
	}
	if string(head[:len(magic)]) != magic {
		return h, fmt.Errorf("magic %q: %w", head[:len(magic)], ErrHandshake)
	}
	if v := head[len(magic)]; v != version {
		return h, fmt.Errorf("protocol version %d, want %d: %w", v, version, ErrHandshake)
	}
	var fixed [nonceSize + 1]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return h, fmt.Errorf("read hello: %w", err)
	}
	copy(h.nonce[:], fixed[:nonceSize])
	n := int(fixed[len(fixed)-1])
	if n == 0 {
		return h, fmt.Errorf("empty peer name: %w", ErrHandshake)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return h, fmt.Errorf("read hello: %w", err)
	}
	h.name = string(buf)
	var err error
	if h.addr, err = readShort(r); err != nil {
		return h, err
	}
	if h.want, err = readShort(r); err != nil {
		return h, err
	}
	return h, nil
}

// readShort reads a string of at most 255 bytes after its length byte.
func readShort(r io.Reader) (string, error) {
	var n [1]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", fmt.Errorf("read hello: %w", err)
	}
	b := make([]byte, n[0])
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("read hello: %w", err)
	}
	return string(b), nil
}

// mac proves knowledge of the secret for one side (role) of the
// handshake between the dialer d and the acceptor a.
func (t *Transport) mac(role string, d, a *hello) []byte {
	m := hmac.New(sha256.New, []byte(t.cfg.Secret))
	for _, s := range []string{role, d.name, a.name} {
		m.Write([]byte{byte(len(s))})
		m.Write([]byte(s))
	}
	m.Write(d.nonce[:])
	m.Write(a.nonce[:])
	return m.Sum(nil)
}

func (t *Transport) newHello() hello {
	h := hello{name: t.cfg.Name, addr: t.Addr()}
	if len(h.addr) > maxAddr {
		h.addr = ""
	}
	rand.Read(h.nonce[:])
	return h
}

// frameKeys sets c's frame ciphers for the handshake between dialer d
// and acceptor a: one key per direction, derived from the secret and both
// nonces, so that every connection has its own keys and a frame cannot be
// replayed into another connection or reflected back.
func (t *Transport) frameKeys(c *conn, d, a *hello) error {
	if t.cfg.Secret == "" {
		return nil
	}
	key := func(dir string) (cipher.AEAD, error) {
		k := t.mac("frames "+dir, d, a)
		b, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}
	d2a, err := key("dialer to acceptor")
	if err != nil {
		return err
	}
	a2d, err := key("acceptor to dialer")
	if err != nil {
		return err
	}
	if c.dialed {
		c.seal, c.open = d2a, a2d
	} else {
		c.seal, c.open = a2d, d2a
	}
	return nil
}

// frameNonce is the nonce of frame number seq of one direction.
func frameNonce(dst *[12]byte, seq uint64) []byte {
	binary.BigEndian.PutUint64(dst[4:], seq)
	return dst[:]
}

// dial connects to p at addr and runs the dialer's side of the
// handshake; on success the connection is installed.
//
//	dialer -> acceptor: hello (with the name it wants)
//	acceptor -> dialer: hello, mac("acceptor")
//	dialer -> acceptor: mac("dialer")
//	acceptor -> dialer: status
func (t *Transport) dial(p *peer, addr string) error {
	d := net.Dialer{Timeout: t.cfg.DialTimeout}
	nc, err := d.DialContext(t.ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	if err := t.track(nc); err != nil {
		return err
	}
	c := &conn{t: t, p: p, nc: nc, br: bufio.NewReaderSize(nc, t.cfg.ReadBuffer), dialed: true}
	err = t.dialHandshake(c)
	if err != nil {
		nc.Close()
		t.untrack(nc)
		return fmt.Errorf("handshake with %s at %s: %w", p.name, addr, err)
	}
	return nil
}

func (t *Transport) dialHandshake(c *conn) error {
	nc, p := c.nc, c.p
	nc.SetDeadline(time.Now().Add(t.cfg.HandshakeTimeout))
	mine := t.newHello()
	mine.want = p.name
	if _, err := nc.Write(mine.append(nil)); err != nil {
		return err
	}
	theirs, err := readHello(c.br)
	if err != nil {
		return err
	}
	var theirMAC [macSize]byte
	if _, err := io.ReadFull(c.br, theirMAC[:]); err != nil {
		return fmt.Errorf("read proof: %w", err)
	}
	// prove ours even if theirs is wrong, so that both sides log it
	if _, err := nc.Write(t.mac("dialer", &mine, &theirs)); err != nil {
		return err
	}
	if !hmac.Equal(theirMAC[:], t.mac("acceptor", &mine, &theirs)) {
		return ErrAuth
	}
	if theirs.name != p.name {
		return fmt.Errorf("%q answered: %w", theirs.name, ErrWrongPeer)
	}
	var status [1]byte
	if _, err := io.ReadFull(c.br, status[:]); err != nil {
		return fmt.Errorf("read status: %w", err)
	}
	switch status[0] {
	case statusOK:
	case statusSuperseded:
		return errSuperseded
	case statusAuth:
		return ErrAuth
	case statusSameName:
		return ErrSameName
	case statusClosing:
		return ErrRefused
	case statusWrongPeer:
		return fmt.Errorf("the peer is not %s: %w", p.name, ErrWrongPeer)
	case statusUnknown:
		return fmt.Errorf("%s does not know %s at %s as a member yet: %w", p.name, mine.name, mine.addr, ErrUnknownPeer)
	default:
		return fmt.Errorf("status %d: %w", status[0], ErrHandshake)
	}
	nc.SetDeadline(time.Time{})
	if err := t.frameKeys(c, &mine, &theirs); err != nil {
		return err
	}
	p.mu.Lock()
	p.dialing = false
	t.installLocked(c)
	return nil
}

// accept runs the acceptor's side of the handshake on an incoming
// connection and installs it when the tie-break keeps it.
func (t *Transport) accept(nc net.Conn) {
	br := bufio.NewReaderSize(nc, t.cfg.ReadBuffer)
	remote := nc.RemoteAddr().String()
	fail := func(err error, claimed string) {
		nc.Close()
		t.untrack(nc)
		switch {
		case t.isClosed():
		case errors.Is(err, ErrAuth) || errors.Is(err, ErrSameName):
			t.log.Error("transport refused a peer", "remote", remote, "peer", claimed, "err", err)
		case errors.Is(err, ErrUnknownPeer):
			// a worker that just joined, before the gossip told us; or a stranger
			t.log.Info("transport refused a peer that is not a member (yet)", "remote", remote, "peer", claimed, "err", err)
		default:
			t.log.Warn("transport handshake failed", "remote", remote, "peer", claimed, "err", err)
		}
	}
	nc.SetDeadline(time.Now().Add(t.cfg.HandshakeTimeout))
	theirs, err := readHello(br)
	if err != nil {
		fail(err, "")
		return
	}
	mine := t.newHello()
	if _, err := nc.Write(append(mine.append(nil), t.mac("acceptor", &theirs, &mine)...)); err != nil {
		fail(err, theirs.name)
		return
	}
	var theirMAC [macSize]byte
	if _, err := io.ReadFull(br, theirMAC[:]); err != nil {
		fail(fmt.Errorf("read proof: %w", err), theirs.name)
		return
	}
	refuse := func(status byte, err error) {
		nc.Write([]byte{status})
		fail(err, theirs.name)
	}
	if !hmac.Equal(theirMAC[:], t.mac("dialer", &theirs, &mine)) {
		refuse(statusAuth, ErrAuth)
		return
	}
	if theirs.name == t.cfg.Name {
		refuse(statusSameName, ErrSameName)
		return
	}
	if theirs.want != t.cfg.Name {
		refuse(statusWrongPeer, fmt.Errorf("dialled for %q: %w", theirs.want, ErrWrongPeer))
		return
	}
	if t.cfg.Member != nil && !t.cfg.Member(theirs.name, theirs.addr) {
		refuse(statusUnknown, fmt.Errorf("%q at %q: %w", theirs.name, theirs.addr, ErrUnknownPeer))
		return
	}
	p := t.getPeer(theirs.name)
	if p == nil {
		refuse(statusClosing, ErrClosed)
		return
	}
	c := &conn{t: t, p: p, nc: nc, br: br}
	if err := t.frameKeys(c, &theirs, &mine); err != nil {
		refuse(statusClosing, err)
		return
	}
	p.mu.Lock()
	// The tie-break: the connection dialled by the smaller name wins. An
	// incoming one from a smaller name always wins (the peer dials again
	// only when it lost its previous connection); one from a larger name
	// loses to our own dial under way or to our established connection.
	if theirs.name > t.cfg.Name && (p.dialing || (p.conn != nil && p.conn.dialed)) {
		p.mu.Unlock()
		refuse(statusSuperseded, errSuperseded)
		return
	}
	if p.addr == "" {
		p.addr = theirs.addr
	}
	// Answer before installing: once installed, the writer may send
	// frames, which must follow the status. Nothing is sent on c before
	// the status since c is not installed, and the decision holds since
	// p.mu is held until installLocked.
	nc.SetDeadline(time.Now().Add(t.cfg.HandshakeTimeout))
	if _, err := nc.Write([]byte{statusOK}); err != nil {
		p.mu.Unlock()
		fail(err, theirs.name)
		return
	}
	nc.SetDeadline(time.Time{})
	t.installLocked(c)
}

// installLocked makes c the peer's connection, replacing any other, and
// starts its reader and writer. The caller holds c.p.mu; installLocked
// releases it.
func (t *Transport) installLocked(c *conn) {
	p := c.p
	c.done = make(chan struct{})
	c.readerDone = make(chan struct{})
	old := p.conn
	p.conn = c
	c.prev = p.last
	p.last = c
	p.connects++
	p.mu.Unlock()
	p.poke()
	if old != nil {
		old.fail(errReplaced)
	}
	select {
	case <-p.gone:
		c.fail(ErrPeerForgotten)
	default:
	}
	t.log.Debug("transport connected", "peer", p.name, "dialed", c.dialed, "remote", c.nc.RemoteAddr().String())
	// the caller is a goroutine of the transport (wg > 0), so Add is safe
	// even while Close waits
	t.wg.Add(2)
	go c.writeLoop()
	go c.readLoop()
}

// writeLoop drains the peer's queue into the connection, flushing when
// the queue is empty. A frame taken from the queue when the connection
// breaks is lost.
func (c *conn) writeLoop() {
	t, p := c.t, c.p
	defer t.wg.Done()
	bw := bufio.NewWriterSize(c.nc, t.cfg.WriteBuffer)
	var hdr [frameHeader]byte
	var nonce [12]byte
	var seq uint64
	var sealed, joined []byte
	var z *compressor
	if t.cfg.Compress {
		z = &compressor{}
	}
	// put writes one frame of head and body (joined when it is sealed or
	// compressed) to bw
	put := func(channel uint32, head, body []byte) error {
		compress := z != nil && len(head)+len(body) >= compressMin && c.peerLZ4.Load()
		if (c.seal != nil || compress) && len(head) > 0 {
			// one plaintext to compress or seal
			joined = append(append(joined[:0], head...), body...)
			body, head = joined, nil
			if cap(joined) > maxReuse {
				joined = nil
			}
		}
		if compress {
			if b, ok := z.compress(channel, body); ok {
				channel, body = chanLZ4, b
			}
		}
		n := len(head) + len(body)
		if c.seal != nil {
			n += c.seal.Overhead()
		}
		binary.BigEndian.PutUint32(hdr[0:], uint32(n))
		binary.BigEndian.PutUint32(hdr[4:], channel)
		if c.seal != nil {
			// the header is authenticated too: its channel and length
			sealed = c.seal.Seal(sealed[:0], frameNonce(&nonce, seq), body, hdr[:])
			seq++
			body = sealed
			if cap(sealed) > maxReuse {
				sealed = nil
			}
		}
		for _, b := range [][]byte{hdr[:], head, body} {
			if _, err := bw.Write(b); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		p.wireSent.Add(uint64(frameHeader + n))
		return nil
	}
	if !t.cfg.noCaps {
		// first: this side reads compressed frames
		if err := put(chanCaps, nil, []byte(capsLZ4)); err != nil {
			c.fail(err)
			return
		}
		if err := bw.Flush(); err != nil {
			c.fail(fmt.Errorf("write: %w", err))
			return
		}
	}
	for {
		var f frame
		select {
		case f = <-p.q:
		case <-c.done:
			return
		case <-t.done:
			return
		case <-p.gone:
			return
		}
		for {
			if err := put(f.channel, f.head, f.payload); err != nil {
				c.fail(err)
				return
			}
			p.framesSent.Add(1)
			p.bytesSent.Add(uint64(len(f.head) + len(f.payload)))
			more := false
			select {
			case f = <-p.q:
				more = true
			default:
			}
			if !more {
				break
			}
		}
		if err := bw.Flush(); err != nil {
			c.fail(fmt.Errorf("write: %w", err))
			return
		}
	}
}

// readLoop reads frames and hands them to the Handler, one at a time.
func (c *conn) readLoop() {
	t, p := c.t, c.p
	defer t.wg.Done()
	defer close(c.readerDone)
	if prev := c.prev; prev != nil {
		c.prev = nil
		select {
		case <-prev.readerDone:
		case <-c.done:
			return
		}
	}
	var hdr [frameHeader]byte
	var buf, dbuf []byte // frames as read, and decompressed
	var nonce [12]byte
	var seq uint64
	overhead := 0
	if c.open != nil {
		overhead = c.open.Overhead()
	}
	for {
		if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
			c.fail(fmt.Errorf("read: %w", err))
			return
		}
		n := binary.BigEndian.Uint32(hdr[0:])
		ch := binary.BigEndian.Uint32(hdr[4:])
		if int64(n) < int64(overhead) {
			err := fmt.Errorf("read: frame of %d bytes, shorter than its seal: %w", n, ErrAuth)
			t.log.Error("transport peer sent a forged frame", "peer", p.name, "err", err)
			c.fail(err)
			return
		}
		if uint64(n) > uint64(t.cfg.MaxFrame)+uint64(overhead) {
			err := fmt.Errorf("read: frame of %d bytes, max %d: %w", n, t.cfg.MaxFrame, ErrFrameTooLarge)
			t.log.Error("transport peer sent a frame too large", "peer", p.name, "err", err)
			c.fail(err)
			return
		}
		var payload []byte
		payload, buf = frameBuf(buf, int(n))
		if _, err := io.ReadFull(c.br, payload); err != nil {
			c.fail(fmt.Errorf("read: %w", err))
			return
		}
		if c.open != nil {
			var err error
			payload, err = c.open.Open(payload[:0], frameNonce(&nonce, seq), payload, hdr[:])
			if err != nil {
				err = fmt.Errorf("read: frame %d does not authenticate: %w", seq, ErrAuth)
				t.log.Error("transport peer sent a forged or altered frame", "peer", p.name, "err", err)
				c.fail(err)
				return
			}
			seq++
		}
		p.wireRecv.Add(uint64(frameHeader) + uint64(n))
		switch ch {
		case chanCaps:
			if string(payload) == capsLZ4 {
				c.peerLZ4.Store(true)
			}
			continue // the transport's own: not a frame of the caller's
		case chanLZ4:
			var err error
			if ch, payload, dbuf, err = decompress(payload, dbuf, t.cfg.MaxFrame); err != nil {
				err = fmt.Errorf("read: %w", err)
				t.log.Error("transport peer sent a corrupt frame", "peer", p.name, "err", err)
				c.fail(err)
				return
			}
		}
		p.framesRecv.Add(1)
		p.bytesRecv.Add(uint64(len(payload)))
		t.cfg.Handler(p.name, ch, payload)
	}
}
