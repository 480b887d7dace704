package codec

import (
	"encoding/binary"
	"math"
)

// Ack is one ack message, from a spout or bolt task to an acker task:
// Kind says what it is (the engine's ack kinds: init, ack, fail, reset),
// Task is the spout task for an init, Root the tuple tree and Val the xor
// of edges.
type Ack struct {
	Kind uint8
	Task int
	Root uint64
	Val  uint64
}

// minAckBytes is what an ack takes at least: kind, task, root and val.
const minAckBytes = 1 + 1 + 8 + 8

// AppendAcks appends to dst a frame holding acks and returns the extended
// buffer.
func AppendAcks(dst []byte, acks []Ack) []byte {
	dst = append(dst, byte(KindAcks))
	dst = binary.AppendUvarint(dst, uint64(len(acks)))
	for _, a := range acks {
		dst = append(dst, a.Kind)
		dst = binary.AppendVarint(dst, int64(a.Task))
		dst = binary.LittleEndian.AppendUint64(dst, a.Root)
		dst = binary.LittleEndian.AppendUint64(dst, a.Val)
	}
	return dst
}

// DecodeAcks decodes a frame written by [AppendAcks], appending the acks
// to dst (which may be nil) and returning the extended slice. On error it
// returns dst unchanged and a [*DecodeError].
func DecodeAcks(src []byte, dst []Ack) ([]Ack, error) {
	d := decoder{src: src, tuple: -1, value: -1, ack: true}
	if len(src) == 0 {
		return dst, d.fail(ErrTruncated)
	}
	if Kind(src[0]) != KindAcks {
		return dst, d.fail(ErrFrameKind)
	}
	d.off = 1
	n, err := d.count(minAckBytes)
	if err != nil {
		return dst, err
	}
	orig, start := dst, len(dst)
	dst = append(dst, make([]Ack, n)...)
	out := dst[start:]
	for i := range out {
		d.tuple = i
		a := &out[i]
		if d.off >= len(src) {
			return orig, d.fail(ErrTruncated)
		}
		a.Kind = src[d.off]
		d.off++
		task, err := d.varint()
		if err != nil {
			return orig, err
		}
		if task < math.MinInt || task > math.MaxInt {
			return orig, d.fail(ErrRange)
		}
		a.Task = int(task)
		if len(src)-d.off < 16 {
			return orig, d.fail(ErrTruncated)
		}
		a.Root = binary.LittleEndian.Uint64(src[d.off:])
		a.Val = binary.LittleEndian.Uint64(src[d.off+8:])
		d.off += 16
	}
	if d.off != len(src) {
		d.tuple = -1
		return orig, d.fail(ErrTrailing)
	}
	return dst, nil
}
