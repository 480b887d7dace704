// Package transport carries frames between Gale workers over TCP: one
// multiplexed connection per pair of workers, carrying both directions,
// with bounded per-peer queues whose backpressure reaches the sender
// through TCP, and reconnection after failures.
//
// [New] starts a [Transport] listening on Config.Addr that hands every
// frame it receives to Config.Handler; [Transport.Send] queues a frame
// (a channel number and a payload, such as an internal/codec batch) for
// a peer named by its worker name and address. [Transport.Peers] reports
// each peer's connection state and traffic for the UI.
//
//	tr, err := transport.New(transport.Config{Name: "w1", Addr: "127.0.0.1:7100",
//		Secret: secret, Handler: func(from string, ch uint32, payload []byte) { ... }})
//	defer tr.Close()
//	err = tr.Send(ctx, "w2", "127.0.0.1:7200", chTuples, frame)
//
// # Frames
//
// A frame is [u32 payload length][u32 channel][payload], big-endian. The
// channel is the caller's to define (for example: tuple batches for a
// task, acks). Frames to one peer are written in the order Send queued
// them, whatever their channel, and the peer's Handler gets them in that
// order, one at a time. A peer that announces a frame longer than
// Config.MaxFrame is disconnected before anything is allocated for it.
//
// Writes are batched: each connection has a writer goroutine that takes
// frames from the peer's queue into a bufio.Writer and flushes when the
// queue is empty, so a busy peer gets few large writes and an idle one
// gets each frame at once.
//
// # Backpressure
//
// Each peer has a queue of Config.QueueFrames frames. Send blocks while
// it is full, until its context is done. The receiving side reads a
// connection only as fast as its Handler returns, so a slow consumer
// fills the socket buffers, then the sender's queue, then blocks the
// sender's Send: memory stays bounded on both sides. All channels of a
// pair share the connection, so a Handler blocked on a frame holds up
// every later frame from that peer, whatever its channel (acks too): a
// Handler should block only where backpressure is wanted, and hand off
// the frames that must not wait (for example to an unbounded or
// lossy queue).
//
// # One connection per pair
//
// Both sides may dial (each dials when it has something to send and no
// connection), and a deterministic tie-break keeps one connection: the
// one dialled by the worker with the smaller name. An acceptor takes an
// incoming connection from a smaller name in any case (that peer dials
// only when it has no connection, so any one we hold is stale and is
// replaced); it refuses one from a larger name while its own dial is
// under way or while it holds a connection it dialled, and the refused
// dialer then uses the connection the other side dialled. So when both
// dial at once, exactly one connection survives, and the frames of a
// pair never travel over two connections at once. When a connection is
// replaced, frames received on the new one are handed to the Handler
// only after those of the old one.
//
// # Handshake
//
// The dialer sends its name, listen address, the name it expects to
// reach and a nonce; the acceptor answers with its name, address and
// nonce and an HMAC-SHA256 of both names and nonces keyed with
// Config.Secret; the dialer answers with its own HMAC; the acceptor ends
// with a status (accepted, superseded by the tie-break, wrong secret,
// wrong peer, same name). Both sides check the other's HMAC, so a peer
// with another secret (or none when one is set) is refused on both sides
// and logged as an error ([ErrAuth]); the secret never crosses the wire.
// The secret authenticates peers, and then every frame: each direction of
// a connection has its own AES-256-GCM key (an HMAC of the secret, both
// names and both nonces), frames are sealed with their number as nonce
// and their header as associated data, so a frame altered, replayed,
// reordered or moved to another connection is refused (ErrAuth) and ends
// the connection. Without a secret frames travel in clear. With
// Config.Member, an incoming connection must claim a current member's name
// and address (ErrUnknownPeer otherwise; the dialer retries).
//
// # Failures
//
// A broken connection is redialled by the side that has sent to the peer,
// with exponential backoff (Config.BackoffMin doubling up to BackoffMax,
// jittered). Send never fails because a peer is down: frames wait in the
// queue (Send blocking when it is full) until the connection is back.
// Frames already taken from the queue when a connection breaks — being
// written, in the bufio.Writer, or in the socket buffers not yet read by
// the peer — are lost: the transport delivers at most once. Gale's acking
// makes up for it: the tuple trees of lost tuples time out and their
// spouts replay them.
//
// [Transport.Forget] drops a peer that left the cluster (its queue, its
// connection and its redialling). [Transport.Close] closes everything and
// waits for the goroutines, including running Handler calls.
package transport
