package schemareg

import (
	"encoding/binary"
	"fmt"
)

// MaxMessageIndexes bounds the Protobuf message index array of a record
// (how deep a nested message type may be); a longer one is not read.
const MaxMessageIndexes = 64

// ParseHeader splits a value in the Confluent wire format: byte 0 is the
// magic byte 0, bytes 1-4 the schema id (big-endian), the rest the
// payload. The error wraps ErrWireFormat.
func ParseHeader(b []byte) (id int, payload []byte, err error) {
	switch {
	case len(b) == 0:
		return 0, nil, fmt.Errorf("%w: empty value", ErrWireFormat)
	case b[0] != 0:
		return 0, nil, fmt.Errorf("%w: no magic byte (the first byte is 0x%02x, not 0x00)", ErrWireFormat, b[0])
	case len(b) < 5:
		return 0, nil, fmt.Errorf("%w: %d bytes, shorter than the 5-byte header", ErrWireFormat, len(b))
	}
	return int(binary.BigEndian.Uint32(b[1:5])), b[5:], nil
}

// ParseMessageIndexes reads the Protobuf message index array that follows
// the header: a zigzag varint count, then that many zigzag varint indexes
// (the path of the message type in the .proto file: [0] is its first
// message, [1, 0] the first nested message of its second one). A single 0
// byte is the shortcut for [0]. The error wraps ErrWireFormat.
func ParseMessageIndexes(b []byte) (indexes []int, payload []byte, err error) {
	n, k := binary.Varint(b)
	if k <= 0 {
		return nil, nil, fmt.Errorf("%w: no Protobuf message index array", ErrWireFormat)
	}
	b = b[k:]
	if n == 0 {
		return []int{0}, b, nil
	}
	if n < 0 || n > MaxMessageIndexes {
		return nil, nil, fmt.Errorf("%w: a Protobuf message index array of %d entries", ErrWireFormat, n)
	}
	indexes = make([]int, n)
	for i := range indexes {
		v, k := binary.Varint(b)
		if k <= 0 {
			return nil, nil, fmt.Errorf("%w: the Protobuf message index array is truncated", ErrWireFormat)
		}
		if v < 0 || v > 1<<20 {
			return nil, nil, fmt.Errorf("%w: Protobuf message index %d", ErrWireFormat, v)
		}
		indexes[i] = int(v)
		b = b[k:]
	}
	return indexes, b, nil
}
