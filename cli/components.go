package cli

// The component types every gale binary has: the built-in demo types, the
// Kafka spout, the multilang "shell" bolt and spout, and the file, HDFS and
// Elasticsearch sinks. The Ceph sink (cgo) links in only with the ceph
// build tag (components_ceph.go).
import (
	_ "github.com/gale-stream/gale/bolt/builtin"
	_ "github.com/gale-stream/gale/bolt/shell"
	_ "github.com/gale-stream/gale/sinks"
	_ "github.com/gale-stream/gale/sinks/elasticsearch"
	_ "github.com/gale-stream/gale/sinks/hdfs"
	_ "github.com/gale-stream/gale/spout/builtin"
	_ "github.com/gale-stream/gale/spout/kafka"
	_ "github.com/gale-stream/gale/spout/shell"
)
