package codec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gale-stream/gale/tuple"
)

// Value tags. Lists and maps are written as a tag, their length plus one
// (0: a nil slice or map) and their items.
const (
	tagNil byte = iota
	tagString
	tagBytes
	tagFalse
	tagTrue
	tagInt
	tagInt8
	tagInt16
	tagInt32
	tagInt64
	tagUint
	tagUint8
	tagUint16
	tagUint32
	tagUint64
	tagFloat32
	tagFloat64
	tagNumber // json.Number
	tagTime
	tagMap    // map[string]any
	tagList   // []any
	tagStrMap // map[string]string
	tagValues // tuple.Values
	tagMeta   // *tuple.BatchMeta
	tagMetaNil
	numTags
)

// time zone kinds
const (
	zoneUTC byte = iota
	zoneLocal
	zoneFixed // name and offset follow
)

// maxZoneOffset bounds a fixed zone's offset (real ones are within ±15 h).
const maxZoneOffset = 7 * 24 * 3600

func (e *encoder) appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, tagNil), nil
	case string:
		return appendString(append(dst, tagString), x), nil
	case []byte:
		dst = append(dst, tagBytes)
		if x == nil {
			return append(dst, 0), nil
		}
		dst = binary.AppendUvarint(dst, uint64(len(x))+1)
		return append(dst, x...), nil
	case bool:
		if x {
			return append(dst, tagTrue), nil
		}
		return append(dst, tagFalse), nil
	case int:
		return binary.AppendVarint(append(dst, tagInt), int64(x)), nil
	case int8:
		return binary.AppendVarint(append(dst, tagInt8), int64(x)), nil
	case int16:
		return binary.AppendVarint(append(dst, tagInt16), int64(x)), nil
	case int32:
		return binary.AppendVarint(append(dst, tagInt32), int64(x)), nil
	case int64:
		return binary.AppendVarint(append(dst, tagInt64), x), nil
	case uint:
		return binary.AppendUvarint(append(dst, tagUint), uint64(x)), nil
	case uint8:
		return binary.AppendUvarint(append(dst, tagUint8), uint64(x)), nil
	case uint16:
		return binary.AppendUvarint(append(dst, tagUint16), uint64(x)), nil
	case uint32:
		return binary.AppendUvarint(append(dst, tagUint32), uint64(x)), nil
	case uint64:
		return binary.AppendUvarint(append(dst, tagUint64), x), nil
	case float32:
		return binary.LittleEndian.AppendUint32(append(dst, tagFloat32), math.Float32bits(x)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, tagFloat64), math.Float64bits(x)), nil
	case json.Number:
		return appendString(append(dst, tagNumber), string(x)), nil
	case time.Time:
		return appendTime(append(dst, tagTime), x), nil
	case *tuple.BatchMeta:
		if x == nil {
			return append(dst, tagMetaNil), nil
		}
		dst = append(dst, tagMeta)
		dst = e.appendRef(dst, x.ID)
		dst = e.appendRef(dst, x.Origin)
		dst = e.appendRef(dst, x.Source)
		dst = binary.AppendVarint(dst, int64(x.Partition))
		dst = binary.AppendUvarint(dst, x.Seq)
		dst = binary.AppendVarint(dst, x.Start)
		dst = binary.AppendVarint(dst, x.End)
		dst = binary.AppendVarint(dst, int64(x.Records))
		return binary.AppendUvarint(dst, x.Committed), nil
	case map[string]string:
		dst = append(dst, tagStrMap)
		if x == nil {
			return append(dst, 0), nil
		}
		dst = binary.AppendUvarint(dst, uint64(len(x))+1)
		for k, s := range x {
			dst = appendString(dst, k)
			dst = appendString(dst, s)
		}
		return dst, nil
	}
	// containers of values
	if depth >= MaxDepth {
		switch v.(type) {
		case []any, tuple.Values, map[string]any:
			return dst, ErrTooDeep
		}
	}
	var err error
	switch x := v.(type) {
	case []any:
		return e.appendList(append(dst, tagList), x, depth)
	case tuple.Values:
		return e.appendList(append(dst, tagValues), x, depth)
	case map[string]any:
		dst = append(dst, tagMap)
		if x == nil {
			return append(dst, 0), nil
		}
		dst = binary.AppendUvarint(dst, uint64(len(x))+1)
		for k, v := range x {
			dst = appendString(dst, k)
			if dst, err = e.appendValue(dst, v, depth+1); err != nil {
				return dst, inside(err, "["+strconv.Quote(k)+"]")
			}
		}
		return dst, nil
	}
	return dst, &UnsupportedTypeError{Type: fmt.Sprintf("%T", v)}
}

