package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3Env_String: printing the environment never shows the secret key.
func TestS3Env_String(t *testing.T) {
	e := S3Env{Endpoint: "http://127.0.0.1:7480", AccessKey: "AKIDEXAMPLE", SecretKey: "s3cr3t-v4lue", Region: "us-east-1"}
	for _, s := range []string{fmt.Sprint(e), fmt.Sprintf("%v %+v %#v %s", e, e, e, e), fmt.Sprint(&e)} {
		if strings.Contains(s, e.SecretKey) || !strings.Contains(s, e.AccessKey) {
			t.Errorf("%q shows the secret key, or not the access key", s)
		}
	}
}

// TestS3_RoundTrip creates a bucket on the RADOS Gateway testenv started,
// puts 1 MiB with SigV4, lists, heads, gets it back, deletes both.
func TestS3_RoundTrip(t *testing.T) {
	env := S3(t)
	c := s3.New(s3.Options{Region: env.Region, BaseEndpoint: aws.String(env.Endpoint), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: env.AccessKey, SecretAccessKey: env.SecretKey}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bucket := fmt.Sprintf("gale-testenv-roundtrip-%d", time.Now().UnixNano())
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	data := make([]byte, 1<<20)
	rand.Read(data)
	defer func() {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b")}); err != nil {
			t.Errorf("delete object: %v", err)
		}
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Errorf("delete bucket: %v", err)
		}
	}()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("put: %v", err)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "a/b" {
		t.Fatalf("list: %v, %v", list, err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b")})
	if err != nil || aws.ToInt64(h.ContentLength) != 1<<20 {
		t.Fatalf("head: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b")})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %d bytes, %v; want the 1 MiB put", len(got), err)
	}
}
