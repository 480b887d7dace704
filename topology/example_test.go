package topology_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gale-stream/gale/topology"
)

func ExampleDecode() {
	data := []byte(`{
  "name": "wordcount",
  "spouts": [{"id": "sentences", "type": "generator"}],
  "bolts": [
    {"id": "split", "type": "splitt", "inputs": [{"component": "sentences"}]},
    {"id": "count", "type": "count", "paralelism": 2,
     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}
  ]
}`)
	_, err := topology.Decode(data, newCatalog())
	fmt.Println(err)
	// Output:
	// bolts[0].type: unknown bolt type "splitt"; known bolt types: count, filter, print, router, split (did you mean "split"?)
	// bolts[1].paralelism: unknown field; known fields: id, type, parallelism, config, inputs, outputs, tick, autoscale (did you mean "parallelism"?)
}

func ExampleDecode_valid() {
	data := []byte(`{
  "name": "wordcount",
  "config": {"topology.acker.executors": 2},
  "spouts": [{"id": "sentences", "type": "generator"}],
  "bolts": [
    {"id": "split", "type": "split", "parallelism": 2, "inputs": [{"component": "sentences"}]},
    {"id": "count", "type": "count", "parallelism": 2, "tick": "1s",
     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}
  ]
}`)
	topo, err := topology.Decode(data, newCatalog())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ackers:", topo.Settings.Ackers, "timeout:", topo.Settings.MessageTimeout)
	for _, c := range append(topo.Spouts, topo.Bolts...) {
		fmt.Printf("%s %s x%d inputs=%v streams=%v\n", c.Kind, c.ID, c.Parallelism, c.Inputs, c.Streams)
	}
	// Output:
	// ackers: 2 timeout: 30s
	// spout sentences x1 inputs=[] streams=map[default:[sentence]]
	// bolt split x2 inputs=[{sentences default shuffle []}] streams=map[default:[word]]
	// bolt count x2 inputs=[{split default fields [word]}] streams=map[default:[word count]]
}

func ExampleNewBuilder() {
	b := topology.NewBuilder("wordcount")
	b.SetConfig(topology.ConfigAckers, 2)
	b.Spout("sentences", "generator", 1).Config(map[string]any{"sentences": []string{"the cow jumped over the moon"}})
	b.Bolt("split", "split", 2).ShuffleGrouping("sentences")
	b.Bolt("count", "count", 2).FieldsGrouping("split", "word").Tick(time.Second)
	topo, err := b.Build(newCatalog())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range topo.Bolts {
		fmt.Printf("%s reads %v and emits %v\n", c.ID, c.Inputs, c.Streams)
	}

	// Mistakes are all reported by Build, with the paths Decode would use.
	b.Bolt("print", "print", 1).FieldsGrouping("count", "wrod").ShuffleGrouping("nowhere")
	_, err = b.Build(newCatalog())
	fmt.Println(err)
	// Output:
	// split reads [{sentences default shuffle []}] and emits map[default:[word]]
	// count reads [{split default fields [word]}] and emits map[default:[word count]]
	// bolts[2].inputs[0].fields[0]: field "wrod" is not in stream "default" of "count" (its fields: word, count) (did you mean "word"?)
	// bolts[2].inputs[1].component: unknown component "nowhere"; known components: count, print, sentences, split
}

func ExampleDecodeConfig() {
	type SinkConfig struct {
		Path    string            `json:"path"`
		Flush   topology.Duration `json:"flush"`
		Workers int               `json:"workers"`
		Labels  map[string]string `json:"labels"`
	}
	cfg := SinkConfig{Workers: 4} // defaults
	err := topology.DecodeConfig(json.RawMessage(`{"path": "/tmp/out", "flush": "2s"}`), &cfg, "bolts[3].config")
	fmt.Printf("%+v %v\n", cfg, err)

	err = topology.DecodeConfig(json.RawMessage(`{"path": 1, "flush": "often", "labels": {"a": 2}, "worker": 1}`), &cfg, "bolts[3].config")
	fmt.Println(err)
	// Output:
	// {Path:/tmp/out Flush:2000000000 Workers:4 Labels:map[]} <nil>
	// bolts[3].config.path: want a string, got number 1
	// bolts[3].config.flush: want a duration such as "1.5s" or "200ms", got string "often"
	// bolts[3].config.labels["a"]: want a string, got number 2
	// bolts[3].config.worker: unknown field; known fields: path, flush, workers, labels (did you mean "workers"?)
}

func ExampleEncode() {
	b := topology.NewBuilder("tiny")
	b.Spout("s", "generator", 1)
	b.Bolt("p", "print", 1).ShuffleGrouping("s")
	topo, _ := b.Build(newCatalog())
	data, _ := topology.Encode(topo)
	fmt.Print(string(data))
	// Output:
	// {
	//   "name": "tiny",
	//   "spouts": [
	//     {
	//       "id": "s",
	//       "type": "generator",
	//       "parallelism": 1
	//     }
	//   ],
	//   "bolts": [
	//     {
	//       "id": "p",
	//       "type": "print",
	//       "parallelism": 1,
	//       "inputs": [
	//         {
	//           "component": "s",
	//           "stream": "default",
	//           "grouping": "shuffle"
	//         }
	//       ]
	//     }
	//   ]
	// }
}
