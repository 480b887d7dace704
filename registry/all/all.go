// Package all is the bundle of every component type that ships with
// Gale: the demo spouts and bolts, the Kafka spout, the multilang "shell"
// spout and bolt, and the sinks (files, HDFS, Elasticsearch, Kafka, S3; Ceph
// only in binaries built with the ceph build tag, since it needs cgo and
// librados). The gale command line registers them; so can a program that
// embeds Gale:
//
//	reg := all.Registry()          // a new registry with every built-in type
//	reg.MustRegister(myBoltType)   // and yours
//	topo, err := topology.Decode(data, reg)
//
// Importing a type's own package registers nothing: the types reach a
// registry only through Register (here or the package's own Type).
package all

import (
	boltbuiltin "github.com/gale-stream/gale/bolt/builtin"
	boltshell "github.com/gale-stream/gale/bolt/shell"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks/elasticsearch"
	"github.com/gale-stream/gale/sinks/file"
	"github.com/gale-stream/gale/sinks/hdfs"
	"github.com/gale-stream/gale/sinks/kafkasink"
	"github.com/gale-stream/gale/sinks/s3"
	spoutbuiltin "github.com/gale-stream/gale/spout/builtin"
	"github.com/gale-stream/gale/spout/kafka"
	spoutshell "github.com/gale-stream/gale/spout/shell"
)

// Types returns every built-in component type of this binary.
func Types() []registry.Type {
	types := append(spoutbuiltin.Types(), kafka.Type(), spoutshell.Type())
	types = append(types, boltbuiltin.Types()...)
	types = append(types, boltshell.Type(),
		file.Type(), hdfs.Type(), elasticsearch.Type(), kafkasink.Type(), s3.Type())
	return append(types, optional()...)
}

// Register adds every built-in type to r; a type already there is an
// error (registry.ErrDuplicate).
func Register(r *registry.Registry) error { return r.Register(Types()...) }

// Registry returns a new registry holding every built-in type.
func Registry() *registry.Registry {
	r := registry.New()
	if err := Register(r); err != nil {
		panic(err) // the built-in types are fixed: a clash is a bug
	}
	return r
}
