package codec

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/gale-stream/gale/tuple"
)

// FuzzDecodeTuples: any input decodes without panicking to tuples or to a
// *DecodeError; what decodes encodes again to a frame that decodes to the
// same tuples.
func FuzzDecodeTuples(f *testing.F) {
	f.Add(richFrame(f))
	for _, n := range []int{0, 1, 64} {
		buf, _ := AppendTuples(nil, wordBatch(n))
		f.Add(buf)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		buf, err := AppendTuples(nil, randomBatch(r))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buf)
	}
	f.Add(oneValue(append([]byte{tagMap}, 0xff, 0xff, 0xff, 0x7f)...))
	f.Fuzz(func(t *testing.T, src []byte) {
		ts, err := DecodeTuples(src, nil)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(src) || de.Err == nil {
				t.Fatalf("error %#v is not a *DecodeError within the input", err)
			}
			return
		}
		buf, err := AppendTuples(nil, ts)
		if err != nil {
			t.Fatalf("decoded tuples do not encode: %v", err)
		}
		again, err := DecodeTuples(buf, nil)
		if err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
		if len(again) != len(ts) {
			t.Fatalf("%d tuples, then %d", len(ts), len(again))
		}
		for i := range ts {
			if !sameTuple(ts[i], again[i]) {
				t.Fatalf("tuple %d: %#v, then %#v", i, ts[i], again[i])
			}
		}
	})
}

// FuzzDecodeAcks: any input decodes without panicking; what decodes
// encodes and decodes again to the same acks.
func FuzzDecodeAcks(f *testing.F) {
	f.Add(AppendAcks(nil, nil))
	f.Add(AppendAcks(nil, []Ack{{1, 2, 3, 4}}))
	f.Add(AppendAcks(nil, []Ack{{2, -1, math.MaxUint64, 0}, {3, math.MaxInt, 0, 1 << 63}, {4, 0, 5, 6}}))
	f.Fuzz(func(t *testing.T, src []byte) {
		acks, err := DecodeAcks(src, nil)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(src) || acks != nil {
				t.Fatalf("error %#v (acks %v)", err, acks)
			}
			return
		}
		again, err := DecodeAcks(AppendAcks(nil, acks), nil)
		if err != nil || !reflect.DeepEqual(again, acks) {
			t.Fatalf("re-encoded: %v, %v; want %v", again, err, acks)
		}
	})
}

// sameTuple is reflect.DeepEqual but for NaNs, which fuzzed frames hold
// and which are never DeepEqual; floats compare by their bits.
func sameTuple(a, b *tuple.Tuple) bool {
	if len(a.Values) != len(b.Values) || (a.Values == nil) != (b.Values == nil) {
		return false
	}
	for i := range a.Values {
		if !sameValue(a.Values[i], b.Values[i]) {
			return false
		}
	}
	a2, b2 := *a, *b
	a2.Values, b2.Values = nil, nil
	return reflect.DeepEqual(a2, b2)
}

func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []any:
		y, ok := b.([]any)
		return ok && sameList(x, y)
	case tuple.Values:
		y, ok := b.(tuple.Values)
		return ok && sameList(x, y)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case time.Time:
		// fixed zones decode to new *time.Location values; the instant,
		// the zone name and offset are what must agree
		y, ok := b.(time.Time)
		n1, o1 := x.Zone()
		n2, o2 := y.Zone()
		return ok && x.Equal(y) && n1 == n2 && o1 == o2
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func sameList(x, y []any) bool {
	if (x == nil) != (y == nil) || len(x) != len(y) {
		return false
	}
	for i := range x {
		if !sameValue(x[i], y[i]) {
			return false
		}
	}
	return true
}
