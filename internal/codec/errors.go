package codec

import (
	"errors"
	"fmt"
)

// Errors of the decoders (wrapped in a [*DecodeError]) and of the encoder.
var (
	// ErrTruncated: the input ends in the middle of an item.
	ErrTruncated = errors.New("truncated input")
	// ErrLength: a count or length is larger than the remaining input
	// could hold.
	ErrLength = errors.New("length exceeds the remaining input")
	// ErrBadTag: a value tag, a flag byte or a time zone kind is unknown.
	ErrBadTag = errors.New("unknown tag")
	// ErrBadRef: an interned string index beyond the frame's table.
	ErrBadRef = errors.New("string reference out of the table")
	// ErrRange: a number does not fit its type (a varint longer than 64
	// bits, an int8 beyond 127, nanoseconds beyond a second, ...).
	ErrRange = errors.New("number out of range")
	// ErrTooDeep: containers nested deeper than MaxDepth.
	ErrTooDeep = errors.New("values nested too deep")
	// ErrFrameKind: the frame does not start with the expected kind byte.
	ErrFrameKind = errors.New("wrong frame kind")
	// ErrTrailing: bytes left after the last item of the frame.
	ErrTrailing = errors.New("trailing bytes after the frame")

	// ErrUnsupportedType: a value of a type the codec does not carry
	// (see [UnsupportedTypeError]).
	ErrUnsupportedType = errors.New("unsupported value type")
	// ErrNilTuple: a nil *tuple.Tuple given to AppendTuples.
	ErrNilTuple = errors.New("nil tuple")
)

// DecodeError is the error of [DecodeTuples] and [DecodeAcks]: what is
// wrong (Err, one of the sentinels above), where in the frame (Where, for
// example "tuple 3 value 1") and at which byte offset of the input.
type DecodeError struct {
	Offset int
	Where  string
	Err    error
}

func (e *DecodeError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("codec: decode at offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("codec: decode %s at offset %d: %v", e.Where, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// UnsupportedTypeError is the error of [AppendTuples] for a value the
// codec cannot carry. It matches [ErrUnsupportedType] with errors.Is.
type UnsupportedTypeError struct {
	// Type is the value's Go type, as fmt's %T prints it.
	Type string
	// Where locates the value: "tuple 2 value 0", then map keys and list
	// indexes, e.g. `tuple 2 value 0["k"][3]`.
	Where string
}

func (e *UnsupportedTypeError) Error() string {
	return fmt.Sprintf("codec: encode %s: %s: %v", e.Where, e.Type, ErrUnsupportedType)
}

func (e *UnsupportedTypeError) Unwrap() error { return ErrUnsupportedType }
