package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// TestS3ReplayLeavesOneIdenticalObject: sinktest.CheckRewrite (a batch
// written twice leaves one object with the same bytes), and the object
// has the ETag of one PutObject, its metadata and Content-Type; Objects
// follows the listing's pages.
func TestS3ReplayLeavesOneIdenticalObject(t *testing.T) {
	raw := rawClient(t)
	bucket := tempBucket(t, raw)
	c := testConfig(t, bucket)
	c.Prefix = "gale"
	w := openWriter(t, c)
	name, content := sinktest.CheckRewrite(t, w, c.Naming(), c.codec(), func() map[string][]byte { return rawObjects(t, raw, bucket) })

	want := getRaw(t, raw, bucket, name)
	h := head(t, raw, bucket, name)
	sum := md5.Sum(want)
	if etag := aws.ToString(h.ETag); etag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("ETag %s, want the MD5 of the bytes (one PutObject)", etag)
	}
	if ct := aws.ToString(h.ContentType); ct != "application/x-lz4" {
		t.Errorf("Content-Type %q", ct)
	}
	wantMeta := map[string]string{
		"gale-batch": "events/00003/000000000007", "gale-records": "500", "gale-sha256": sinks.Checksum(content),
		"gale-start": "7000", "gale-end": "7500", "gale-bytes": strconv.Itoa(len(want)),
	}
	if !maps.Equal(h.Metadata, wantMeta) {
		t.Fatalf("metadata:\n got %v\nwant %v", h.Metadata, wantMeta)
	}
	empty := c.Naming().Parts(sinktest.Batch(8, nil))[0].Name
	if m := head(t, raw, bucket, empty).Metadata; m["gale-records"] != "0" || m["gale-sha256"] != sinks.Checksum(nil) {
		t.Fatalf("metadata of the empty batch's object: %v", m)
	}
	w.listPage = 1 // one key a page: Objects follows the pages
	if objs, err := w.Objects(context.Background(), "topo"); err != nil || !slices.Equal(objs, []string{name, empty}) {
		t.Fatalf("Objects with pages of one key = %v, %v; want [%s %s]", objs, err, name, empty)
	}
}

// TestS3MissingBucket: without create_bucket a missing bucket is a clear
// configuration error at open, typed (ErrNoSuchBucket, ErrPermanent);
// with it the sink creates the bucket, and a second writer opens it.
func TestS3MissingBucket(t *testing.T) {
	raw := rawClient(t)
	bucket := uniqueBucket(t, "missing")
	c := testConfig(t, bucket)
	ctx := context.Background()
	w, err := c.Open(ctx)
	if err == nil {
		w.Close()
		t.Fatalf("Open of missing bucket %s succeeded", bucket)
	}
	var re *RequestError
	if !errors.Is(err, sinks.ErrConfig) || !errors.Is(err, ErrNoSuchBucket) || !errors.Is(err, ErrPermanent) ||
		!errors.As(err, &re) || re.Status != 404 || re.Code != "NoSuchBucket" {
		t.Fatalf("Open of a missing bucket: %v; want an ErrConfig, ErrNoSuchBucket, ErrPermanent, a RequestError 404 NoSuchBucket", err)
	}
	if msg := err.Error(); !strings.Contains(msg, strconv.Quote(bucket)) || !strings.Contains(msg, "create_bucket") {
		t.Fatalf("the error does not name the bucket and create_bucket: %v", err)
	}
	t.Logf("Open: %v", err)
	if _, err := raw.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		t.Fatalf("bucket %s was created without create_bucket", bucket)
	}

	c.CreateBucket = true
	dropBucket(t, raw, bucket)
	w = openWriter(t, c)
	if _, err := raw.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("HeadBucket after Open with create_bucket: %v", err)
	}
	b := sinktest.Batch(1, sinktest.JSONLines(10))
	if _, err := w.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	p := c.Naming().Parts(b)[0]
	w2 := openWriter(t, c) // create_bucket on an existing bucket
	if read, err := w2.Read(ctx, p.Name); err != nil || !bytes.Equal(read, p.Content()) {
		t.Fatalf("Read from a second writer = %q, %v", read, err)
	}
}

