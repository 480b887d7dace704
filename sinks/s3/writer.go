package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/gale-stream/gale/sinks"
)

// MetaPrefix prefixes the sinks.ObjectMeta keys in an object's user
// metadata: "gale-batch" (sent as the header x-amz-meta-gale-batch),
// "gale-records", "gale-sha256", "gale-start", "gale-end", "gale-bytes".
const MetaPrefix = "gale-"

// Writer writes batches into one bucket, and reads them back
// (sinks.Inventory). It is safe for concurrent use; Close ends it.
type Writer struct {
	client      *s3.Client
	transport   *http.Transport // nil with a test's HTTP client
	bucket      string
	naming      sinks.Naming
	codec       sinks.Codec
	threshold   int64
	partBytes   int64
	concurrency int
	timeout     time.Duration
	where       string // `s3 sink (bucket "b" at http://...)`, for errors
	listPage    int32  // keys per listing page; 0: the store's default (tests set it)
	closed      atomic.Bool
}

var (
	_ sinks.Writer    = (*Writer)(nil)
	_ sinks.Inventory = (*Writer)(nil)
)

// errClosed: the writer was used after Close.
var errClosed = errors.New("writer is closed")

// Open makes the S3 client of c and checks the bucket with one listing
// request (which also proves the credentials), creating the bucket when it
// is missing and create_bucket is set. c must be valid (Validate).
func (c *Config) Open(ctx context.Context) (*Writer, error) {
	w := &Writer{bucket: c.Bucket, naming: c.Naming(), codec: c.codec(), threshold: c.MultipartThresholdBytes,
		partBytes: c.PartBytes, concurrency: c.PartConcurrency, timeout: time.Duration(c.TimeoutSeconds) * time.Second,
		where: c.where()}
	creds := c.credentialSource()
	// fail now, clearly, when the credentials are not there
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", w.where, err)
	}
	hc := c.httpClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64 // parts and batches in flight (Go's default keeps 2)
		if c.TLSCAFile != "" {
			pem, err := os.ReadFile(c.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("%s: tls_ca_file: %w", w.where, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: tls_ca_file %s holds no PEM certificate: %w", w.where, c.TLSCAFile, sinks.ErrConfig)
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		w.transport = tr
		hc = &http.Client{Transport: tr}
	}
	opts := s3.Options{
		Region:       c.Region,
		Credentials:  aws.NewCredentialsCache(creds),
		UsePathStyle: c.pathStyle(),
		HTTPClient:   hc,
		// Recent SDKs add CRC checksums to every upload by default, which
		// S3-compatible stores (Ceph RGW before Squid, older MinIO, ...)
		// refuse; the parts and objects carry Content-MD5 instead.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if c.Endpoint != "" {
		opts.BaseEndpoint = aws.String(c.Endpoint)
	}
	w.client = s3.New(opts)
	if err := w.checkBucket(ctx, c.CreateBucket, c.Region); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// fail wraps the error of op on key (a *RequestError) with the writer's
// description.
func (w *Writer) fail(op, key string, err error) error {
	return fmt.Errorf("%s: %w", w.where, requestError(op, w.bucket, key, err))
}

// call bounds one request (with the SDK's retries of it) by the timeout.
func (w *Writer) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, w.timeout)
}

// checkBucket lists at most one key of the bucket: a missing bucket, wrong
// credentials or a missing permission show at open, not at the first batch.
func (w *Writer) checkBucket(ctx context.Context, create bool, region string) error {
	list := func() error {
		cctx, cancel := w.call(ctx)
		defer cancel()
		_, err := w.client.ListObjectsV2(cctx, &s3.ListObjectsV2Input{Bucket: aws.String(w.bucket), MaxKeys: aws.Int32(1),
			Prefix: aws.String(w.naming.Prefix)})
		if err != nil {
			return requestError("ListObjectsV2", w.bucket, "", err)
		}
		return nil
	}
	err := list()
	if err != nil && !errors.Is(err, ErrNoSuchBucket) {
		return fmt.Errorf("%s: %w", w.where, err)
	}
	if err == nil {
		return nil
	}
	if !create {
		return fmt.Errorf("%s: bucket %q does not exist: create it (aws s3 mb s3://%s, or the store's own tool), or set \"create_bucket\": true to have the sink create it: %w: %w",
			w.where, w.bucket, w.bucket, sinks.ErrConfig, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(w.bucket)}
	if region != DefaultRegion {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	}
	cctx, cancel := w.call(ctx)
	defer cancel()
	if _, err := w.client.CreateBucket(cctx, in); err != nil {
		// another task may have created it meanwhile
		var owned *types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			if list() != nil {
				return w.fail("CreateBucket", "", err)
			}
		}
	}
	if err := list(); err != nil {
		return fmt.Errorf("%s: after creating the bucket: %w", w.where, err)
	}
	return nil
}

