package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/gale-stream/gale/internal/tuplestate"
	"github.com/gale-stream/gale/tuple"
)

// Kind is the first byte of a frame: what it holds. A change of the
// format gets new kinds, so a worker can refuse frames it cannot read.
type Kind uint8

// Frame kinds.
const (
	KindTuples Kind = 1 // a batch of tuples ([AppendTuples])
	KindAcks   Kind = 2 // a batch of ack messages ([AppendAcks])
)

// MaxDepth bounds the nesting of containers (lists and maps) in a value,
// on encode and on decode; a top-level string is at depth 0, the values
// of a top-level list at depth 1.
const MaxDepth = 32

// FrameKind returns the kind of frame src holds, or 0 when it is empty or
// of no known kind.
func FrameKind(src []byte) Kind {
	if len(src) == 0 {
		return 0
	}
	switch k := Kind(src[0]); k {
	case KindTuples, KindAcks:
		return k
	}
	return 0
}

// per-tuple flag bits
const (
	flagID      = 1 << iota // ID follows
	flagBatch               // BatchID follows
	flagAnchors             // Anchors is not nil: a count and the anchors follow
	flagValues              // Values is not nil: a count and the values follow
	flagAll     = flagID | flagBatch | flagAnchors | flagValues
)

// MaxTuples bounds the tuples of one frame, on encode and on decode. A
// decoded tuple takes ~200 bytes of memory and the smallest encoded one
// 4, so without it an 8 MiB frame of minimal tuples decoded to 335 MB;
// with it, a frame's tuples take at most ~13 MB whatever their encoding.
// Senders cut larger batches (topology.transfer.batch.size is at most
// topology.MaxBatchSize, below this).
const MaxTuples = 1 << 16

// MaxMessage is the largest message a worker sends another (the
// transport's frame limit): a batch that encodes to more is sent in parts.
const MaxMessage = 8 << 20

// minTupleBytes is the least a tuple takes: flags, stream and component
// references and task.
const minTupleBytes = 4

// AppendTuples appends to dst a frame holding ts and returns the extended
// buffer. On error (a nil tuple, a value the codec cannot carry, values
// nested deeper than MaxDepth) it returns dst unchanged and the error.
func AppendTuples(dst []byte, ts []*tuple.Tuple) ([]byte, error) {
	start := len(dst)
	if len(ts) > MaxTuples {
		return dst, fmt.Errorf("codec: encode %d tuples: %w: at most %d a frame", len(ts), ErrLength, MaxTuples)
	}
	var arr [8]string // the table of a frame with few strings, on the stack
	e := encoder{tab: arr[:0]}
	dst = append(dst, byte(KindTuples))
	dst = binary.AppendUvarint(dst, uint64(len(ts)))
	for i, t := range ts {
		if t == nil {
			return dst[:start], fmt.Errorf("codec: encode tuple %d: %w", i, ErrNilTuple)
		}
		var flags byte
		if t.ID != "" {
			flags |= flagID
		}
		if t.BatchID != "" {
			flags |= flagBatch
		}
		anchors := tuplestate.Of(t).Anchors
		if anchors != nil {
			flags |= flagAnchors
		}
		if t.Values != nil {
			flags |= flagValues
		}
		dst = append(dst, flags)
		dst = e.appendRef(dst, t.Stream)
		dst = e.appendRef(dst, t.Component)
		dst = binary.AppendVarint(dst, int64(t.Task))
		if flags&flagID != 0 {
			dst = appendString(dst, t.ID)
		}
		if flags&flagBatch != 0 {
			dst = e.appendRef(dst, t.BatchID)
		}
		if flags&flagAnchors != 0 {
			dst = binary.AppendUvarint(dst, uint64(len(anchors)))
			for _, a := range anchors {
				dst = binary.LittleEndian.AppendUint64(dst, a.Root)
				dst = binary.LittleEndian.AppendUint64(dst, a.Edge)
			}
		}
		if flags&flagValues != 0 {
			dst = binary.AppendUvarint(dst, uint64(len(t.Values)))
			for j, v := range t.Values {
				var err error
				if dst, err = e.appendValue(dst, v, 0); err != nil {
					var ute *UnsupportedTypeError
					if errors.As(err, &ute) {
						ute.Where = "tuple " + strconv.Itoa(i) + " value " + strconv.Itoa(j) + ute.Where
						return dst[:start], ute
					}
					return dst[:start], fmt.Errorf("codec: encode tuple %d value %d: %w", i, j, err)
				}
			}
		}
	}
	return dst, nil
}

