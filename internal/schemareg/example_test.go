package schemareg_test

import (
	"context"
	"fmt"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/gale-stream/gale/internal/schemareg"
)

// A record written with v1 of a schema, read into v2 (a field added with
// a default): the reader schema of a Decoder.
func ExampleDecoder() {
	registry := srfake.New() // a registry in memory, on loopback
	defer registry.Close()
	v1 := `{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}`
	v2 := `{"type":"record","name":"User","fields":[{"name":"name","type":"string"},
		{"name":"email","type":"string","default":"none"}]}`
	registry.SeedSchema("users-value", 1, 7, sr.Schema{Schema: v1})

	client, err := schemareg.New(schemareg.Config{URL: registry.URL()})
	if err != nil {
		panic(err)
	}
	dec, err := schemareg.NewDecoder(client, schemareg.Avro, v2)
	if err != nil {
		panic(err)
	}
	payload, _ := avro.MustParse(v1).Encode(map[string]any{"name": "ann"})
	value := append([]byte{0, 0, 0, 0, 7}, payload...) // magic byte, schema id 7, payload
	v, err := dec.Decode(context.Background(), value)
	fmt.Println(v, err)
	_, err = dec.Decode(context.Background(), []byte(`{"name":"ann"}`))
	fmt.Println(err)
	// Output:
	// map[email:none name:ann] <nil>
	// not in the Confluent wire format: no magic byte (the first byte is 0x7b, not 0x00)
}
