package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/tuplestate"
	"github.com/gale-stream/gale/tuple"
)

// roundTrip encodes ts, decodes the frame and returns the tuples.
func roundTrip(t *testing.T, ts []*tuple.Tuple) []*tuple.Tuple {
	t.Helper()
	buf, err := AppendTuples(nil, ts)
	if err != nil {
		t.Fatalf("AppendTuples: %v", err)
	}
	if FrameKind(buf) != KindTuples {
		t.Fatalf("FrameKind = %d", FrameKind(buf))
	}
	got, err := DecodeTuples(buf, nil)
	if err != nil {
		t.Fatalf("DecodeTuples: %v", err)
	}
	return got
}

func valueTuple(vs ...any) *tuple.Tuple {
	return &tuple.Tuple{Values: vs, Stream: "default", Component: "split", Task: 3}
}

type word string

func TestAppendTuples_ValueTypes(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	meta := &tuple.BatchMeta{ID: "t/00001/000000000007", Origin: "kafka", Source: "t",
		Partition: -3, Seq: math.MaxUint64, Start: math.MinInt64, End: math.MaxInt64, Records: -1}
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"string", "hello"},
		{"empty string", ""},
		{"unicode string", "héllo, 世界\x00\xff"},
		{"bytes", []byte{0, 1, 2, 255}},
		{"empty bytes", []byte{}},
		{"nil bytes", []byte(nil)},
		{"true", true},
		{"false", false},
		{"int", 42},
		{"int min", math.MinInt},
		{"int max", math.MaxInt},
		{"int8 min", int8(math.MinInt8)},
		{"int8 max", int8(math.MaxInt8)},
		{"int16 min", int16(math.MinInt16)},
		{"int16 max", int16(math.MaxInt16)},
		{"int32 min", int32(math.MinInt32)},
		{"int32 max", int32(math.MaxInt32)},
		{"int64 min", int64(math.MinInt64)},
		{"int64 max", int64(math.MaxInt64)},
		{"uint", uint(7)},
		{"uint max", uint(math.MaxUint)},
		{"uint8 max", uint8(math.MaxUint8)},
		{"uint16 max", uint16(math.MaxUint16)},
		{"uint32 max", uint32(math.MaxUint32)},
		{"uint64 max", uint64(math.MaxUint64)},
		{"uint64 zero", uint64(0)},
		{"float32", float32(1.5)},
		{"float32 inf", float32(math.Inf(-1))},
		{"float32 smallest", float32(math.SmallestNonzeroFloat32)},
		{"float64", 3.141592653589793},
		{"float64 negative zero", math.Copysign(0, -1)},
		{"float64 max", math.MaxFloat64},
		{"json.Number", json.Number("12345678901234567890.5e-3")},
		{"time UTC", time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)},
		{"time Local", time.Unix(1700000000, 123)},
		{"time fixed zone", time.Date(2024, 6, 1, 12, 0, 0, 5, paris)},
		{"time unnamed zone", time.Date(2024, 6, 1, 12, 0, 0, 0, time.FixedZone("", -5*3600-1800))},
		{"time zero", time.Time{}},
		{"time before 1970", time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
		{"time far future", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"map[string]any", map[string]any{"a": 1, "b": "x", "c": []any{int8(1), nil}, "": nil}},
		{"empty map[string]any", map[string]any{}},
		{"nil map[string]any", map[string]any(nil)},
		{"[]any", []any{"a", 1, 2.5, true, nil, []byte("b")}},
		{"empty []any", []any{}},
		{"nil []any", []any(nil)},
		{"map[string]string", map[string]string{"k": "v", "": ""}},
		{"empty map[string]string", map[string]string{}},
		{"nil map[string]string", map[string]string(nil)},
		{"tuple.Values", tuple.Values{"x", tuple.Values{int64(1)}, []any{tuple.Values(nil)}}},
		{"empty tuple.Values", tuple.Values{}},
		{"nil tuple.Values", tuple.Values(nil)},
		{"*BatchMeta", meta},
		{"empty *BatchMeta", &tuple.BatchMeta{}},
		{"nil *BatchMeta", (*tuple.BatchMeta)(nil)},
		{"deep", nest(MaxDepth)},
		{"everything nested", map[string]any{"l": []any{map[string]string{"a": "b"}, meta,
			time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), json.Number("1"), uint16(9)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := valueTuple(tc.v)
			got := roundTrip(t, []*tuple.Tuple{in})
			if len(got) != 1 {
				t.Fatalf("got %d tuples", len(got))
			}
			if !reflect.DeepEqual(got[0], in) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got[0].Values[0], tc.v)
			}
			if reflect.TypeOf(got[0].Values[0]) != reflect.TypeOf(tc.v) {
				t.Fatalf("type %T, want %T", got[0].Values[0], tc.v)
			}
		})
	}
}

