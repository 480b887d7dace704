package parquetfile_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/avro"
	"github.com/gale-stream/gale/internal/parquetfile"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// TestWrite_Witness: pyarrow reads nested optional groups, lists of
// optional values, maps of lists, empty and null collections as written.
func TestWrite_Witness(t *testing.T) {
	as, err := avro.Parse([]byte(`{"type":"record","name":"R","fields":[
	  {"name":"a","type":"long"},
	  {"name":"o","type":["null",{"type":"record","name":"In","fields":[{"name":"l","type":{"type":"array","items":["null","string"]}}]}]},
	  {"name":"m","type":{"type":"map","values":{"type":"array","items":"int"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := parquetfile.NewSchema(as)
	if err != nil {
		t.Fatal(err)
	}
	in := []string{
		`{"a":1,"o":{"l":["x",null]},"m":{"k":[1,2],"e":[]}}`,
		`{"a":2,"o":null,"m":{}}`,
		`{"a":3,"o":{"l":[]},"m":{"z":[3]}}`,
		`{"a":4,"o":{"l":[null,null,"y"]},"m":{"a":[4],"b":[5,6,7]}}`,
	}
	var values []any
	for _, r := range in {
		v, err := avro.Coerce(as, []byte(r), "")
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, v)
	}
	data, err := s.Write(values, parquetfile.Options{RowGroupRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	got := sinktest.Witness(t, "parquet", map[string][]byte{"f": data})["f"]
	for i, r := range got.Records {
		g, _ := json.Marshal(r)
		var want any
		json.Unmarshal([]byte(in[i]), &want)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("row %d: %s, want %s", i, g, w)
		}
	}
	if len(got.Records) != len(in) {
		t.Errorf("%d rows, want %d", len(got.Records), len(in))
	}
	if cb, _ := got.Meta["created_by"].(string); !strings.HasPrefix(cb, "gale") {
		t.Errorf("created_by %q", cb)
	}
}
