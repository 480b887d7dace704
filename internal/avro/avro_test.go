package avro

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) *Schema {
	t.Helper()
	sc, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestAppendBinary: encodings from the specification's examples and the
// shapes a generic encoder gets wrong.
func TestAppendBinary(t *testing.T) {
	cases := []struct {
		schema string
		value  any
		hex    string
	}{
		{`"long"`, int64(-64), "7f"},
		{`"long"`, int64(64), "8001"},
		{`"int"`, int32(1), "02"},
		{`"string"`, "foo", "06666f6f"},
		{`"boolean"`, true, "01"},
		{`"float"`, float32(1.5), "0000c03f"},
		{`"double"`, 2.25, "0000000000000240"},
		{`{"type":"array","items":"long"}`, []any{int64(3), int64(27)}, "0406360" + "0"},
		{`{"type":"array","items":"long"}`, []any{}, "00"},
		{`{"type":"map","values":"int"}`, map[string]any{"b": int32(2), "a": int32(1)}, "04" + "0261" + "02" + "0262" + "04" + "00"},
		{`["null","string"]`, UnionValue{1, "a"}, "020261"},
		{`["null","string"]`, UnionValue{0, nil}, "00"},
		{`["string","long","null"]`, UnionValue{1, int64(1)}, "0202"},
		{`{"type":"enum","name":"E","symbols":["A","B"]}`, 1, "02"},
		{`{"type":"fixed","name":"F","size":2}`, []byte{1, 2}, "0102"},
		{`{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}`, big.NewInt(-1), "02ff"},
		{`{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}`, big.NewInt(128), "040080"},
		{`{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}`, big.NewInt(0), "0200"},
		{`{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":9,"scale":2}`, big.NewInt(-2), "fffffffe"},
		{`{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]}`, []any{int64(27), "foo"}, "3606666f6f"},
	}
	for _, tc := range cases {
		s := mustParse(t, tc.schema)
		got, err := AppendBinary(nil, s, tc.value)
		if err != nil || hex.EncodeToString(got) != tc.hex {
			t.Errorf("%s %v: %x, %v; want %s", tc.schema, tc.value, got, err, tc.hex)
			continue
		}
		// the skipper finds the value's end
		r := &reader{data: got}
		if err := r.skip(s); err != nil || r.pos != len(got) {
			t.Errorf("%s: skip: %d of %d bytes, %v", tc.schema, r.pos, len(got), err)
		}
	}
	if _, err := AppendBinary(nil, mustParse(t, `"int"`), int64(1)); err == nil {
		t.Error("an int64 for an int: no error")
	}
}

func TestTwos(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 127, 128, -128, -129, 255, 256, -32768, 1 << 40, -(1 << 40)} {
		b := toTwos(big.NewInt(n), 0)
		if got := fromTwos(b); got.Int64() != n {
			t.Errorf("%d -> %x -> %v", n, b, got)
		}
		if b := toTwos(big.NewInt(n), 8); fromTwos(b).Int64() != n || len(b) != 8 {
			t.Errorf("%d in 8 bytes: %x", n, b)
		}
	}
}

// TestCoerce_Unions: a value takes the first branch it fits; defaults fill
// missing fields.
func TestCoerce_Unions(t *testing.T) {
	s := mustParse(t, `{"type":"record","name":"R","fields":[
	  {"name":"u","type":["null","long","double","string"]},
	  {"name":"d","type":"string","default":"x"},
	  {"name":"b","type":"bytes","default":"\u00ff\u0001"},
	  {"name":"o","type":["null","int"],"default":null}]}`)
	for _, tc := range []struct {
		in   any
		want int // branch of u
	}{{int64(1), 1}, {2.5, 2}, {"s", 3}, {nil, 0}, {3.0, 1}} {
		v, err := Coerce(s, map[string]any{"u": tc.in}, "v")
		if err != nil {
			t.Fatal(err)
		}
		rec := v.([]any)
		if u := rec[0].(UnionValue); u.Index != tc.want {
			t.Errorf("%v: branch %d, want %d", tc.in, u.Index, tc.want)
		}
		if rec[1] != "x" || !bytes.Equal(rec[2].([]byte), []byte{0xff, 1}) || rec[3].(UnionValue).Index != 0 {
			t.Errorf("defaults: %v", rec[1:])
		}
	}
	_, err := Coerce(s, map[string]any{"u": true}, "v")
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Path != "v.u" || !strings.Contains(ve.Msg, "fits no branch") {
		t.Errorf("bool in the union: %v", err)
	}
}