// nest returns a list nested depth levels deep: depth 0 is a string.
func nest(depth int) any {
	var v any = "leaf"
	for range depth {
		v = []any{v}
	}
	return v
}

func TestAppendTuples_TupleFields(t *testing.T) {
	tests := []struct {
		name string
		t    *tuple.Tuple
	}{
		{"zero", &tuple.Tuple{}},
		{"nil values, empty anchors", anchored(&tuple.Tuple{}, []tuplestate.Anchor{})},
		{"empty values", &tuple.Tuple{Values: tuple.Values{}}},
		{"all", anchored(&tuple.Tuple{Values: tuple.Values{"w", 1}, Stream: "s", Component: "c", Task: 12345,
			ID: "topic/3/42/0", BatchID: "topic/00003/000000000042"},
			[]tuplestate.Anchor{{Root: math.MaxUint64, Edge: 1}, {Root: 0, Edge: 1 << 63}})},
		{"negative task", &tuple.Tuple{Task: -1, Stream: tuple.TickStream, Component: tuple.SystemComponent}},
		{"end marker", anchored(&tuple.Tuple{Stream: tuple.BatchEndStream, Component: "spout", Task: 1, BatchID: "b",
			Values: tuple.Values{int64(17), &tuple.BatchMeta{ID: "b", Origin: "spout"}, false}},
			[]tuplestate.Anchor{{Root: 5, Edge: 6}})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := roundTrip(t, []*tuple.Tuple{tc.t})
			if !reflect.DeepEqual(got[0], tc.t) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got[0], tc.t)
			}
		})
	}
}

