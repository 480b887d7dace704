package flux

import (
	"strings"

	"github.com/gale-stream/gale/topology"
)

// GalePrefix marks a className naming a Gale component type
// ("gale:count"); a bare type name without dots ("count") works too.
const GalePrefix = "gale:"

// Class is an entry of the className table: a Storm class with a Gale
// equivalent.
type Class struct {
	Kind topology.Kind
	// Type is the Gale component type it becomes.
	Type string
	// Doc says how its constructor arguments, config methods and
	// properties map.
	Doc string

	shell bool
	// build sets the component's config from the vertex (Storm classes
	// other than the shell wrappers).
	build func(c *conv, vx *vertex, g *galeComp)
}

// The Java class names Flux files use for multilang components.
const (
	ShellSpoutClass = "org.apache.storm.flux.wrappers.spouts.FluxShellSpout"
	ShellBoltClass  = "org.apache.storm.flux.wrappers.bolts.FluxShellBolt"
)

// testWords are TestWordSpout's words.
var testWords = []string{"nathan", "mike", "jackson", "golda", "bertels"}

// Classes is the className table: Storm classes with a Gale equivalent.
var Classes = map[string]*Class{
	ShellSpoutClass: {Kind: topology.KindSpout, Type: "shell", shell: true,
		Doc: "constructorArgs [command, output fields]; configMethods setDefaultStream, setNamedStream, addComponentConfig (handshake conf), setEnv, changeChildCWD"},
	ShellBoltClass: {Kind: topology.KindBolt, Type: "shell", shell: true,
		Doc: "as FluxShellSpout"},
	"org.apache.storm.flux.wrappers.bolts.LogInfoBolt": {Kind: topology.KindBolt, Type: "print",
		Doc: "prints every tuple to stdout (Storm logs it at INFO)"},
	"org.apache.storm.testing.TestWordSpout": {Kind: topology.KindSpout, Type: "generator",
		Doc: `emits one of nathan, mike, jackson, golda, bertels (field "word") 10 times a second per task, unanchored, as Storm's does`,
		build: func(c *conv, vx *vertex, g *galeComp) {
			if vx.args != nil && (len(vx.args.elems) > 1 || len(vx.args.elems) == 1 && vx.args.elems[0].kind != kBool) {
				c.errs.add(vx.argsAt, ErrInvalid, "TestWordSpout takes no argument or one boolean (isDistributed)")
			}
			sentences := &val{kind: kSeq}
			for _, w := range testWords {
				sentences.elems = append(sentences.elems, &val{kind: kString, s: w})
			}
			g.config().set("sentences", sentences)
			g.config().set("rate", &val{kind: kNumber, s: "10"})
			g.config().set("reliable", &val{kind: kBool, b: false})
			g.config().set("field", &val{kind: kString, s: "word"})
		}},
	"org.apache.storm.testing.TestWordCounter": {Kind: topology.KindBolt, Type: "count",
		Doc: `counts the field "word" and emits {word, count} on every update (Storm's counts the first field, whatever its name)`,
		build: func(c *conv, vx *vertex, g *galeComp) {
			if vx.args != nil && len(vx.args.elems) > 0 {
				c.errs.add(vx.argsAt, ErrInvalid, "TestWordCounter takes no constructor argument")
			}
			g.config().set("field", &val{kind: kString, s: "word"})
		}},
}

// noEquivalent hints, for well-known Storm classes Gale has a different
// answer for.
var noEquivalent = map[string]string{
	"org.apache.storm.kafka.spout.KafkaSpout":         `use className "gale:kafka" with Gale's Kafka spout config (README, "Reading Kafka"): its batches replay identically, which KafkaSpoutConfig cannot express`,
	"org.apache.storm.kafka.bolt.KafkaBolt":           `use className "gale:kafka_sink" with its config (README, "Writing to ... Kafka")`,
	"org.apache.storm.hdfs.bolt.HdfsBolt":             `use className "gale:hdfs_sink" with its config`,
	"org.apache.storm.hdfs.bolt.SequenceFileBolt":     `use className "gale:hdfs_sink" with its config`,
	"org.apache.storm.elasticsearch.bolt.EsIndexBolt": `use className "gale:es_sink" with its config`,
	"org.apache.storm.task.ShellBolt":                 `use "` + ShellBoltClass + `" with constructorArgs [command, output fields]`,
	"org.apache.storm.spout.ShellSpout":               `use "` + ShellSpoutClass + `" with constructorArgs [command, output fields]`,
	"org.apache.storm.topology.base.BaseWindowedBolt": `Gale has no windowed bolt type here yet`,
	"org.apache.storm.topology.base.BaseStatefulBolt": `Gale has no stateful bolt type here yet`,
}

const genericHint = `Gale runs no Java: write the component in any language with ` + ShellBoltClass + ` or ` + ShellSpoutClass +
	` (Storm multilang), or use a Gale type (className "gale:NAME"; gale types lists them)`

// galeTypeName returns the Gale type a className names, if it names one.
func galeTypeName(className string) (string, bool) {
	if t, ok := strings.CutPrefix(className, GalePrefix); ok {
		return t, true
	}
	if className == "" || strings.ContainsAny(className, ".$/ ") {
		return "", false
	}
	return className, true
}
