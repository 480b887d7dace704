package stateful_test

import (
	"fmt"
	"strconv"

	"github.com/gale-stream/gale/bolt"
	"github.com/gale-stream/gale/bolt/stateful"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// SumConfig configures the "sum" bolt of the example.
type SumConfig struct {
	Key   string               `json:"key"`
	Field string               `json:"field"`
	State stateful.StoreConfig `json:"state"`
}

// A bolt type "sum" that keeps, exactly once, the running sum of a field
// per key and emits {key, sum} after each input. Its topology reads a
// Kafka spout with the fields grouping on the key; the state lives in a
// Kafka topic.
func Example() {
	reg := all.Registry()
	reg.MustRegister(registry.Bolt[SumConfig]{
		Name:   "sum",
		Config: func() *SumConfig { return &SumConfig{Key: "key", Field: "bytes"} },
		Outputs: registry.Declare(func(c *SumConfig, _ []tuple.Fields) (topology.Streams, error) {
			return topology.Streams{tuple.DefaultStream: {c.Key, "sum"}}, nil
		}),
		New: func(c *SumConfig) (bolt.Bolt, error) {
			sum := func(key string, value []byte, t *tuple.Tuple) ([]byte, []stateful.Output, error) {
				n, _ := strconv.ParseInt(string(value), 10, 64) // 0 for a new key
				add, err := strconv.ParseInt(t.String(c.Field), 10, 64)
				if err != nil {
					return nil, nil, err // the tuple is rejected and reported; the sum keeps its value
				}
				n += add
				return strconv.AppendInt(nil, n, 10), []stateful.Output{{Values: tuple.Values{key, n}}}, nil
			}
			return stateful.New(stateful.UpdateFunc(sum), stateful.Options{KeyField: c.Key, Store: c.State}), nil
		},
	})
	b := topology.NewBuilder("bytes-per-host")
	b.Spout("events", "kafka", 2).Config(map[string]any{
		"brokers": []string{"127.0.0.1:9092"}, "topics": []string{"access"}, "deserializer": "json",
		"fields": []string{"host", "bytes"}, "ledger": map[string]any{"kind": "kafka"}})
	b.Bolt("sum", "sum", 3).FieldsGrouping("events", "host").Config(map[string]any{
		"key": "host", "field": "bytes",
		"state": map[string]any{"kind": "kafka", "brokers": []string{"127.0.0.1:9092"}}})
	topo, err := b.Build(reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(topo.Name, "validates; run it with local.Run or submit it to a cluster")
	// Output: bytes-per-host validates; run it with local.Run or submit it to a cluster
}