func TestAppendTuples_NotCarried(t *testing.T) {
	in := &tuple.Tuple{Values: tuple.Values{"a"}, Fields: tuple.Fields{"word"}, Stream: "default"}
	st := tuplestate.Of(in)
	st.AckVal, st.Done, st.Children, st.Born = 9, true, 3, 12
	got := roundTrip(t, []*tuple.Tuple{in})[0]
	want := &tuple.Tuple{Values: tuple.Values{"a"}, Stream: "default"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestAppendTuples_Empty(t *testing.T) {
	for _, ts := range [][]*tuple.Tuple{nil, {}} {
		got := roundTrip(t, ts)
		if len(got) != 0 {
			t.Fatalf("got %d tuples", len(got))
		}
	}
}

func TestAppendTuples_Interning(t *testing.T) {
	ts := wordBatch(64)
	buf, err := AppendTuples(nil, ts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"default", "split", "topic/00001/000000000009"} {
		if n := bytes.Count(buf, []byte(s)); n != 1 {
			t.Errorf("%q appears %d times in the frame, want once", s, n)
		}
	}
	got, err := DecodeTuples(buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ts) {
		t.Fatal("round trip differs")
	}
}

// TestAppendTuples_ManyStrings goes past the encoder's inline table into
// its map.
func TestAppendTuples_ManyStrings(t *testing.T) {
	var ts []*tuple.Tuple
	for i := range 300 {
		ts = append(ts, &tuple.Tuple{Stream: "s" + string(rune('a'+i%40)), Component: "c" + string(rune('a'+i%23)),
			BatchID: "b" + string(rune('a'+i%50)), Values: tuple.Values{i}})
	}
	got := roundTrip(t, ts)
	if !reflect.DeepEqual(got, ts) {
		t.Fatal("round trip differs")
	}
}

func TestAppendTuples_Appends(t *testing.T) {
	prefix := []byte("prefix")
	ts := wordBatch(3)
	buf, err := AppendTuples(append([]byte(nil), prefix...), ts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf, prefix) {
		t.Fatal("prefix overwritten")
	}
	got, err := DecodeTuples(buf[len(prefix):], nil)
	if err != nil || !reflect.DeepEqual(got, ts) {
		t.Fatalf("decode after prefix: %v", err)
	}
}

func TestDecodeTuples_Alloc(t *testing.T) {
	ts := wordBatch(5)
	buf, _ := AppendTuples(nil, ts)
	var made []*tuple.Tuple
	got, err := DecodeTuples(buf, func() *tuple.Tuple {
		t := &tuple.Tuple{Fields: tuple.Fields{"word"}}
		made = append(made, t)
		return t
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(made) != 5 {
		t.Fatalf("alloc called %d times", len(made))
	}
	for i := range got {
		if got[i] != made[i] {
			t.Fatalf("tuple %d is not the allocated one", i)
		}
		if !reflect.DeepEqual(got[i].Fields, tuple.Fields{"word"}) {
			t.Fatalf("Fields set by alloc was overwritten: %v", got[i].Fields)
		}
		got[i].Fields = nil
	}
	if !reflect.DeepEqual(got, ts) {
		t.Fatal("round trip differs")
	}
}

// TestDecodeTuples_NoAliasing: decoded tuples survive the reuse of the
// input buffer, and the tuples sharing a slab do not overlap.
func TestDecodeTuples_NoAliasing(t *testing.T) {
	ts := []*tuple.Tuple{valueTuple("abc", []byte("xyz")), valueTuple("def"), valueTuple("ghi", 1, 2)}
	anchored(ts[0], []tuplestate.Anchor{{Root: 1, Edge: 2}})
	anchored(ts[1], []tuplestate.Anchor{{Root: 3, Edge: 4}, {Root: 5, Edge: 6}})
	buf, _ := AppendTuples(nil, ts)
	got, err := DecodeTuples(buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 0xAA
	}
	if !reflect.DeepEqual(got, ts) {
		t.Fatal("decoded tuples changed with the input buffer")
	}
	// appending to one tuple's Values must not clobber the next one's
	_ = append(got[0].Values, "clobber")
	_ = append(tuplestate.Of(got[0]).Anchors, tuplestate.Anchor{Root: 9, Edge: 9})
	if !reflect.DeepEqual(got, ts) {
		t.Fatal("slices of one frame overlap")
	}
}

func TestAppendTuples_Unsupported(t *testing.T) {
	x := 1
	tests := []struct {
		name  string
		v     any
		typ   string
		where string
	}{
		{"named string", word("w"), "codec.word", "tuple 1 value 1"},
		{"chan", make(chan int), "chan int", "tuple 1 value 1"},
		{"pointer", &x, "*int", "tuple 1 value 1"},
		{"struct", struct{}{}, "struct {}", "tuple 1 value 1"},
		{"[]string", []string{"a"}, "[]string", "tuple 1 value 1"},
		{"in a list", []any{1, []any{2, uintptr(3)}}, "uintptr", "tuple 1 value 1[1][1]"},
		{"in a map", map[string]any{"k": map[string]any{"j": complex(1, 2)}}, "complex128", `tuple 1 value 1["k"]["j"]`},
		{"map[string]int", map[string]int{}, "map[string]int", "tuple 1 value 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			ts := []*tuple.Tuple{valueTuple("ok"), valueTuple("ok", tc.v)}
			out, err := AppendTuples(dst, ts)
			if !errors.Is(err, ErrUnsupportedType) {
				t.Fatalf("err = %v, want ErrUnsupportedType", err)
			}
			var ute *UnsupportedTypeError
			if !errors.As(err, &ute) || ute.Type != tc.typ || ute.Where != tc.where {
				t.Fatalf("err = %#v, want type %q at %q", err, tc.typ, tc.where)
			}
			if !strings.Contains(err.Error(), tc.typ) {
				t.Fatalf("message %q does not name the type", err)
			}
			if string(out) != "keep" {
				t.Fatalf("dst changed to %q", out)
			}
		})
	}
}

func TestAppendTuples_TooDeep(t *testing.T) {
	self := []any{nil}
	self[0] = self // a list that contains itself
	m := map[string]any{}
	m["m"] = m
	for name, v := range map[string]any{"nest": nest(MaxDepth + 1), "self list": self, "self map": m} {
		t.Run(name, func(t *testing.T) {
			_, err := AppendTuples(nil, []*tuple.Tuple{valueTuple(v)})
			if !errors.Is(err, ErrTooDeep) {
				t.Fatalf("err = %v, want ErrTooDeep", err)
			}
		})
	}
}

func TestAppendTuples_NilTuple(t *testing.T) {
	_, err := AppendTuples(nil, []*tuple.Tuple{valueTuple(1), nil})
	if !errors.Is(err, ErrNilTuple) {
		t.Fatalf("err = %v", err)
	}
}

// richFrame is a frame using every part of the format.
func richFrame(t testing.TB) []byte {
	ts := []*tuple.Tuple{
		anchored(&tuple.Tuple{Values: tuple.Values{"a", []byte("b"), true, false, -1, int8(-2), int16(3), int32(-4), int64(5),
			uint(6), uint8(7), uint16(8), uint32(9), uint64(10), float32(1.25), 2.5, json.Number("3"),
			time.Unix(1e9, 7).UTC(), time.Unix(1e9, 8).In(time.FixedZone("Z", 60)), nil},
			Stream: "default", Component: "split", Task: 2, ID: "id/1", BatchID: "batch"},
			[]tuplestate.Anchor{{Root: 1, Edge: 2}, {Root: 3, Edge: 4}}),
		{Values: tuple.Values{map[string]any{"m": []any{tuple.Values{1}}}, map[string]string{"k": "v"},
			&tuple.BatchMeta{ID: "batch", Origin: "o", Source: "s", Partition: 1, Seq: 2, Start: 3, End: 4, Records: 5},
			(*tuple.BatchMeta)(nil), []any(nil)},
			Stream: "default", Component: "split", Task: 2, BatchID: "batch"},
	}
	buf, err := AppendTuples(nil, ts)
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

func decodeErr(t *testing.T, src []byte) *DecodeError {
	t.Helper()
	ts, err := DecodeTuples(src, nil)
	if err == nil {
		t.Fatalf("decoded %d tuples from a bad frame % x", len(ts), src)
	}
	if ts != nil {
		t.Fatalf("tuples returned with an error")
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err %T %v is not a *DecodeError", err, err)
	}
	if de.Offset < 0 || de.Offset > len(src) {
		t.Fatalf("offset %d outside the input of %d bytes", de.Offset, len(src))
	}
	return de
}

func TestDecodeTuples_Truncated(t *testing.T) {
	buf := richFrame(t)
	for i := range len(buf) {
		de := decodeErr(t, buf[:i])
		if !errors.Is(de, ErrTruncated) && !errors.Is(de, ErrLength) {
			t.Fatalf("prefix of %d bytes: %v, want truncated or length", i, de)
		}
	}
}

func TestDecodeTuples_Trailing(t *testing.T) {
	buf := append(richFrame(t), 0)
	de := decodeErr(t, buf)
	if !errors.Is(de, ErrTrailing) || de.Offset != len(buf)-1 {
		t.Fatalf("err = %v", de)
	}
}

// frame builds a tuple frame by hand: one tuple on stream "s" from "c",
// task 0, with the given flags, followed by rest.
func frame(flags byte, rest ...byte) []byte {
	b := []byte{byte(KindTuples), 1, flags, 0, 1, 's', 1, 1, 'c', 0}
	return append(b, rest...)
}

// oneValue is a frame of one tuple whose single value is the bytes v.
func oneValue(v ...byte) []byte { return frame(flagValues, append([]byte{1}, v...)...) }

func TestDecodeTuples_Errors(t *testing.T) {
	huge := binary.AppendUvarint(nil, 1<<62)
	tests := []struct {
		name  string
		src   []byte
		err   error
		off   int
		where string
	}{
		{"empty", nil, ErrTruncated, 0, ""},
		{"acks frame", AppendAcks(nil, nil), ErrFrameKind, 0, ""},
		{"unknown kind", []byte{99, 0}, ErrFrameKind, 0, ""},
		{"huge tuple count", append([]byte{byte(KindTuples)}, huge...), ErrLength, 1, ""},
		{"tuple count beyond input", []byte{byte(KindTuples), 2, 0, 0, 1, 's', 0, 0}, ErrLength, 1, ""},
		{"varint overflow", append([]byte{byte(KindTuples)}, bytes.Repeat([]byte{0xff}, 11)...), ErrRange, 1, ""},
		{"bad flags", frame(0x80), ErrBadTag, 2, "tuple 0"},
		{"bad stream ref", []byte{byte(KindTuples), 1, 0, 1, 0, 0}, ErrBadRef, 3, "tuple 0"},
		{"bad component ref", []byte{byte(KindTuples), 1, 0, 0, 1, 's', 5, 0}, ErrBadRef, 6, "tuple 0"},
		{"huge string", []byte{byte(KindTuples), 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0}, ErrLength, 4, "tuple 0"},
		{"huge anchors", frame(flagAnchors, huge...), ErrLength, 10, "tuple 0"},
		{"anchors beyond input", frame(flagAnchors, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), ErrLength, 10, "tuple 0"},
		{"huge values", frame(flagValues, huge...), ErrLength, 10, "tuple 0"},
		{"bad tag", oneValue(numTags), ErrBadTag, 11, "tuple 0 value 0"},
		{"bad tag 255", oneValue(255), ErrBadTag, 11, "tuple 0 value 0"},
		{"huge bytes", oneValue(append([]byte{tagBytes}, huge...)...), ErrLength, 12, "tuple 0 value 0"},
		{"huge list", oneValue(append([]byte{tagList}, huge...)...), ErrLength, 12, "tuple 0 value 0"},
		{"huge map", oneValue(append([]byte{tagMap}, huge...)...), ErrLength, 12, "tuple 0 value 0"},
		{"map beyond input", oneValue(tagMap, 3, 0, tagNil), ErrLength, 12, "tuple 0 value 0"},
		{"huge string map", oneValue(append([]byte{tagStrMap}, huge...)...), ErrLength, 12, "tuple 0 value 0"},
		{"huge ID", frame(flagID, huge...), ErrLength, 10, "tuple 0"},
		{"int8 out of range", oneValue(tagInt8, 0x80, 0x02), ErrRange, 12, "tuple 0 value 0"},
		{"uint8 out of range", oneValue(tagUint8, 0x80, 0x02), ErrRange, 12, "tuple 0 value 0"},
		{"int32 out of range", oneValue(append([]byte{tagInt32}, binary.AppendVarint(nil, math.MaxInt32+1)...)...), ErrRange, 12, "tuple 0 value 0"},
		{"uint16 out of range", oneValue(append([]byte{tagUint16}, binary.AppendUvarint(nil, math.MaxUint16+1)...)...), ErrRange, 12, "tuple 0 value 0"},
		{"nanoseconds out of range", oneValue(tagTime, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03, zoneUTC), ErrRange, 13, "tuple 0 value 0"},
		{"bad zone", oneValue(tagTime, 0, 0, 9), ErrBadTag, 14, "tuple 0 value 0"},
		{"zone offset out of range", oneValue(append([]byte{tagTime, 0, 0, zoneFixed, 0}, binary.AppendVarint(nil, 1<<40)...)...), ErrRange, 16, "tuple 0 value 0"},
		{"truncated float64", oneValue(tagFloat64, 1, 2, 3), ErrTruncated, 12, "tuple 0 value 0"},
		{"truncated float32", oneValue(tagFloat32, 1), ErrTruncated, 12, "tuple 0 value 0"},
		{"meta bad ref", oneValue(tagMeta, 7), ErrBadRef, 12, "tuple 0 value 0"},
		{"too deep", oneValue(append(bytes.Repeat([]byte{tagList, 2}, MaxDepth+1), tagNil)...), ErrTooDeep, 11 + 2*MaxDepth, "tuple 0 value 0"},
		{"second tuple", append([]byte{byte(KindTuples), 2, 0, 0, 1, 's', 0, 0, 0, 9}, 0, 0), ErrBadRef, 9, "tuple 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			de := decodeErr(t, tc.src)
			if !errors.Is(de, tc.err) || de.Offset != tc.off || de.Where != tc.where {
				t.Fatalf("got %v (offset %d, where %q), want %v at offset %d, where %q",
					de, de.Offset, de.Where, tc.err, tc.off, tc.where)
			}
			if !strings.Contains(de.Error(), "offset") {
				t.Fatalf("message %q does not give the offset", de)
			}
		})
	}
}

// TestDecodeTuples_HugeLengthsDoNotAllocate: frames announcing huge
// counts are refused before anything is allocated for them.
func TestDecodeTuples_HugeLengthsDoNotAllocate(t *testing.T) {
	big := binary.AppendUvarint(nil, 1<<40)
	frames := [][]byte{
		append([]byte{byte(KindTuples)}, big...),
		frame(flagAnchors, big...),
		frame(flagValues, big...),
		oneValue(append([]byte{tagBytes}, big...)...),
		oneValue(append([]byte{tagList}, big...)...),
		oneValue(append([]byte{tagMap}, big...)...),
		oneValue(append([]byte{tagString}, big...)...),
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		for _, f := range frames {
			if _, err := DecodeTuples(f, nil); !errors.Is(err, ErrLength) {
				t.Fatalf("err = %v", err)
			}
		}
	}
	runtime.ReadMemStats(&after)
	// a single honoured count would be a terabyte; the errors themselves
	// take a few hundred bytes each
	if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
		t.Fatalf("decoding %d bad frames allocated %d bytes", 100*len(frames), d)
	}
}

func TestAcks_RoundTrip(t *testing.T) {
	tests := [][]Ack{
		nil,
		{{Kind: 1, Task: 3, Root: 1, Val: 2}},
		{{Kind: 2, Task: 0, Root: math.MaxUint64, Val: 0}, {Kind: 255, Task: -7, Root: 0, Val: math.MaxUint64},
			{Kind: 3, Task: math.MaxInt, Root: 1 << 63, Val: 1}, {Kind: 4, Task: math.MinInt}},
	}
	for _, acks := range tests {
		buf := AppendAcks([]byte("x"), acks)
		if FrameKind(buf[1:]) != KindAcks {
			t.Fatalf("FrameKind = %d", FrameKind(buf[1:]))
		}
		prev := []Ack{{Kind: 9}}
		got, err := DecodeAcks(buf[1:], prev)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[1:], append([]Ack{}, acks...)) || got[0] != prev[0] {
			t.Fatalf("got %v, want %v after %v", got, acks, prev)
		}
	}
}

func TestDecodeAcks_Errors(t *testing.T) {
	valid := AppendAcks(nil, []Ack{{1, 2, 3, 4}, {5, -6, 7, 8}})
	for i := range len(valid) {
		got, err := DecodeAcks(valid[:i], nil)
		var de *DecodeError
		if !errors.As(err, &de) || got != nil || de.Offset > i {
			t.Fatalf("prefix %d: got %v, %v", i, got, err)
		}
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrLength) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	tests := []struct {
		name  string
		src   []byte
		err   error
		off   int
		where string
	}{
		{"tuples frame", []byte{byte(KindTuples), 0}, ErrFrameKind, 0, ""},
		{"huge count", append([]byte{byte(KindAcks)}, binary.AppendUvarint(nil, 1<<60)...), ErrLength, 1, ""},
		{"trailing", append(append([]byte(nil), valid...), 1), ErrTrailing, len(valid), ""},
		{"task overflow", append([]byte{byte(KindAcks), 1, 1}, bytes.Repeat([]byte{0xff}, 17)...), ErrRange, 3, "ack 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeAcks(tc.src, nil)
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, tc.err) || de.Offset != tc.off || de.Where != tc.where {
				t.Fatalf("got %#v, want %v at %d %q", err, tc.err, tc.off, tc.where)
			}
		})
	}
}

