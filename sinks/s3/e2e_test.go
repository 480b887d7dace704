package s3

import (
	"bytes"
	"sync"
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// TestConformance: the S3 sink passes the suite every sink passes, against
// the testenv RADOS Gateway, each run into a bucket of its own; a client
// of the test's own finds exactly the inventory's objects with those bytes
// in the bucket, no upload left in progress, and each object's gale-batch
// metadata names the batch its key encodes.
func TestConformance(t *testing.T) {
	sinktest.Conformance(t, backend(t))
}

// TestFormats: the sink writes Avro and Parquet objects through the real
// sink path (sinktest.Formats), checked as by TestConformance.
func TestFormats(t *testing.T) {
	sinktest.Formats(t, backend(t))
}

// backend is the backend of the suites: the sink's config for a place, and
// the check of what a run left there.
func backend(t *testing.T) sinktest.Backend[Config] {
	env := testenv.S3(t)
	raw := rawClient(t)
	outer := t // the buckets outlive the subtest that makes them (IdempotentRewrite writes again)
	var mu sync.Mutex
	buckets := map[string]string{} // place -> bucket
	bucketOf := func(place string) string {
		mu.Lock()
		defer mu.Unlock()
		if buckets[place] == "" {
			buckets[place] = tempBucket(outer, raw)
		}
		return buckets[place]
	}
	return sinktest.Backend[Config]{
		Type: Type(),
		Config: func(t testing.TB, place string) map[string]any {
			return map[string]any{"endpoint": env.Endpoint, "region": env.Region, "bucket": bucketOf(place), "prefix": "gale",
				"access_key_env": testenv.S3AccessKeyVar, "secret_key_env": testenv.S3SecretKeyVar}
		},
		Check: func(t testing.TB, place string, got sinktest.Stored) {
			bucket := bucketOf(place)
			objects := rawObjects(t, raw, bucket)
			for key, data := range objects {
				if !bytes.Equal(got.Raw[key], data) {
					t.Errorf("%s: object %s (%d bytes) is not in the sink's inventory with those bytes", place, key, len(data))
				}
				m, ok := sinks.ParseName(key, "")
				if meta := head(t, raw, bucket, key).Metadata[MetaPrefix+sinks.MetaBatch]; !ok || meta != m.ID {
					t.Errorf("%s: gale-batch %q, the key says %q", key, meta, m.ID)
				}
			}
			if len(objects) != len(got.Raw) {
				t.Errorf("%s: %d objects in the bucket, the inventory lists %d", place, len(objects), len(got.Raw))
			}
			if u := uploads(t, raw, bucket); len(u) != 0 {
				t.Errorf("%d uploads in progress", len(u))
			}
		},
	}
}