func (e *encoder) appendList(dst []byte, x []any, depth int) ([]byte, error) {
	if x == nil {
		return append(dst, 0), nil
	}
	dst = binary.AppendUvarint(dst, uint64(len(x))+1)
	var err error
	for i, v := range x {
		if dst, err = e.appendValue(dst, v, depth+1); err != nil {
			return dst, inside(err, "["+strconv.Itoa(i)+"]")
		}
	}
	return dst, nil
}

// inside prefixes the location of an unsupported value with the
// container key or index it was found under.
func inside(err error, at string) error {
	var ute *UnsupportedTypeError
	if errors.As(err, &ute) {
		ute.Where = at + ute.Where
	}
	return err
}

// appendTime writes the Unix seconds, the nanoseconds and the zone.
func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	dst = binary.AppendUvarint(dst, uint64(t.Nanosecond()))
	switch loc := t.Location(); loc {
	case time.UTC:
		return append(dst, zoneUTC)
	case time.Local:
		return append(dst, zoneLocal)
	}
	name, off := t.Zone()
	dst = append(dst, zoneFixed)
	dst = appendString(dst, name)
	return binary.AppendVarint(dst, int64(off))
}

func (d *decoder) decodeValue(depth int) (any, error) {
	if d.off >= len(d.src) {
		return nil, d.fail(ErrTruncated)
	}
	tag := d.src[d.off]
	d.off++
	switch tag {
	case tagNil:
		return nil, nil
	case tagString:
		return d.string()
	case tagBytes:
		n, err := d.nilCount(1)
		if err != nil || n < 0 {
			return []byte(nil), err
		}
		b := make([]byte, n)
		copy(b, d.src[d.off:])
		d.off += n
		return b, nil
	case tagFalse:
		return false, nil
	case tagTrue:
		return true, nil
	case tagInt:
		v, err := d.signed(math.MinInt, math.MaxInt)
		return int(v), err
	case tagInt8:
		v, err := d.signed(math.MinInt8, math.MaxInt8)
		return int8(v), err
	case tagInt16:
		v, err := d.signed(math.MinInt16, math.MaxInt16)
		return int16(v), err
	case tagInt32:
		v, err := d.signed(math.MinInt32, math.MaxInt32)
		return int32(v), err
	case tagInt64:
		return d.varint()
	case tagUint:
		v, err := d.unsigned(math.MaxUint)
		return uint(v), err
	case tagUint8:
		v, err := d.unsigned(math.MaxUint8)
		return uint8(v), err
	case tagUint16:
		v, err := d.unsigned(math.MaxUint16)
		return uint16(v), err
	case tagUint32:
		v, err := d.unsigned(math.MaxUint32)
		return uint32(v), err
	case tagUint64:
		return d.uvarint()
	case tagFloat32:
		if len(d.src)-d.off < 4 {
			return nil, d.fail(ErrTruncated)
		}
		v := math.Float32frombits(binary.LittleEndian.Uint32(d.src[d.off:]))
		d.off += 4
		return v, nil
	case tagFloat64:
		if len(d.src)-d.off < 8 {
			return nil, d.fail(ErrTruncated)
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(d.src[d.off:]))
		d.off += 8
		return v, nil
	case tagNumber:
		s, err := d.string()
		return json.Number(s), err
	case tagTime:
		return d.time()
	case tagMeta:
		return d.meta()
	case tagMetaNil:
		return (*tuple.BatchMeta)(nil), nil
	case tagStrMap:
		n, err := d.nilCount(2)
		if err != nil || n < 0 {
			return map[string]string(nil), err
		}
		m := make(map[string]string, min(n, 64))
		for range n {
			k, err := d.string()
			if err != nil {
				return nil, err
			}
			if m[k], err = d.string(); err != nil {
				return nil, err
			}
		}
		return m, nil
	case tagList, tagValues, tagMap:
		if depth >= MaxDepth {
			d.off--
			return nil, d.fail(ErrTooDeep)
		}
	default:
		d.off--
		return nil, d.fail(ErrBadTag)
	}
	// containers of values
	if tag == tagMap {
		n, err := d.nilCount(2)
		if err != nil || n < 0 {
			return map[string]any(nil), err
		}
		m := make(map[string]any, min(n, 64))
		for range n {
			k, err := d.string()
			if err != nil {
				return nil, err
			}
			if m[k], err = d.decodeValue(depth + 1); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	n, err := d.nilCount(1)
	if err != nil {
		return nil, err
	}
	var l []any
	if n >= 0 {
		l = make([]any, n)
		for i := range l {
			if l[i], err = d.decodeValue(depth + 1); err != nil {
				return nil, err
			}
		}
	}
	if tag == tagValues {
		return tuple.Values(l), nil
	}
	return l, nil
}

func (d *decoder) signed(lo, hi int64) (int64, error) {
	at := d.off
	v, err := d.varint()
	if err == nil && (v < lo || v > hi) {
		d.off = at
		return 0, d.fail(ErrRange)
	}
	return v, err
}

func (d *decoder) unsigned(hi uint64) (uint64, error) {
	at := d.off
	v, err := d.uvarint()
	if err == nil && v > hi {
		d.off = at
		return 0, d.fail(ErrRange)
	}
	return v, err
}

func (d *decoder) time() (any, error) {
	sec, err := d.varint()
	if err != nil {
		return nil, err
	}
	nsec, err := d.unsigned(999_999_999)
	if err != nil {
		return nil, err
	}
	if d.off >= len(d.src) {
		return nil, d.fail(ErrTruncated)
	}
	zone := d.src[d.off]
	d.off++
	t := time.Unix(sec, int64(nsec))
	switch zone {
	case zoneUTC:
		return t.UTC(), nil
	case zoneLocal:
		return t, nil
	case zoneFixed:
		name, err := d.string()
		if err != nil {
			return nil, err
		}
		off, err := d.signed(-maxZoneOffset, maxZoneOffset)
		if err != nil {
			return nil, err
		}
		return t.In(time.FixedZone(name, int(off))), nil
	}
	d.off--
	return nil, d.fail(ErrBadTag)
}

func (d *decoder) meta() (any, error) {
	m := new(tuple.BatchMeta)
	var err error
	if m.ID, err = d.ref(); err != nil {
		return nil, err
	}
	if m.Origin, err = d.ref(); err != nil {
		return nil, err
	}
	if m.Source, err = d.ref(); err != nil {
		return nil, err
	}
	p, err := d.signed(math.MinInt32, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	m.Partition = int32(p)
	if m.Seq, err = d.uvarint(); err != nil {
		return nil, err
	}
	if m.Start, err = d.varint(); err != nil {
		return nil, err
	}
	if m.End, err = d.varint(); err != nil {
		return nil, err
	}
	r, err := d.signed(math.MinInt, math.MaxInt)
	if err != nil {
		return nil, err
	}
	m.Records = int(r)
	if m.Committed, err = d.uvarint(); err != nil {
		return nil, err
	}
	return m, nil
}
