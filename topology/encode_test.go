package topology_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gale-stream/gale/topology"
)

func TestEncode_RoundTrip(t *testing.T) {
	docs := map[string]string{
		"wordcount": wordCountJSON,
		"overrides": doc(`{"id": "l", "type": "lines", "parallelism": 4, "outputs": {"default": ["ts", "msg"], "errors": [], "html": ["<a>"]}}`,
			`{"id": "f", "type": "filter", "config": {
			    "contains": "<&>"  }, "inputs": [{"component": "l", "stream": "errors"}]},
			 {"id": "r", "type": "router", "tick": 0.25, "inputs": [{"component": "l", "grouping": "partial_key", "fields": ["msg", "ts"]}]},
			 {"id": "p", "type": "print", "inputs": [{"component": "r", "stream": "routed", "grouping": "direct"}, {"component": "r", "grouping": "local_or_shuffle"}]}`),
		"config": `{"name": "c", "config": {"topology.debug": true, "topology.message.timeout.secs": 0.5,
			"user": {"nested": [1, 2.5, "x", null, true]}, "big": 1e300},
			"spouts": [{"id": "s", "type": "generator", "config": null}], "bolts": []}`,
	}
	for name, data := range docs {
		t.Run(name, func(t *testing.T) {
			cat := newCatalog() // one catalog: the topologies remember it
			first, err := topology.Decode([]byte(data), cat)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := topology.Encode(first)
			if err != nil {
				t.Fatal(err)
			}
			second, err := topology.Decode(enc, cat)
			if err != nil {
				t.Fatalf("decode of encoded: %v\n%s", err, enc)
			}
			if !reflect.DeepEqual(first, second) {
				t.Errorf("round trip changed the topology:\n%+v\n%+v\n%s", first, second, enc)
			}
			again, err := topology.Encode(second)
			if err != nil || string(again) != string(enc) {
				t.Errorf("second encoding differs (%v):\n%s\n%s", err, enc, again)
			}
		})
	}
}

func TestEncode_Built(t *testing.T) {
	built, err := wordCountBuilder().Build(newCatalog())
	if err != nil {
		t.Fatal(err)
	}
	enc, err := topology.Encode(built)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := topology.Decode(enc, newCatalog())
	if err != nil {
		t.Fatalf("%v\n%s", err, enc)
	}
	if !reflect.DeepEqual(built.Bolts, decoded.Bolts) || built.Settings != decoded.Settings {
		t.Errorf("built and decoded differ:\n%s", enc)
	}
}

func TestEncode_Errors(t *testing.T) {
	if _, err := topology.Encode(nil); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("nil: %v", err)
	}
	if _, err := topology.Encode(&topology.Topology{Name: "x", Spouts: []*topology.Component{nil}}); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("nil component: %v", err)
	}
	if _, err := topology.Encode(&topology.Topology{Name: "x", Config: map[string]any{"c": make(chan int)}}); err == nil {
		t.Error("unencodable config accepted")
	}
}
