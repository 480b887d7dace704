package s3

import (
	"context"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/topology"
)

// Type is the "s3_sink" bolt type.
func Type() registry.Bolt[Config] {
	return sinks.Type(TypeName,
		"writes each batch as one S3 object (lz4, optionally encrypted): one PutObject, or a multipart upload above multipart_threshold_bytes, aborted on failure",
		NewConfig, func(ctx context.Context, c *Config, _ *topology.TaskContext) (sinks.Writer, error) {
			return c.Open(ctx) // one client (and connection pool) per task
		})
}
