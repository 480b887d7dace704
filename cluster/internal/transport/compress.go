package transport

import (
	"encoding/binary"
	"fmt"

	"github.com/pierrec/lz4/v4"
)

// Compressed frames
//
// With Config.Compress, frames of at least compressMin bytes go out as
// lz4 blocks — for real networks, where a link's bandwidth, not the CPU,
// bounds what crosses (a Kafka -> files pipeline of JSON records moves
// each record between workers about once). Compression happens before
// sealing (sealed bytes do not compress), and only towards a peer that
// said it reads compressed frames:
//
//   - each side of a new connection first sends a frame on channel
//     chanCaps whose payload is capsLZ4: "I read lz4 frames". A worker of
//     an earlier version hands it to its Handler like any frame, on a
//     channel no topology uses (the cluster holds such frames a few
//     seconds, bounded, then drops them), and never sends one: frames to
//     it stay uncompressed, so mixing versions costs nothing;
//   - a compressed frame travels on channel chanLZ4 with payload
//     [u32 channel][u32 length][lz4 block]: the receiver decompresses it
//     and hands the Handler the original channel and payload. A length
//     above MaxFrame, or a block that does not decompress to exactly
//     that length, ends the connection (ErrCorrupt): a peer cannot make
//     this side allocate more than MaxFrame for one frame.
//
// A frame whose block would not be smaller goes out as it is.

// The transport's own channels: Send refuses them (Reserved).
const (
	chanCaps uint32 = 0xFFFFFFFF
	chanLZ4  uint32 = 0xFFFFFFFE
)

// Reserved reports whether channel is the transport's own: a caller
// mapping names to channels must avoid these.
func Reserved(channel uint32) bool { return channel >= chanLZ4 }

// capsLZ4 is the payload of a chanCaps frame of a peer that reads lz4
// frames.
const capsLZ4 = "gale-transport caps: lz4"

// compressMin is the smallest frame worth compressing.
const compressMin = 512

// lz4Head is a compressed frame's [u32 channel][u32 length].
const lz4Head = 8

// compressor compresses one connection's frames (its writer's).
type compressor struct {
	c   lz4.Compressor
	out []byte
}

// compress returns frame (channel, data) as a chanLZ4 payload, or false
// when it does not get smaller. The result is valid until the next call.
func (z *compressor) compress(channel uint32, data []byte) ([]byte, bool) {
	need := lz4Head + lz4.CompressBlockBound(len(data))
	if cap(z.out) < need {
		z.out = make([]byte, need)
	}
	out := z.out[:need]
	n, err := z.c.CompressBlock(data, out[lz4Head:])
	if err != nil || n == 0 || lz4Head+n >= len(data) {
		return nil, false // incompressible (n == 0), or no gain
	}
	binary.BigEndian.PutUint32(out[0:], channel)
	binary.BigEndian.PutUint32(out[4:], uint32(len(data)))
	if cap(z.out) > maxReuse {
		z.out = nil // the result keeps it until the next call
	}
	return out[:lz4Head+n], true
}

// decompress reads a chanLZ4 payload into buf (grown as needed, up to
// maxFrame) and returns the original channel and payload.
func decompress(payload, buf []byte, maxFrame int) (channel uint32, data, newBuf []byte, err error) {
	if len(payload) < lz4Head {
		return 0, nil, buf, fmt.Errorf("compressed frame of %d bytes: %w", len(payload), ErrCorrupt)
	}
	channel = binary.BigEndian.Uint32(payload[0:])
	n := binary.BigEndian.Uint32(payload[4:])
	// (an empty one is never sent, and lz4's decoder faults on an empty
	// destination: found by FuzzDecompress)
	if n == 0 || uint64(n) > uint64(maxFrame) || Reserved(channel) {
		return 0, nil, buf, fmt.Errorf("compressed frame of %d bytes on channel %#x (max %d): %w", n, channel, maxFrame, ErrCorrupt)
	}
	data, buf = frameBuf(buf, int(n))
	got, err := lz4.UncompressBlock(payload[lz4Head:], data)
	if err != nil || got != int(n) {
		return 0, nil, buf, fmt.Errorf("compressed frame: %d of %d bytes (%v): %w", got, n, err, ErrCorrupt)
	}
	return channel, data, buf, nil
}