func TestFrameKind(t *testing.T) {
	for _, tc := range []struct {
		src  []byte
		want Kind
	}{{nil, 0}, {[]byte{0}, 0}, {[]byte{1}, KindTuples}, {[]byte{2, 0}, KindAcks}, {[]byte{3}, 0}} {
		if got := FrameKind(tc.src); got != tc.want {
			t.Errorf("FrameKind(% x) = %d, want %d", tc.src, got, tc.want)
		}
	}
}

// TestRoundTrip_Random encodes random batches of random values.
func TestRoundTrip_Random(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range 2000 {
		ts := randomBatch(r)
		buf, err := AppendTuples(nil, ts)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		got, err := DecodeTuples(buf, nil)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, ts) {
			for j := range ts {
				if !reflect.DeepEqual(got[j], ts[j]) {
					t.Fatalf("batch %d tuple %d:\n got %#v\nwant %#v", i, j, got[j], ts[j])
				}
			}
			t.Fatalf("batch %d differs", i)
		}
		// the decoded batch encodes to a frame of the same length
		again, err := AppendTuples(nil, got)
		if err != nil || len(again) != len(buf) {
			t.Fatalf("batch %d: re-encoded to %d bytes, want %d (%v)", i, len(again), len(buf), err)
		}
	}
}

