package cluster

import (
	"bytes"
	"sync"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/topology"
)

// decodedCache keeps the stored topologies decoded: the API (describe,
// series, every few seconds per open UI) and the reconcile loop (every
// 2 s) read them all the time, and decoding is the dear part. An entry is
// decoded again only when the topology's JSON changes; a rebalance only
// applies its parallelism to the decoded one (topology.WithParallelism).
// It is safe for concurrent use.
type decodedCache struct {
	mu      sync.Mutex // guards entries
	entries map[string]*decodedEntry
}

type decodedEntry struct {
	json    []byte             // the stored JSON the base was decoded from
	base    *topology.Topology // the JSON as submitted
	version uint64             // the record version topo was made for
	topo    *topology.Topology // base with the record's overrides
}

// decode turns a stored topology into a validated one, with the
// rebalance's parallelism applied.
func (w *Worker) decode(t store.Topology) (*topology.Topology, error) {
	return w.tops.get(t, func(data []byte) (*topology.Topology, error) { return topology.Decode(data, w.cfg.Registry) })
}

func (c *decodedCache) get(t store.Topology, decode func([]byte) (*topology.Topology, error)) (*topology.Topology, error) {
	c.mu.Lock()
	e := c.entries[t.Name]
	c.mu.Unlock()
	if e != nil && e.version == t.Version && bytes.Equal(e.json, t.JSON) {
		return e.topo, nil
	}
	ne := &decodedEntry{json: bytes.Clone(t.JSON), version: t.Version}
	if e != nil && bytes.Equal(e.json, t.JSON) {
		ne.base = e.base // a status or rebalance change: same JSON
	} else {
		base, err := decode(t.JSON)
		if err != nil {
			return nil, err
		}
		ne.base = base
	}
	ne.topo = ne.base
	if len(t.Parallelism) > 0 {
		topo, err := ne.base.WithParallelism(t.Parallelism)
		if err != nil {
			return nil, err
		}
		ne.topo = topo
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*decodedEntry{}
	}
	c.entries[t.Name] = ne
	c.mu.Unlock()
	return ne.topo, nil
}

// keep forgets the topologies not in names (deleted from the store), so
// that the cache holds only what is stored.
func (c *decodedCache) keep(names map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.entries {
		if !names[name] {
			delete(c.entries, name)
		}
	}
}
