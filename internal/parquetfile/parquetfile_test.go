package parquetfile

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gale-stream/gale/internal/avro"
)

const testSchema = `{"type":"record","name":"R","fields":[
  {"name":"a","type":"long"},
  {"name":"o","type":["null",{"type":"record","name":"In","fields":[{"name":"l","type":{"type":"array","items":["null","string"]}}]}]},
  {"name":"m","type":{"type":"map","values":{"type":"array","items":"int"}}}]}`

func testValues() []any {
	return []any{
		[]any{int64(1), avro.UnionValue{Index: 1, Value: []any{[]any{avro.UnionValue{Index: 1, Value: "x"}, avro.UnionValue{}}}}, map[string]any{"k": []any{int32(1), int32(2)}, "e": []any{}}},
		[]any{int64(2), avro.UnionValue{}, map[string]any{}},
		[]any{int64(3), avro.UnionValue{Index: 1, Value: []any{[]any{}}}, map[string]any{"z": []any{int32(3)}}},
	}
}

// TestWrite: rows read back in order with the footer's count; the same
// values give the same bytes; the Avro schema is in the footer.
func TestWrite(t *testing.T) {
	as, err := avro.Parse([]byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSchema(as)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{CompressionSnappy, CompressionZstd, CompressionNone} {
		opts := Options{Compression: c, RowGroupRows: 2}
		a, err := s.Write(testValues(), opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.Write(testValues(), opts)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two writes differ", c)
		}
		var rows [][]byte
		n, err := ReadRecords(a, 1<<20, func(r []byte) error { rows = append(rows, bytes.Clone(r)); return nil })
		if err != nil || n != 3 || len(rows) != 3 {
			t.Fatalf("%s: %d rows, %v", c, n, err)
		}
		// each row reads back as its record's Avro encoding
		for i, v := range testValues() {
			want, _ := avro.AppendBinary(nil, as, v)
			if !bytes.Equal(rows[i], want) {
				t.Errorf("%s: row %d reads as %x, want %x", c, i, rows[i], want)
			}
		}
		if !bytes.Contains(a, []byte(AvroSchemaKey)) {
			t.Errorf("%s: no %s in the footer", c, AvroSchemaKey)
		}
	}
	if _, err := s.Write([]any{[]any{"not a long", nil, nil}}, Options{}); err == nil {
		t.Error("a value not in canonical form: no error")
	}
}

// FuzzReadRows: any input is read or refused with ErrFile, never a panic.
func FuzzReadRecords(f *testing.F) {
	as, _ := avro.Parse([]byte(testSchema))
	s, _ := NewSchema(as)
	data, _ := s.Write(testValues(), Options{RowGroupRows: 2})
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ReadRecords(data, 1<<20, func([]byte) error { return nil }); err != nil && !errors.Is(err, ErrFile) {
			t.Fatalf("%v is not an ErrFile", err)
		}
	})
}
