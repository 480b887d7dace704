package sinks_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// MemoryConfig is the config of the example's sink: the keys every sink
// shares (format, field, time_partition, backoff, dead letters...) and
// none of its own.
type MemoryConfig struct {
	sinks.Common
}

// memory is a sinks.Writer that keeps each object in a map. A real backend
// writes each object atomically under its name (temporary file and rename,
// one write op, an overwriting PUT): a replay then rewrites the same name
// with the same bytes.
type memory struct {
	naming  sinks.Naming
	mu      sync.Mutex
	objects map[string]string
}

func (m *memory) WriteBatch(_ context.Context, b *sinks.Batch) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, p := range m.naming.Parts(b) { // one object per time bucket, named from the batch
		m.objects[p.Name] = string(p.Content())
		n += int64(len(p.Content()))
	}
	return n, nil
}

func (m *memory) Close() error { return nil }

// batches is a spout that sends two batches of two records, the way the
// kafka spout sends its planned offset ranges.
type batches struct {
	out  spout.Collector
	sent int
	left int
}

func (s *batches) Open(_ context.Context, _ *topology.TaskContext, out spout.Collector) error {
	s.out, s.left = out, 2
	return nil
}

func (s *batches) NextTuple(context.Context) error {
	if s.sent == 2 {
		if s.left == 0 {
			return spout.ErrStop
		}
		return nil
	}
	seq := s.sent
	s.sent++
	meta := &tuple.BatchMeta{ID: fmt.Sprintf("events/00000/%012d", seq), Source: "events", Seq: uint64(seq),
		Start: int64(2 * seq), End: int64(2*seq + 2), Records: 2}
	var msgs []spout.Message
	for off := meta.Start; off < meta.End; off++ {
		msgs = append(msgs, spout.Message{ID: fmt.Sprintf("events/0/%d", off), BatchID: meta.ID,
			Values: tuple.Values{fmt.Sprintf(`{"offset":%d}`, off)}})
	}
	s.out.(spout.BatchSender).SendBatch(seq, meta, msgs)
	return nil
}

func (s *batches) Ack(any)      { s.left-- }
func (s *batches) Fail(any)     {}
func (s *batches) Close() error { return nil }

// A sink for a new backend: a Writer that writes one named, ordered batch
// at a time, registered with sinks.Type. The shared sink layer does the
// rest: it buffers each batch until it is complete, orders its records by
// tuple id, names the objects from the batch, retries failed writes with
// backoff (holding the batch's tuples meanwhile: backpressure), and acks
// the batch once it is written.
func ExampleType() {
	mem := &memory{objects: map[string]string{}}
	reg := registry.New()
	reg.MustRegister(
		sinks.Type("memory_sink", "keeps each batch in memory",
			func() *MemoryConfig { return &MemoryConfig{Common: sinks.DefaultCommon()} },
			func(_ context.Context, c *MemoryConfig, _ *topology.TaskContext) (sinks.Writer, error) {
				mem.naming = c.Naming("")
				return mem, nil
			}),
		registry.Spout[registry.NoConfig]{Name: "batches", Outputs: registry.Emits("value"),
			New: func(*registry.NoConfig) (spout.Spout, error) { return &batches{}, nil }},
	)
	topo, err := topology.Decode([]byte(`{"name": "example",
	  "spouts": [{"id": "events", "type": "batches"}],
	  "bolts": [{"id": "out", "type": "memory_sink", "config": {"field": "value"},
	             "inputs": [{"component": "events", "grouping": "batch"}]}]}`), reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := local.Run(context.Background(), topo, local.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(mem.objects)) {
		fmt.Printf("%s\n%s", name, mem.objects[name])
	}
	// Output:
	// example/events/00000/000000000000-0000000000000000000-0000000000000000002.jsonl
	// {"offset":0}
	// {"offset":1}
	// example/events/00000/000000000001-0000000000000000002-0000000000000000004.jsonl
	// {"offset":2}
	// {"offset":3}
}