// DecodeTuples decodes a frame written by [AppendTuples]. alloc, when not
// nil, provides each tuple (it must return a fresh or reset, non-nil one: the
// decoder sets every field it carries and leaves the others as alloc
// returned them); when nil the tuples are allocated in slabs. Fields and
// the engine state fields are left zero. See the package doc for errors.
func DecodeTuples(src []byte, alloc func() *tuple.Tuple) ([]*tuple.Tuple, error) {
	var arr [8]string
	d := decoder{src: src, tuple: -1, value: -1, tab: arr[:0]}
	if len(src) == 0 {
		return nil, d.fail(ErrTruncated)
	}
	if Kind(src[0]) != KindTuples {
		return nil, d.fail(ErrFrameKind)
	}
	d.off = 1
	n, err := d.count(minTupleBytes)
	if err != nil {
		return nil, err
	}
	if n > MaxTuples {
		d.off = 1
		return nil, d.fail(fmt.Errorf("%w: %d tuples, at most %d", ErrLength, n, MaxTuples))
	}
	out := make([]*tuple.Tuple, 0, n)
	var slab []tuple.Tuple
	for i := 0; i < n; i++ {
		d.tuple = i
		var t *tuple.Tuple
		if alloc != nil {
			t = alloc()
		} else {
			if len(slab) == 0 {
				// grow by doubling chunks so that a frame that fails
				// early has not allocated for all it announced
				slab = make([]tuple.Tuple, min(n-i, max(64, i)))
			}
			t = &slab[0]
			slab = slab[1:]
		}
		if err := d.tupleInto(t, n-i); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if d.off != len(src) {
		d.tuple = -1
		return nil, d.fail(ErrTrailing)
	}
	return out, nil
}

func (d *decoder) tupleInto(t *tuple.Tuple, left int) error {
	if d.off >= len(d.src) {
		return d.fail(ErrTruncated)
	}
	flags := d.src[d.off]
	if flags&^flagAll != 0 {
		return d.fail(ErrBadTag)
	}
	d.off++
	var err error
	if t.Stream, err = d.ref(); err != nil {
		return err
	}
	if t.Component, err = d.ref(); err != nil {
		return err
	}
	task, err := d.varint()
	if err != nil {
		return err
	}
	if task < math.MinInt || task > math.MaxInt {
		return d.fail(ErrRange)
	}
	t.Task = int(task)
	if flags&flagID != 0 {
		if t.ID, err = d.string(); err != nil {
			return err
		}
	}
	if flags&flagBatch != 0 {
		if t.BatchID, err = d.ref(); err != nil {
			return err
		}
	}
	if flags&flagAnchors != 0 {
		n, err := d.count(16)
		if err != nil {
			return err
		}
		if n == 0 {
			tuplestate.Of(t).Anchors = []tuplestate.Anchor{}
		} else if len(d.anchors) < n {
			// one array for this tuple's anchors and, if the batch is
			// uniform, those of the tuples left
			d.anchors = make([]tuplestate.Anchor, min(n*left, (len(d.src)-d.off)/16))
		}
		if n > 0 {
			as := d.anchors[:n:n]
			d.anchors = d.anchors[n:]
			for k := range as {
				as[k].Root = binary.LittleEndian.Uint64(d.src[d.off:])
				as[k].Edge = binary.LittleEndian.Uint64(d.src[d.off+8:])
				d.off += 16
			}
			tuplestate.Of(t).Anchors = as
		}
	}
	if flags&flagValues != 0 {
		n, err := d.count(1)
		if err != nil {
			return err
		}
		if n == 0 {
			t.Values = tuple.Values{}
			return nil
		}
		if len(d.values) < n {
			// as for anchors
			d.values = make([]any, min(n*left, len(d.src)-d.off))
		}
		vs := d.values[:n:n]
		d.values = d.values[n:]
		for k := range vs {
			d.value = k
			if vs[k], err = d.decodeValue(0); err != nil {
				return err
			}
		}
		d.value = -1
		t.Values = vs
	}
	return nil
}

// encoder is the state of one AppendTuples: the frame's string table.
type encoder struct {
	tab []string
	idx map[string]int // used once tab has 8 strings
}

// appendRef appends an interned string: its index in the frame's table,
// or, the first time, the index it gets (the table's length) and the
// string.
func (e *encoder) appendRef(dst []byte, s string) []byte {
	if e.idx == nil {
		for i, x := range e.tab {
			if x == s {
				return binary.AppendUvarint(dst, uint64(i))
			}
		}
		if len(e.tab) == 8 {
			e.idx = make(map[string]int, 2*len(e.tab))
			for i, x := range e.tab {
				e.idx[x] = i
			}
		}
	} else if i, ok := e.idx[s]; ok {
		return binary.AppendUvarint(dst, uint64(i))
	}
	if e.idx != nil {
		e.idx[s] = len(e.tab)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.tab)))
	e.tab = append(e.tab, s)
	return appendString(dst, s)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder is the state of one decode: the input, the offset, the frame's
