package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/gale-stream/gale/cluster/store"
)

func ExampleFileStore() {
	dir, _ := os.MkdirTemp("", "gale-store-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := store.OpenFileStore(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	// submit
	t, err := s.PutTopology(ctx, store.Topology{Name: "wc", JSON: json.RawMessage(`{"name":"wc"}`)}, 0)
	fmt.Println(t.Name, t.Version, t.Status, err)
	// a second submit of the same name
	_, err = s.PutTopology(ctx, store.Topology{Name: "wc"}, 0)
	fmt.Println(errors.Is(err, store.ErrExists), err)

	// rebalance, from the version read
	t.Parallelism = map[string]int{"split": 4}
	t, err = s.PutTopology(ctx, t, t.Version)
	fmt.Println(t.Version, t.Parallelism, err)
	// a writer that read version 1 loses
	_, err = s.PutTopology(ctx, store.Topology{Name: "wc", Status: store.StatusKilled}, 1)
	fmt.Println(errors.Is(err, store.ErrConflict), err)

	// assignments: epochs only grow
	_, err = s.PutAssignment(ctx, store.Assignment{Topology: "wc", Epoch: 2, Tasks: map[string]string{"split/0": "w1"}})
	fmt.Println(err)
	_, err = s.PutAssignment(ctx, store.Assignment{Topology: "wc", Epoch: 1})
	fmt.Println(errors.Is(err, store.ErrStale), err)
	a, _ := s.GetAssignment(ctx, "wc")
	fmt.Println(a.Epoch, a.Tasks)
	// Output:
	// wc 1 active <nil>
	// true put topology "wc": expected version 0, stored version 1: store: record already exists
	// 2 map[split:4] <nil>
	// true put topology "wc": expected version 1, stored version 2: store: version conflict
	// <nil>
	// true put assignment "wc": epoch 1, stored epoch 2: store: stale assignment epoch
	// 2 map[split/0:w1]
}

func ExampleStore_Watch() {
	dir, _ := os.MkdirTemp("", "gale-store-example")
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	worker, _ := store.OpenFileStore(dir) // a worker watches ...
	defer worker.Close()
	api, _ := store.OpenFileStore(dir) // ... what another process writes
	defer api.Close()

	events, _ := worker.Watch(ctx)
	api.PutTopology(ctx, store.Topology{Name: "wc"}, 0)
	ev := <-events
	t, _ := worker.GetTopology(ctx, ev.Name) // at least the event's version
	fmt.Println(ev, t.Version)
	api.DeleteTopology(ctx, "wc", 1)
	fmt.Println(<-events)
	// Output:
	// topology/wc@1 1
	// topology/wc deleted
}

func ExampleOpenKafkaStore() {
	cfg := store.DefaultKafkaConfig("kafka-1:9092", "kafka-2:9092", "kafka-3:9092")
	cfg.Topic = "gale-cluster-state"
	cfg.ReplicationFactor = 3
	s, err := store.OpenKafkaStore(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	// s is a store.Store; s.Sync(ctx) reads every write completed before it.
}