func randomBatch(r *rand.Rand) []*tuple.Tuple {
	streams := []string{"default", "words", tuple.BatchEndStream, ""}
	comps := []string{"split", "count", "spout", ""}
	ts := make([]*tuple.Tuple, r.IntN(70))
	for i := range ts {
		t := &tuple.Tuple{Stream: streams[r.IntN(len(streams))], Component: comps[r.IntN(len(comps))],
			Task: r.IntN(1000) - 10}
		if r.IntN(2) == 0 {
			t.ID = randString(r)
		}
		if r.IntN(2) == 0 {
			t.BatchID = "batch-" + randString(r)
		}
		if r.IntN(4) > 0 {
			as := make([]tuplestate.Anchor, r.IntN(4))
			for k := range as {
				as[k] = tuplestate.Anchor{Root: r.Uint64(), Edge: r.Uint64()}
			}
			anchored(t, as)
		}
		if r.IntN(8) > 0 {
			t.Values = make(tuple.Values, r.IntN(5))
			for k := range t.Values {
				t.Values[k] = randValue(r, 0)
			}
		}
		ts[i] = t
	}
	return ts
}

func randString(r *rand.Rand) string {
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return string(b)
}

// randValue returns a random value of a supported type (never NaN, which
// is not DeepEqual to itself).
func randValue(r *rand.Rand, depth int) any {
	n := 24
	if depth >= 4 {
		n = 19 // no containers
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return randString(r)
	case 2:
		if r.IntN(5) == 0 {
			return []byte(nil)
		}
		return []byte(randString(r))
	case 3:
		return r.IntN(2) == 0
	case 4:
		return int(r.Uint64())
	case 5:
		return int8(r.Uint64())
	case 6:
		return int16(r.Uint64())
	case 7:
		return int32(r.Uint64())
	case 8:
		return int64(r.Uint64() >> r.UintN(64))
	case 9:
		return uint(r.Uint64())
	case 10:
		return uint8(r.Uint64())
	case 11:
		return uint16(r.Uint64())
	case 12:
		return uint32(r.Uint64())
	case 13:
		return r.Uint64() >> r.UintN(64)
	case 14:
		f := math.Float32frombits(r.Uint32())
		if f != f {
			f = 0.5
		}
		return f
	case 15:
		f := math.Float64frombits(r.Uint64())
		if f != f {
			f = -0.25
		}
		return f
	case 16:
		return json.Number(randString(r))
	case 17:
		t := time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9))
		switch r.IntN(3) {
		case 0:
			return t.UTC()
		case 1:
			return t
		}
		return t.In(time.FixedZone(randString(r), r.IntN(50000)-25000))
	case 18:
		if r.IntN(4) == 0 {
			return (*tuple.BatchMeta)(nil)
		}
		return &tuple.BatchMeta{ID: randString(r), Origin: "spout", Source: randString(r),
			Partition: int32(r.Uint32()), Seq: r.Uint64(), Start: int64(r.Uint64()), End: int64(r.Uint64()), Records: r.IntN(100)}
	case 19:
		if r.IntN(5) == 0 {
			return map[string]string(nil)
		}
		m := map[string]string{}
		for range r.IntN(4) {
			m[randString(r)] = randString(r)
		}
		return m
	case 20:
		if r.IntN(5) == 0 {
			return map[string]any(nil)
		}
		m := map[string]any{}
		for range r.IntN(4) {
			m[randString(r)] = randValue(r, depth+1)
		}
		return m
	case 21, 22:
		if r.IntN(5) == 0 {
			return []any(nil)
		}
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randValue(r, depth+1)
		}
		if r.IntN(2) == 0 {
			return tuple.Values(l)
		}
		return l
	}
	return nest(MaxDepth - depth)
}

// wordBatch is what a split bolt sends a count task with acking on: n
// tuples of one short word each, from one batch.
func wordBatch(n int) []*tuple.Tuple {
	words := []string{"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog"}
	ts := make([]*tuple.Tuple, n)
	for i := range ts {
		ts[i] = anchored(&tuple.Tuple{Values: tuple.Values{words[i%len(words)]}, Stream: "default", Component: "split",
			Task: 3, BatchID: "topic/00001/000000000009"},
			[]tuplestate.Anchor{{Root: 0x9e3779b97f4a7c15 * uint64(i+1), Edge: 0xbf58476d1ce4e5b9 * uint64(i+7)}})
	}
	return ts
}

// anchored sets t's anchors (engine state, unexported in package tuple)
// and returns t.
func anchored(t *tuple.Tuple, as []tuplestate.Anchor) *tuple.Tuple {
	tuplestate.Of(t).Anchors = as
	return t
}
