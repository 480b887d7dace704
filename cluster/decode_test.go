package cluster

import (
	"errors"
	"testing"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
)

// TestDecodedCache: a stored topology is decoded once, whatever changes of
// status or parallelism follow; a new JSON is decoded again; a topology
// gone from the store is forgotten.
func TestDecodedCache(t *testing.T) {
	reg := all.Registry()
	decodes := 0
	decode := func(data []byte) (*topology.Topology, error) {
		decodes++
		return topology.Decode(data, reg)
	}
	js := []byte(`{"name": "wc", "spouts": [{"id": "s", "type": "generator"}],
	  "bolts": [{"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "s"}]}]}`)
	var c decodedCache
	rec := store.Topology{Name: "wc", JSON: js, Version: 1, Status: store.StatusActive}
	a, err := c.get(rec, decode)
	if err != nil || a.Bolts[0].Parallelism != 2 {
		t.Fatalf("first decode: %v, %v", a, err)
	}
	if b, _ := c.get(rec, decode); b != a || decodes != 1 {
		t.Fatalf("the same record decoded again (%d decodes)", decodes)
	}
	rec.Version, rec.Status = 2, store.StatusInactive
	if b, _ := c.get(rec, decode); b.Bolts[0].Parallelism != 2 || decodes != 1 {
		t.Fatalf("a status change decoded again (%d decodes)", decodes)
	}
	rec.Version, rec.Parallelism = 3, map[string]int{"split": 5}
	b, err := c.get(rec, decode)
	if err != nil || b.Bolts[0].Parallelism != 5 || a.Bolts[0].Parallelism != 2 || decodes != 1 {
		t.Fatalf("rebalance: parallelism %d (base %d), %d decodes, %v", b.Bolts[0].Parallelism, a.Bolts[0].Parallelism, decodes, err)
	}
	if b.Catalog() != topology.Catalog(reg) || b.Bolts[0].Streams == nil {
		t.Fatal("the rebalanced topology lost its catalog or its streams")
	}
	rec.Version, rec.Parallelism = 4, map[string]int{"nope": 5}
	if _, err := c.get(rec, decode); !errors.Is(err, topology.ErrUnknownComponent) {
		t.Fatalf("override of an unknown component: %v", err)
	}
	rec.Version, rec.Parallelism, rec.JSON = 5, nil, []byte(string(js[:len(js)-1])+`, "config": {"topology.workers": 2}}`)
	if _, err := c.get(rec, decode); err != nil || decodes != 2 {
		t.Fatalf("a new JSON: %d decodes, %v", decodes, err)
	}
	c.keep(map[string]bool{"other": true})
	if len(c.entries) != 0 {
		t.Fatalf("%d entries kept for topologies gone from the store", len(c.entries))
	}
}
