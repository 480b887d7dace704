package s3

// Helpers of the integration tests, which run against the RADOS Gateway
// testenv starts:
//
//	testenv/testenv up rgw && eval "$(testenv/testenv env)"
//	go test -race -count=1 ./sinks/s3/

import (
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks/s3/s3test"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// The tests' own S3 client and buckets (package s3test).
var (
	rawClient    = s3test.Client
	uniqueBucket = s3test.UniqueBucket
	tempBucket   = s3test.TempBucket
	dropBucket   = s3test.DropBucket
	listKeys     = s3test.Keys
	uploads      = s3test.Uploads
	rawObjects   = s3test.Objects
	getRaw       = s3test.Get
	head         = s3test.Head
)

// testConfig returns a validated config for bucket with the test user's
// keys (the variables testenv exports).
func testConfig(t *testing.T, bucket string) *Config {
	t.Helper()
	env := testenv.S3(t)
	c := NewConfig()
	c.Endpoint, c.Region, c.Bucket = env.Endpoint, env.Region, bucket
	c.AccessKeyEnv, c.SecretKeyEnv = testenv.S3AccessKeyVar, testenv.S3SecretKeyVar
	c.Field = "value"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func openWriter(t *testing.T, c *Config) *Writer { return sinktest.Open(t, c.Open) }