// TestS3WrongCredentials: a wrong secret key or an unknown access key is a
// typed error at open (ErrAccessDenied, ErrPermanent, with the store's
// code), whose message names the bucket and never a key; missing
// variables are a configuration error naming them.
func TestS3WrongCredentials(t *testing.T) {
	raw := rawClient(t)
	bucket := tempBucket(t, raw)
	env := testenv.S3(t)
	const wrongSecret = "wrong-secret-0123456789abcdefghijklmnopqrs"
	for _, tc := range []struct {
		name, access, secret, code string
	}{
		{"wrong secret key", env.AccessKey, wrongSecret, "SignatureDoesNotMatch"},
		{"unknown access key", "GALEUNKNOWNACCESSKEY", env.SecretKey, "InvalidAccessKeyId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GALE_TEST_S3_AK", tc.access)
			t.Setenv("GALE_TEST_S3_SK", tc.secret)
			c := testConfig(t, bucket)
			c.AccessKeyEnv, c.SecretKeyEnv = "GALE_TEST_S3_AK", "GALE_TEST_S3_SK"
			w, err := c.Open(context.Background())
			if err == nil {
				w.Close()
				t.Fatal("Open succeeded")
			}
			var re *RequestError
			if !errors.Is(err, ErrAccessDenied) || !errors.Is(err, ErrPermanent) || errors.Is(err, ErrNoSuchBucket) ||
				!errors.As(err, &re) || re.Status != 403 || re.Code != tc.code {
				t.Fatalf("Open: %v; want ErrAccessDenied, ErrPermanent, a RequestError 403 %s", err, tc.code)
			}
			msg := err.Error()
			if !strings.Contains(msg, strconv.Quote(bucket)) || !strings.Contains(msg, tc.code) {
				t.Errorf("the error does not name the bucket and the code: %v", err)
			}
			for _, secret := range []string{wrongSecret, env.SecretKey} {
				if strings.Contains(msg, secret) {
					t.Fatal("the error holds a secret key")
				}
			}
			t.Logf("Open: %v", err)
		})
	}
	t.Run("variables not set", func(t *testing.T) {
		c := testConfig(t, bucket)
		c.AccessKeyEnv, c.SecretKeyEnv = "GALE_TEST_S3_NO_SUCH_AK", "GALE_TEST_S3_NO_SUCH_SK"
		_, err := c.Open(context.Background())
		if !errors.Is(err, sinks.ErrConfig) || !strings.Contains(fmt.Sprint(err), "$GALE_TEST_S3_NO_SUCH_AK is not set") {
			t.Fatalf("Open: %v; want an ErrConfig naming $GALE_TEST_S3_NO_SUCH_AK", err)
		}
	})
}

// TestS3DownEndpointIsTransient: with nothing listening at the endpoint,
// Open fails with a RequestError without status that is not ErrPermanent.
func TestS3DownEndpointIsTransient(t *testing.T) {
	env := testenv.S3(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	t.Setenv("GALE_TEST_S3_AK", env.AccessKey)
	t.Setenv("GALE_TEST_S3_SK", env.SecretKey)
	c := NewConfig()
	c.Endpoint, c.Bucket, c.TimeoutSeconds = "http://"+addr, "gale-nowhere", 5
	c.AccessKeyEnv, c.SecretKeyEnv = "GALE_TEST_S3_AK", "GALE_TEST_S3_SK"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err = c.Open(context.Background())
	var re *RequestError
	if !errors.As(err, &re) || re.Status != 0 || errors.Is(err, ErrPermanent) || errors.Is(err, sinks.ErrConfig) {
		t.Fatalf("Open with no store: %v; want a transient RequestError without status", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("the error does not name the endpoint: %v", err)
	}
}
