package s3_test

import (
	"fmt"

	"github.com/gale-stream/gale/sinks/s3"
)

// A config for Ceph's RADOS Gateway with the keys in two environment
// variables; Validate names the key at fault.
func ExampleConfig_Validate() {
	c := s3.NewConfig()
	c.Endpoint, c.Bucket = "http://127.0.0.1:7480", "gale-archive"
	c.AccessKeyEnv, c.SecretKeyEnv = "RGW_ACCESS_KEY", "RGW_SECRET_KEY"
	c.Prefix, c.Field, c.TimePartition = "raw", "value", "hour"
	if err := c.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("objects end in", c.Naming().Ext)

	c.PartBytes = 1 << 20
	fmt.Println(c.Validate())
	// Output:
	// objects end in .jsonl.lz4
	// s3 sink (bucket "gale-archive"): part_bytes 1048576: want 5242880 (5 MiB, S3's smallest part) to 5368709120 (5 GiB): invalid sink configuration
}
