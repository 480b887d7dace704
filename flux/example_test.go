package flux_test

import (
	"fmt"

	"github.com/gale-stream/gale/flux"
)

func ExampleConvert() {
	yaml := `
name: "shell-topology"
spouts:
  - id: "sentence-spout"
    className: "org.apache.storm.flux.wrappers.spouts.FluxShellSpout"
    constructorArgs:
      - ["python3", "sentences.py"]
      - ["sentence"]
bolts:
  - id: "count"
    className: "org.apache.storm.testing.TestWordCounter"
    parallelism: ${count.parallelism}
streams:
  - from: "sentence-spout"
    to: "count"
    grouping:
      type: FIELDS
      args: ["sentence"]
`
	res, err := flux.Convert([]byte(yaml), "topology.yaml", flux.Options{
		Properties: map[string]string{"count.parallelism": "2"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.JSON))

	_, err = flux.Convert([]byte("name: x\nspouts:\n  - id: s\n    className: com.example.MySpout\n"), "bad.yaml", flux.Options{})
	fmt.Println(err)
	// Output:
	// {
	//   "name": "shell-topology",
	//   "spouts": [
	//     {
	//       "id": "sentence-spout",
	//       "type": "shell",
	//       "config": {
	//         "command": [
	//           "python3",
	//           "sentences.py"
	//         ]
	//       },
	//       "outputs": {
	//         "default": [
	//           "sentence"
	//         ]
	//       }
	//     }
	//   ],
	//   "bolts": [
	//     {
	//       "id": "count",
	//       "type": "count",
	//       "parallelism": 2,
	//       "config": {
	//         "field": "word"
	//       },
	//       "inputs": [
	//         {
	//           "component": "sentence-spout",
	//           "grouping": "fields",
	//           "fields": [
	//             "sentence"
	//           ]
	//         }
	//       ]
	//     }
	//   ]
	// }
	// bad.yaml:4: spouts[0].className: Java class "com.example.MySpout" has no Gale equivalent: Gale runs no Java: write the component in any language with org.apache.storm.flux.wrappers.bolts.FluxShellBolt or org.apache.storm.flux.wrappers.spouts.FluxShellSpout (Storm multilang), or use a Gale type (className "gale:NAME"; gale types lists them)
}