// WriteBatch writes b's objects (one per part of sinks.Naming.Parts), each
// with one PutObject, or one multipart upload when its stored form is
// larger than multipart_threshold_bytes; see the package doc. It returns
// the bytes stored.
func (w *Writer) WriteBatch(ctx context.Context, b *sinks.Batch) (int64, error) {
	if w.closed.Load() {
		return 0, fmt.Errorf("%s: %w", w.where, errClosed)
	}
	return sinks.StoreParts(ctx, b, w.naming, w.codec, MetaPrefix, w.where, func(name string, data []byte, meta map[string]string) error {
		if int64(len(data)) > w.threshold {
			return w.multipart(ctx, name, data, meta)
		}
		return w.put(ctx, name, data, meta)
	})
}

// contentType is the Content-Type of the sink's objects, from their
// extension.
func (w *Writer) contentType() string {
	switch ext := w.naming.Ext; {
	case strings.HasSuffix(ext, ".enc"):
		return "application/octet-stream"
	case strings.HasSuffix(ext, ".lz4"):
		return "application/x-lz4"
	case strings.HasSuffix(ext, ".jsonl"):
		return "application/x-ndjson"
	}
	return "text/plain; charset=utf-8"
}

// md5Base64 is the Content-MD5 of data: the store checks what it received.
func md5Base64(data []byte) *string {
	sum := md5.Sum(data)
	return aws.String(base64.StdEncoding.EncodeToString(sum[:]))
}

// put stores data as the object name with one PutObject, which replaces
// an existing object atomically.
func (w *Writer) put(ctx context.Context, name string, data []byte, meta map[string]string) error {
	cctx, cancel := w.call(ctx)
	defer cancel()
	_, err := w.client.PutObject(cctx, &s3.PutObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(name),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), ContentMD5: md5Base64(data),
		ContentType: aws.String(w.contentType()), Metadata: meta})
	if err != nil {
		return w.fail("PutObject", name, err)
	}
	return nil
}

// partSize returns the size of the parts of an object of size bytes:
// part_bytes, or more when the object would need more than MaxParts.
func (w *Writer) partSize(size int64) int64 {
	return max(w.partBytes, (size+MaxParts-1)/MaxParts)
}

