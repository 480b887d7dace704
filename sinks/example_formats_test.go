package sinks_test

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/tuple"
)

// A sink writing Parquet: the schema is checked when the config is
// validated; each tuple's "value" is coerced to it, and a value that does
// not fit is refused with the path of its field (the sink sends it to the
// dead letters); the batch's records become one Parquet file, named from
// the batch.
func Example_parquet() {
	c := sinks.DefaultCommon()
	c.Format = sinks.FormatParquet
	c.Schema = json.RawMessage(`{"type": "record", "name": "Event", "fields": [
	  {"name": "n", "type": "long"}, {"name": "user", "type": ["null", "string"]}]}`)
	if err := c.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	format := c.Options("file", nil).Format
	batch := &sinks.Batch{Topology: "t", Meta: &tuple.BatchMeta{ID: "events/00000/000000000000", Source: "events", Start: 0, End: 3}}
	for i, v := range []any{
		map[string]any{"n": json.Number("1"), "user": "ann"}, // as the json deserializer gives it
		[]byte(`{"n": 2}`), // JSON text; user is null
		map[string]any{"n": "three"},
	} {
		t := &tuple.Tuple{ID: fmt.Sprintf("events/0/%d", i), Fields: tuple.Fields{"value"}, Values: tuple.Values{v}}
		r, err := format.Record(t)
		if err != nil {
			fmt.Println("refused:", err)
			continue
		}
		batch.Records = append(batch.Records, r)
	}
	part := c.Naming("").Parts(batch)[0]
	data, err := part.Encode()
	if err != nil {
		fmt.Println(err)
		return
	}
	var sum sinks.LinesSum
	if err := sum.AddObject(part.Name, data); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(part.Name, bytes.HasPrefix(data, []byte("PAR1")), sum.Len(), "rows")
	// Output:
	// refused: at value.n: want long, got string "three"
	// t/events/00000/000000000000-0000000000000000000-0000000000000000003.parquet true 2 rows
}
