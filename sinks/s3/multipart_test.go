package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
)

// bigLines returns ~14 MB of JSON lines of random base64, which lz4 barely
// compresses: an object of three parts of 5 MiB.
func bigLines() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	lines := make([]string, 100000)
	raw := make([]byte, 96)
	for i := range lines {
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		lines[i] = fmt.Sprintf(`{"n":%d,"b":"%s"}`, i, base64.StdEncoding.EncodeToString(raw))
	}
	return lines
}

// multipartConfig is testConfig with the smallest parts and threshold.
func multipartConfig(t *testing.T, bucket string) *Config {
	t.Helper()
	c := testConfig(t, bucket)
	c.PartBytes, c.MultipartThresholdBytes = MinPartBytes, MinPartBytes
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestS3LargeObjectIsMultipart: an object above the threshold is stored by
// a multipart upload (its ETag has the "-N" suffix of one), whole and with
// its metadata; a replay leaves the same bytes and ETag; no upload stays.
func TestS3LargeObjectIsMultipart(t *testing.T) {
	raw := rawClient(t)
	bucket := tempBucket(t, raw)
	c := multipartConfig(t, bucket)
	w := openWriter(t, c)
	ctx := context.Background()

	b := sinktest.Batch(2, bigLines())
	p := c.Naming().Parts(b)[0]
	content := p.Content()
	encoded, err := c.codec().Encode(p.Name, content)
	if err != nil {
		t.Fatal(err)
	}
	wantParts := (len(encoded) + MinPartBytes - 1) / MinPartBytes
	if wantParts != 3 {
		t.Fatalf("the test content encodes to %d bytes: %d parts, want 3", len(encoded), wantParts)
	}
	n, err := w.WriteBatch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(encoded)) {
		t.Errorf("WriteBatch reported %d bytes, want %d", n, len(encoded))
	}
	h := head(t, raw, bucket, p.Name)
	etag := aws.ToString(h.ETag)
	if !strings.HasSuffix(strings.Trim(etag, `"`), "-"+strconv.Itoa(wantParts)) {
		t.Fatalf("ETag %s: want the suffix -%d of a multipart upload of %d parts", etag, wantParts, wantParts)
	}
	if h.Metadata["gale-sha256"] != sinks.Checksum(content) || h.Metadata["gale-bytes"] != strconv.Itoa(len(encoded)) ||
		h.Metadata["gale-batch"] != b.Meta.ID {
		t.Errorf("metadata %v", h.Metadata)
	}
	if got := getRaw(t, raw, bucket, p.Name); !bytes.Equal(got, encoded) {
		t.Fatalf("stored %d bytes, not the %d encoded", len(got), len(encoded))
	}
	if read, err := w.Read(ctx, p.Name); err != nil || !bytes.Equal(read, content) {
		t.Fatalf("Read = %d bytes, %v; want the %d bytes of content", len(read), err, len(content))
	}
	if _, err := w.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := getRaw(t, raw, bucket, p.Name); !bytes.Equal(got, encoded) {
		t.Fatal("the replay changed the bytes")
	}
	if again := aws.ToString(head(t, raw, bucket, p.Name).ETag); again != etag {
		t.Errorf("the replay's ETag %s, the first's %s", again, etag)
	}
	if keys := listKeys(t, raw, bucket); !slices.Equal(keys, []string{p.Name}) {
		t.Errorf("keys %v, want only %s", keys, p.Name)
	}
	if u := uploads(t, raw, bucket); len(u) != 0 {
		t.Errorf("%d uploads in progress after the writes", len(u))
	}
}

// faultyClient carries the writer's requests to the store and records
// them ("CreateMultipartUpload", "UploadPart 1", ... with their status),
// except that the uploads of part failPart fail: with an error, or, when
// cancel is set, by canceling the write's context and failing when the
// request's context ends.
type faultyClient struct {
	next     *http.Client
	failPart string
	cancel   context.CancelFunc

	mu   sync.Mutex
	seen []string
}

var errInjected = errors.New("connection reset (injected)")