// multipart stores data as the object name with a multipart upload: the
// parts are slices of data (no copy), at most part_concurrency uploaded at
// once; the object appears, whole, when the upload completes. On any
// failure, ctx's end included, the upload is aborted, so that its parts do
// not stay behind (and cost storage) until a lifecycle rule removes them.
func (w *Writer) multipart(ctx context.Context, name string, data []byte, meta map[string]string) (err error) {
	cctx, cancel := w.call(ctx)
	created, err := w.client.CreateMultipartUpload(cctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(w.bucket),
		Key: aws.String(name), ContentType: aws.String(w.contentType()), Metadata: meta})
	cancel()
	if err != nil {
		return w.fail("CreateMultipartUpload", name, err)
	}
	id := created.UploadId
	defer func() {
		if err == nil {
			return
		}
		// abort even when ctx ended, within the timeout
		actx, cancel := w.call(context.WithoutCancel(ctx))
		defer cancel()
		_, aerr := w.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(w.bucket),
			Key: aws.String(name), UploadId: id})
		var gone *types.NoSuchUpload // completed after all (a lost answer), or aborted already
		if aerr != nil && !errors.As(aerr, &gone) {
			err = errors.Join(err, w.fail("AbortMultipartUpload", name, aerr))
		}
	}()

	size := int64(len(data))
	partSize := w.partSize(size)
	n := int((size + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.concurrency)
	for i := range n {
		if gctx.Err() != nil {
			break // a part failed: start no more
		}
		chunk := data[int64(i)*partSize : min(int64(i+1)*partSize, size)]
		g.Go(func() error {
			num := aws.Int32(int32(i + 1))
			cctx, cancel := w.call(gctx)
			defer cancel()
			out, err := w.client.UploadPart(cctx, &s3.UploadPartInput{Bucket: aws.String(w.bucket), Key: aws.String(name),
				UploadId: id, PartNumber: num, Body: bytes.NewReader(chunk), ContentLength: aws.Int64(int64(len(chunk))),
				ContentMD5: md5Base64(chunk)})
			if err != nil {
				return w.fail(fmt.Sprintf("UploadPart %d/%d", i+1, n), name, err)
			}
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: num}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: upload %s: %w", w.where, name, err)
	}
	cctx, cancel = w.call(ctx)
	defer cancel()
	if _, err := w.client.CompleteMultipartUpload(cctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(w.bucket),
		Key: aws.String(name), UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		return w.fail("CompleteMultipartUpload", name, err)
	}
	return nil
}

// Objects lists the objects of topology in the bucket: the keys under
// <prefix>/<topology>/ with the naming's extension, sorted, page by page.
func (w *Writer) Objects(ctx context.Context, topology string) ([]string, error) {
	if w.closed.Load() {
		return nil, fmt.Errorf("%s: %w", w.where, errClosed)
	}
	want := path.Join(w.naming.Prefix, topology) + "/"
	in := &s3.ListObjectsV2Input{Bucket: aws.String(w.bucket), Prefix: aws.String(want)}
	if w.listPage > 0 {
		in.MaxKeys = aws.Int32(w.listPage)
	}
	pages := s3.NewListObjectsV2Paginator(w.client, in)
	var names []string
	for pages.HasMorePages() {
		cctx, cancel := w.call(ctx)
		page, err := pages.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, w.fail("ListObjectsV2", want, err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); strings.HasSuffix(k, w.naming.Ext) {
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// get returns the stored bytes of the object name and its user metadata,
// checked against its gale-bytes.
func (w *Writer) get(ctx context.Context, name string) ([]byte, map[string]string, error) {
	if w.closed.Load() {
		return nil, nil, fmt.Errorf("%s: %w", w.where, errClosed)
	}
	cctx, cancel := w.call(ctx)
	defer cancel()
	out, err := w.client.GetObject(cctx, &s3.GetObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(name)})
	if err != nil {
		return nil, nil, w.fail("GetObject", name, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, nil, w.fail("GetObject", name, err)
	}
	if v, ok := out.Metadata[MetaPrefix+sinks.MetaBytes]; ok && v != strconv.Itoa(len(data)) {
		return nil, nil, fmt.Errorf("%s: %s: %d bytes stored, its %s%s metadata says %s", w.where, name, len(data), MetaPrefix, sinks.MetaBytes, v)
	}
	return data, out.Metadata, nil
}

// Get returns the stored (encoded) bytes of the object name.
func (w *Writer) Get(ctx context.Context, name string) ([]byte, error) {
	data, _, err := w.get(ctx, name)
	return data, err
}

// Read returns the decoded content of the object name, checked against its
// gale-sha256 metadata.
func (w *Writer) Read(ctx context.Context, name string) ([]byte, error) {
	data, meta, err := w.get(ctx, name)
	if err != nil {
		return nil, err
	}
	content, err := sinks.DecodeObject(w.codec.Key, name, data)
	if err != nil {
		return nil, fmt.Errorf("%s: decode %s: %w", w.where, name, err)
	}
	if sum, ok := meta[MetaPrefix+sinks.MetaSHA256]; ok && sum != sinks.Checksum(content) {
		return nil, fmt.Errorf("%s: %s: content does not match its %s%s metadata", w.where, name, MetaPrefix, sinks.MetaSHA256)
	}
	return content, nil
}

// Close ends the writer (later calls fail) and closes its idle
// connections. It may be called more than once.
func (w *Writer) Close() error {
	w.closed.Store(true)
	if w.transport != nil {
		w.transport.CloseIdleConnections()
	}
	return nil
}
