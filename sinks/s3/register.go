package s3

import (
	"context"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/topology"
)

// Registration is kept to this file, so that moving it to another
// registration API touches nothing else.

// Type is the "s3_sink" bolt type.
func Type() registry.BoltType {
	return sinks.SinkType(TypeName,
		"writes each batch as one S3 object (lz4, optionally encrypted): one PutObject, or a multipart upload above multipart_threshold_bytes, aborted on failure",
		NewConfig, func(c *Config) *sinks.Common { return &c.Common },
		func(c *Config) (*sinks.Bolt, error) {
			return sinks.NewBolt(c.Options("s3", func(ctx context.Context, _ *topology.TaskContext) (sinks.Writer, error) {
				return c.Open(ctx) // one client (and connection pool) per task
			})), nil
		})
}

// Register adds the "s3_sink" type to r.
func Register(r *registry.Registry) error { return r.RegisterBolt(Type()) }

func init() { registry.MustRegisterBolt(Type()) }
