// Package s3test is an S3 client of the tests' own, against the RADOS
// Gateway testenv starts (testenv/testenv up rgw): buckets that are removed
// with what they hold when the test ends, and raw reads (bytes, metadata,
// uploads in progress) to check what the s3_sink wrote beside it.
package s3test

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
	"github.com/aws/smithy-go"

	"github.com/gale-stream/gale/internal/testenv"
)

// Client returns a client of the testenv gateway with the test user's keys.
func Client(tb testing.TB) *s3.Client {
	tb.Helper()
	env := testenv.S3(tb)
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

// UniqueBucket returns a bucket name for tb unique across runs and
// processes (at most 63 characters).
func UniqueBucket(tb testing.TB, what string) string {
	n := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(tb.Name()), "-"), "-")
	suffix := fmt.Sprintf("-%d-%08x", os.Getpid()%100000, rand.Uint32())
	name := "gale-" + what + "-" + n
	if len(name) > 63-len(suffix) {
		name = strings.TrimRight(name[:63-len(suffix)], "-")
	}
	return name + suffix
}

// TempBucket creates a bucket for tb and removes it, with what it holds,
// when tb ends.
func TempBucket(tb testing.TB, c *s3.Client) string {
	tb.Helper()
	b := UniqueBucket(tb, "t")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		tb.Fatalf("create bucket %s: %v", b, err)
	}
	DropBucket(tb, c, b)
	return b
}

// DropBucket removes bucket b, its objects and its uploads in progress
// when tb ends (a bucket that does not exist then is fine).
func DropBucket(tb testing.TB, c *s3.Client, b string) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, key := range Keys(tb, c, b) {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String(key)}); err != nil {
				tb.Errorf("delete s3://%s/%s: %v", b, key, err)
			}
		}
		for _, u := range Uploads(tb, c, b) {
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: u.Key, UploadId: u.UploadId}); err != nil {
				tb.Errorf("abort upload of s3://%s/%s: %v", b, aws.ToString(u.Key), err)
			}
		}
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil && !noSuchBucket(err) {
			tb.Errorf("delete bucket %s: %v", b, err)
		}
	})
}

func noSuchBucket(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket"
}

// Keys returns every key of bucket b (all pages); none when the bucket
// does not exist.
func Keys(tb testing.TB, c *s3.Client, b string) []string {
	tb.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if noSuchBucket(err) {
			return nil
		}
		if err != nil {
			tb.Fatalf("list s3://%s: %v", b, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Uploads returns the multipart uploads in progress in bucket b.
func Uploads(tb testing.TB, c *s3.Client, b string) []types.MultipartUpload {
	tb.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if noSuchBucket(err) {
		return nil
	}
	if err != nil {
		tb.Fatalf("list the uploads of s3://%s: %v", b, err)
	}
	return out.Uploads
}

// Objects returns the stored bytes of every object of bucket b.
func Objects(tb testing.TB, c *s3.Client, b string) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	for _, k := range Keys(tb, c, b) {
		out[k] = Get(tb, c, b, k)
	}
	return out
}

// Get returns the stored bytes of s3://b/key.
func Get(tb testing.TB, c *s3.Client, b, key string) []byte {
	tb.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		tb.Fatalf("get s3://%s/%s: %v", b, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		tb.Fatalf("read s3://%s/%s: %v", b, key, err)
	}
	return data
}

// Head returns the head (size, ETag, metadata) of s3://b/key.
func Head(tb testing.TB, c *s3.Client, b, key string) *s3.HeadObjectOutput {
	tb.Helper()
	out, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		tb.Fatalf("head s3://%s/%s: %v", b, key, err)
	}
	return out
}