func TestParse_Errors(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}`, `field "a" appears twice`},
		{`{"type":"record","name":"R","fields":[{"name":"a","type":["int","int"]}]}`, "union holds int twice"},
		{`{"type":"enum","name":"E","symbols":[]}`, "non-empty array"},
		{`{"type":"fixed","name":"F"}`, "without \"size\""},
		{`{"type":"bytes","logicalType":"decimal"}`, "positive \"precision\""},
		{`{"type":"fixed","name":"F","size":2,"logicalType":"decimal","precision":9}`, "does not fit a fixed of 2 bytes"},
		{`{"type":"array"}`, `without "items"`},
		{`{"type":"record","name":"1R","fields":[]}`, "not a valid name"},
		{`[]`, "empty union"},
		{`{"type":"string"} x`, "text after the schema"},
	} {
		_, err := Parse([]byte(tc.schema))
		var se *SchemaError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ...%s...", tc.schema, err, tc.want)
		}
	}
	// named types defined once, used again
	s := mustParse(t, `{"type":"record","name":"R","namespace":"n","fields":[
	  {"name":"a","type":{"type":"fixed","name":"F","size":1}},{"name":"b","type":"F"},{"name":"c","type":"n.F"}]}`)
	if s.Fields[1].Type != s.Fields[0].Type || s.Fields[2].Type != s.Fields[0].Type {
		t.Error("named type references do not resolve to the definition")
	}
}

// TestReadFile: a written file reads back whole: its records, their
// encodings, the sync markers; damage is an ErrFile, never a panic.
func TestReadFile(t *testing.T) {
	s := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"m","type":{"type":"map","values":"string"}}]}`)
	var values []any
	for i := range 25 {
		values = append(values, []any{int64(i), map[string]any{"k": strings.Repeat("x", i)}})
	}
	for _, codec := range []string{CodecNull, CodecDeflate, CodecSnappy} {
		data, err := AppendFile(nil, s, values, FileOptions{Codec: codec, BlockRecords: 10, Sync: [16]byte{1, 2, 3}})
		if err != nil {
			t.Fatal(err)
		}
		var datums [][]byte
		info, err := ReadFile(data, 1<<20, func(d []byte) error { datums = append(datums, bytes.Clone(d)); return nil })
		if err != nil || info.Records != 25 || info.Codec != codec || len(datums) != 25 {
			t.Fatalf("%s: %+v, %d datums, %v", codec, info, len(datums), err)
		}
		want, _ := AppendBinary(nil, s, values[7])
		if !bytes.Equal(datums[7], want) {
			t.Errorf("%s: datum 7 is %x, want %x", codec, datums[7], want)
		}
		for cut := range len(data) {
			if _, err := ReadFile(data[:cut], 1<<20, nil); cut > 0 && err == nil && cut != len(data) {
				// a cut at a block boundary is a valid shorter file
				continue
			} else if err != nil && !errors.Is(err, ErrFile) {
				t.Fatalf("%s cut at %d: %v is not an ErrFile", codec, cut, err)
			}
		}
		bad := bytes.Clone(data)
		bad[len(bad)-1] ^= 1
		if _, err := ReadFile(bad, 1<<20, nil); !errors.Is(err, ErrFile) {
			t.Errorf("%s: a damaged sync marker: %v", codec, err)
		}
	}
}

// FuzzReadFile: any input is read or refused with ErrFile, within
// bounded memory.
func FuzzReadFile(f *testing.F) {
	s, _ := Parse([]byte(`{"type":"record","name":"R","fields":[{"name":"a","type":["null","long"]},{"name":"b","type":{"type":"array","items":"string"}}]}`))
	for _, codec := range []string{CodecNull, CodecDeflate, CodecSnappy} {
		data, _ := AppendFile(nil, s, []any{[]any{UnionValue{1, int64(5)}, []any{"x", "y"}}, []any{UnionValue{0, nil}, []any{}}},
			FileOptions{Codec: codec, BlockRecords: 1})
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ReadFile(data, 1<<20, func([]byte) error { return nil }); err != nil && !errors.Is(err, ErrFile) {
			t.Fatalf("%v is not an ErrFile", err)
		}
	})
}