// string table, slabs, and where it is (for errors).
type decoder struct {
	src     []byte
	off     int
	tab     []string
	values  []any
	anchors []tuplestate.Anchor
	// where: tuple and value index (-1: none), and the path inside the value
	tuple, value int
	ack          bool
}

// fail returns a *DecodeError for err at the current offset.
func (d *decoder) fail(err error) error {
	where := ""
	switch {
	case d.ack && d.tuple >= 0:
		where = "ack " + strconv.Itoa(d.tuple)
	case d.tuple >= 0 && d.value >= 0:
		where = "tuple " + strconv.Itoa(d.tuple) + " value " + strconv.Itoa(d.value)
	case d.tuple >= 0:
		where = "tuple " + strconv.Itoa(d.tuple)
	}
	return &DecodeError{Offset: d.off, Where: where, Err: err}
}

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.src[d.off:])
	if n <= 0 {
		if n == 0 {
			return 0, d.fail(ErrTruncated)
		}
		return 0, d.fail(ErrRange)
	}
	d.off += n
	return v, nil
}

func (d *decoder) varint() (int64, error) {
	v, n := binary.Varint(d.src[d.off:])
	if n <= 0 {
		if n == 0 {
			return 0, d.fail(ErrTruncated)
		}
		return 0, d.fail(ErrRange)
	}
	d.off += n
	return v, nil
}

// count reads a count of items that take at least size bytes each and
// checks that the remaining input could hold them.
func (d *decoder) count(size int) (int, error) {
	at := d.off
	v, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(len(d.src)-d.off)/uint64(size) {
		d.off = at
		return 0, d.fail(ErrLength)
	}
	return int(v), nil
}

// nilCount reads the count of a slice or map written as n+1, 0 meaning
// nil; it returns -1 for nil.
func (d *decoder) nilCount(size int) (int, error) {
	at := d.off
	v, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return -1, nil
	}
	if v-1 > uint64(len(d.src)-d.off)/uint64(size) {
		d.off = at
		return 0, d.fail(ErrLength)
	}
	return int(v - 1), nil
}

func (d *decoder) bytes() ([]byte, error) {
	n, err := d.count(1)
	if err != nil {
		return nil, err
	}
	b := d.src[d.off : d.off+n]
	d.off += n
	return b, nil
}

func (d *decoder) string() (string, error) {
	b, err := d.bytes()
	return string(b), err
}

// ref reads an interned string (see encoder.appendRef).
func (d *decoder) ref() (string, error) {
	at := d.off
	i, err := d.uvarint()
	if err != nil {
		return "", err
	}
	switch {
	case i < uint64(len(d.tab)):
		return d.tab[i], nil
	case i == uint64(len(d.tab)):
		s, err := d.string()
		if err != nil {
			return "", err
		}
		d.tab = append(d.tab, s)
		return s, nil
	}
	d.off = at
	return "", d.fail(ErrBadRef)
}
