package avro

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
)

// AppendBinary appends the Avro binary encoding of v, a value of s in the
// canonical form Coerce returns. A map's entries are written in key order
// and an array in one block, so that a value has one encoding.
func AppendBinary(b []byte, s *Schema, v any) ([]byte, error) {
	switch s.Kind {
	case Null:
		if v == nil {
			return b, nil
		}
	case Boolean:
		if x, ok := v.(bool); ok {
			if x {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		}
	case Int:
		if x, ok := v.(int32); ok {
			return binary.AppendVarint(b, int64(x)), nil
		}
	case Long:
		if x, ok := v.(int64); ok {
			return binary.AppendVarint(b, x), nil
		}
	case Float:
		if x, ok := v.(float32); ok {
			return binary.LittleEndian.AppendUint32(b, math.Float32bits(x)), nil
		}
	case Double:
		if x, ok := v.(float64); ok {
			return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)), nil
		}
	case String:
		if x, ok := v.(string); ok {
			b = binary.AppendVarint(b, int64(len(x)))
			return append(b, x...), nil
		}
	case Bytes:
		if n, ok := v.(*big.Int); ok && s.Logical == Decimal {
			v = toTwos(n, 0)
		}
		if x, ok := v.([]byte); ok {
			b = binary.AppendVarint(b, int64(len(x)))
			return append(b, x...), nil
		}
	case Fixed:
		if n, ok := v.(*big.Int); ok && s.Logical == Decimal {
			v = toTwos(n, s.Size)
		}
		if x, ok := v.([]byte); ok && len(x) == s.Size {
			return append(b, x...), nil
		}
	case Enum:
		if x, ok := v.(int); ok && x >= 0 && x < len(s.Symbols) {
			return binary.AppendVarint(b, int64(x)), nil
		}
	case Record:
		if xs, ok := v.([]any); ok && len(xs) == len(s.Fields) {
			var err error
			for i, f := range s.Fields {
				if b, err = AppendBinary(b, f.Type, xs[i]); err != nil {
					return nil, err
				}
			}
			return b, nil
		}
	case Array:
		if xs, ok := v.([]any); ok {
			var err error
			if len(xs) > 0 {
				b = binary.AppendVarint(b, int64(len(xs)))
				for _, x := range xs {
					if b, err = AppendBinary(b, s.Items, x); err != nil {
						return nil, err
					}
				}
			}
			return append(b, 0), nil
		}
	case Map:
		if m, ok := v.(map[string]any); ok {
			if len(m) > 0 {
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				b = binary.AppendVarint(b, int64(len(keys)))
				var err error
				for _, k := range keys {
					b = binary.AppendVarint(b, int64(len(k)))
					b = append(b, k...)
					if b, err = AppendBinary(b, s.Values, m[k]); err != nil {
						return nil, err
					}
				}
			}
			return append(b, 0), nil
		}
	case Union:
		if u, ok := v.(UnionValue); ok && u.Index >= 0 && u.Index < len(s.Branches) {
			b = binary.AppendVarint(b, int64(u.Index))
			return AppendBinary(b, s.Branches[u.Index], u.Value)
		}
	}
	return nil, fmt.Errorf("avro: %T is not a canonical %s value", v, s.Kind)
}

// TwosComplement returns n as a big-endian two's complement: the
// shortest, or sign-extended to size bytes when size > 0 (the encoding of
// a decimal's unscaled value in Avro and Parquet).
func TwosComplement(n *big.Int, size int) []byte { return toTwos(n, size) }

// toTwos returns n as a big-endian two's complement: the shortest, or
// sign-extended to size bytes when size > 0.
func toTwos(n *big.Int, size int) []byte {
	var b []byte
	if n.Sign() >= 0 {
		b = n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
	} else {
		// -n - 1, inverted
		m := new(big.Int).Neg(n)
		m.Sub(m, big.NewInt(1))
		b = m.Bytes()
		for i := range b {
			b[i] = ^b[i]
		}
		if len(b) == 0 || b[0]&0x80 == 0 {
			b = append([]byte{0xff}, b...)
		}
	}
	if size > len(b) {
		pad := byte(0)
		if n.Sign() < 0 {
			pad = 0xff
		}
		b = append(slices.Repeat([]byte{pad}, size-len(b)), b...)
	}
	return b
}

// FromTwosComplement reads a big-endian two's complement.
func FromTwosComplement(b []byte) *big.Int { return fromTwos(b) }

// fromTwos reads a big-endian two's complement.
func fromTwos(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}
