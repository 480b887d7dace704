package transport

import "errors"

// Errors of the transport.
var (
	// ErrClosed: the Transport was closed.
	ErrClosed = errors.New("transport closed")
	// ErrConfig: the Config is invalid (see Config.Validate).
	ErrConfig = errors.New("invalid transport config")
	// ErrSelf: a Send to the transport's own name.
	ErrSelf = errors.New("send to self")
	// ErrPeerName: a Send to an empty name or one longer than 255 bytes.
	ErrPeerName = errors.New("invalid peer name")
	// ErrPeerForgotten: the peer was forgotten (Forget) while a Send to it
	// waited for room in its queue.
	ErrPeerForgotten = errors.New("peer forgotten")
	// ErrFrameTooLarge: a frame longer than MaxFrame, given to Send or
	// announced by a peer (which closes the connection).
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrAuth: the peer does not know the cluster secret (or knows
	// another one); the connection is refused.
	ErrAuth = errors.New("wrong cluster secret")
	// ErrHandshake: the peer does not speak this protocol (bad magic,
	// version or field).
	ErrHandshake = errors.New("bad handshake")
	// ErrWrongPeer: the worker at the dialled address has another name
	// than the one Send was given.
	ErrWrongPeer = errors.New("peer has another name")
	// ErrUnknownPeer: an incoming connection claimed a name (or address)
	// that is not a current member's (Config.Member).
	ErrUnknownPeer = errors.New("peer is not a member of the cluster")
	// ErrSameName: the peer has this transport's own name.
	ErrSameName = errors.New("peer has the same name")
	// ErrRefused: the peer refused the connection without saying why it
	// could (it is closing).
	ErrRefused = errors.New("connection refused by the peer")
	// ErrCorrupt: a compressed frame that does not decompress to what it
	// announced, or announces more than MaxFrame; the connection ends.
	ErrCorrupt = errors.New("corrupt compressed frame")
	// ErrChannel: a Send on one of the transport's own channels
	// (Reserved).
	ErrChannel = errors.New("reserved channel")
)

// errSuperseded: a dial refused because the connection dialled by the
// peer wins the tie-break (see the package doc); not a failure.
var errSuperseded = errors.New("superseded by the peer's connection")

// errReplaced closes a connection replaced by a newer one.
var errReplaced = errors.New("replaced by a new connection")