func (f *faultyClient) Do(req *http.Request) (*http.Response, error) {
	q := req.URL.Query()
	op := ""
	switch {
	case req.Method == http.MethodPost && q.Has("uploads"):
		op = "CreateMultipartUpload"
	case req.Method == http.MethodPut && q.Has("partNumber"):
		op = "UploadPart " + q.Get("partNumber")
	case req.Method == http.MethodPost && q.Has("uploadId"):
		op = "CompleteMultipartUpload"
	case req.Method == http.MethodDelete && q.Has("uploadId"):
		op = "AbortMultipartUpload"
	}
	if op == "UploadPart "+f.failPart {
		f.record(op + " failed")
		if f.cancel != nil {
			f.cancel()
			<-req.Context().Done()
			return nil, req.Context().Err()
		}
		return nil, errInjected
	}
	resp, err := f.next.Do(req)
	if op != "" && err == nil {
		f.record(op + " " + strconv.Itoa(resp.StatusCode))
	}
	return resp, err
}

func (f *faultyClient) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, s)
}

func (f *faultyClient) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

// TestS3FailedUploadIsAborted: when a part fails mid-upload (after the
// first part was stored), or the write's context ends then, WriteBatch
// fails, the upload is aborted (no incomplete upload stays in the bucket)
// and no object appears; the next attempt writes the object whole.
func TestS3FailedUploadIsAborted(t *testing.T) {
	for _, mode := range []string{"part error", "context canceled"} {
		t.Run(mode, func(t *testing.T) {
			raw := rawClient(t)
			bucket := tempBucket(t, raw)
			c := multipartConfig(t, bucket)
			c.PartConcurrency = 1 // part 1 is stored before part 2 is tried
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fc := &faultyClient{next: &http.Client{}, failPart: "2"}
			if mode == "context canceled" {
				fc.cancel = cancel
			}
			c.httpClient = fc
			w := openWriter(t, c)

			b := sinktest.Batch(3, bigLines())
			name := c.Naming().Parts(b)[0].Name
			_, err := w.WriteBatch(ctx, b)
			switch {
			case err == nil:
				t.Fatal("WriteBatch succeeded with part 2 failing")
			case mode == "part error" && !errors.Is(err, errInjected):
				t.Fatalf("WriteBatch: %v; want the injected error", err)
			case mode == "context canceled" && !errors.Is(err, context.Canceled):
				t.Fatalf("WriteBatch: %v; want context.Canceled", err)
			case errors.Is(err, ErrPermanent):
				t.Errorf("WriteBatch: %v is ErrPermanent; a failed part is transient", err)
			}
			t.Logf("WriteBatch: %v", err)
			got := fc.requests()
			if i := slices.Index(got, "UploadPart 1 200"); i < 0 || got[0] != "CreateMultipartUpload 200" ||
				!slices.Contains(got, "UploadPart 2 failed") || slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "UploadPart 3") }) {
				t.Fatalf("requests %v: want the upload created, part 1 stored, part 2 failed, part 3 never tried", got)
			}
			if !slices.Contains(got, "AbortMultipartUpload 204") {
				t.Fatalf("requests %v: no successful AbortMultipartUpload", got)
			}
			if u := uploads(t, raw, bucket); len(u) != 0 {
				t.Fatalf("%d incomplete uploads left in the bucket (%s)", len(u), aws.ToString(u[0].Key))
			}
			if keys := listKeys(t, raw, bucket); len(keys) != 0 {
				t.Fatalf("objects after the failed write: %v", keys)
			}
			_, err = raw.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(name)})
			if err == nil {
				t.Fatalf("%s exists after the failed write", name)
			}

			// the next attempt (the sink's retry) stores the object whole
			fc.failPart = ""
			if _, err := w.WriteBatch(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			content := c.Naming().Parts(b)[0].Content()
			if read, err := w.Read(context.Background(), name); err != nil || !bytes.Equal(read, content) {
				t.Fatalf("Read after the retry = %d bytes, %v", len(read), err)
			}
			if u := uploads(t, raw, bucket); len(u) != 0 {
				t.Fatalf("%d uploads left after the retry", len(u))
			}
		})
	}
}
