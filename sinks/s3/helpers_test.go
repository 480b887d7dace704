package s3

// Helpers of the integration tests, which run against the RADOS Gateway
// testenv starts:
//
//	testenv/testenv up rgw && eval "$(testenv/testenv env)"
//	go test -race -count=1 ./sinks/s3/

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// rawClient is an S3 client of the tests' own, for what they check beside
// the writer (raw bytes, ETags, uploads in progress).
func rawClient(t *testing.T) *s3.Client {
	t.Helper()
	env := testenv.S3(t)
	return s3.New(s3.Options{
		Region:       env.Region,
		BaseEndpoint: aws.String(env.Endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: env.AccessKey, SecretAccessKey: env.SecretKey}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9-]+`)

// uniqueBucket returns a bucket name for t unique across runs and
// processes (at most 63 characters).
func uniqueBucket(t *testing.T, what string) string {
	n := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	suffix := fmt.Sprintf("-%d-%08x", os.Getpid()%100000, rand.Uint32())
	name := "gale-" + what + "-" + n
	if len(name) > 63-len(suffix) {
		name = strings.TrimRight(name[:63-len(suffix)], "-")
	}
	return name + suffix
}

// tempBucket creates a bucket for t and removes it, with what it holds,
// when t ends.
func tempBucket(t *testing.T, c *s3.Client) string {
	t.Helper()
	b := uniqueBucket(t, "t")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("create bucket %s: %v", b, err)
	}
	dropBucket(t, c, b)
	return b
}

// dropBucket removes bucket b, its objects and its uploads in progress
// when t ends.
func dropBucket(t *testing.T, c *s3.Client, b string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, key := range listKeys(t, c, b) {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String(key)}); err != nil {
				t.Errorf("delete s3://%s/%s: %v", b, key, err)
			}
		}
		for _, u := range uploads(t, c, b) {
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: u.Key, UploadId: u.UploadId}); err != nil {
				t.Errorf("abort upload of s3://%s/%s: %v", b, aws.ToString(u.Key), err)
			}
		}
		_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
		if err != nil && !errors.Is(requestError("", b, "", err), ErrNoSuchBucket) {
			t.Errorf("delete bucket %s: %v", b, err)
		}
	})
}

// listKeys returns every key of bucket b (all pages); none when the bucket
// does not exist.
func listKeys(t *testing.T, c *s3.Client, b string) []string {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if errors.Is(requestError("", b, "", err), ErrNoSuchBucket) {
			return nil
		}
		if err != nil {
			t.Fatalf("list s3://%s: %v", b, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// uploads returns the multipart uploads in progress in bucket b.
func uploads(t *testing.T, c *s3.Client, b string) []types.MultipartUpload {
	t.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if errors.Is(requestError("", b, "", err), ErrNoSuchBucket) {
		return nil
	}
	if err != nil {
		t.Fatalf("list the uploads of s3://%s: %v", b, err)
	}
	return out.Uploads
}

// rawObjects returns the stored bytes of every object of bucket b.
func rawObjects(t *testing.T, c *s3.Client, b string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, k := range listKeys(t, c, b) {
		out[k] = getRaw(t, c, b, k)
	}
	return out
}

func getRaw(t *testing.T, c *s3.Client, b, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", b, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read s3://%s/%s: %v", b, key, err)
	}
	return data
}

func head(t *testing.T, c *s3.Client, b, key string) *s3.HeadObjectOutput {
	t.Helper()
	out, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("head s3://%s/%s: %v", b, key, err)
	}
	return out
}

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
