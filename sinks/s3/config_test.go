package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/spout"
	"github.com/gale-stream/gale/topology"
)

// Unit tests: no store needed.

// TestConfig_Validate: the defaults, and every check of Validate through
// the decoding a topology file goes through; each error names its key and
// is a sinks.ErrConfig, and none shows a value that may be a credential.
func TestConfig_Validate(t *testing.T) {
	typ, err := registry.Describe(Type())
	if err != nil {
		t.Fatal(err)
	}
	decode := func(js string) (*Config, error) {
		s, err := typ.DecodeSettings([]byte(js), "config")
		if err != nil {
			return nil, err
		}
		return s.(*Config), nil
	}

	c, err := decode(`{"bucket": "logs"}`)
	if err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	if c.Endpoint != "" || c.Region != "us-east-1" || c.pathStyle() || c.CreateBucket ||
		c.AccessKeyEnv != "AWS_ACCESS_KEY_ID" || c.SecretKeyEnv != "AWS_SECRET_ACCESS_KEY" || c.SessionTokenEnv != "AWS_SESSION_TOKEN" ||
		c.Compression != "lz4" || c.MultipartThresholdBytes != 16<<20 || c.PartBytes != 8<<20 || c.PartConcurrency != 4 ||
		c.TimeoutSeconds != 60 || c.Naming().Ext != ".jsonl.lz4" || c.where() != `s3 sink (bucket "logs" at AWS us-east-1)` {
		t.Errorf("defaults: %+v", c)
	}
	c, err = decode(`{"bucket": "logs", "endpoint": "http://127.0.0.1:7480/", "compression": "none", "format": "lines"}`)
	if err != nil {
		t.Fatal(err)
	}
	if !c.pathStyle() || c.Naming().Ext != ".log" || c.where() != `s3 sink (bucket "logs" at http://127.0.0.1:7480)` {
		t.Errorf("with an endpoint: path style %v, ext %q, %s", c.pathStyle(), c.Naming().Ext, c.where())
	}
	if c, err = decode(`{"bucket": "logs", "endpoint": "https://minio:9000", "path_style": false}`); err != nil || c.pathStyle() {
		t.Errorf("path_style false: %v, %v", c, err)
	}
	t.Setenv("GALE_TEST_S3_KEY", strings.Repeat("ab", 32))
	if c, err = decode(`{"bucket": "logs", "encryption": {"key_env": "GALE_TEST_S3_KEY"}}`); err != nil || c.Naming().Ext != ".jsonl.lz4.enc" || len(c.key) != 32 {
		t.Errorf("encryption: %v", err)
	}

	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" // AWS's documentation example
	for _, bad := range []struct{ json, want string }{
		{`{}`, "bucket is required"},
		{`{"bucket": "a"}`, "bucket \"a\""},
		{`{"bucket": "logs/2026"}`, "bucket \"logs/2026\""},
		{`{"bucket": "logs", "endpoint": "ftp://host"}`, "endpoint \"ftp://host\""},
		{`{"bucket": "logs", "endpoint": "http://"}`, "endpoint"},
		{`{"bucket": "logs", "endpoint": "http://host:9000?x=1"}`, "endpoint"},
		{`{"bucket": "logs", "endpoint": "http://AKIDEXAMPLE:` + secret + `@host"}`, "endpoint: not a URL"},
		{`{"bucket": "logs", "endpoint": "http://AKIDEXAMPLE:wJalrXUtnFEMI@host"}`, "credentials in the URL"},
		{`{"bucket": "logs", "region": ""}`, "region is empty"},
		{`{"bucket": "logs", "access_key_env": "AKIDEXAMPLE/1"}`, "access_key_env must name an environment variable"},
		{`{"bucket": "logs", "secret_key_env": "` + secret + `"}`, "secret_key_env must name an environment variable"},
		{`{"bucket": "logs", "session_token_env": "1TOKEN"}`, "session_token_env must name an environment variable"},
		{`{"bucket": "logs", "credentials_profile": "prod"}`, "credentials_profile \"prod\" is set without credentials_file"},
		{`{"bucket": "logs", "multipart_threshold_bytes": 1048576}`, "multipart_threshold_bytes 1048576"},
		{`{"bucket": "logs", "multipart_threshold_bytes": 6442450944}`, "multipart_threshold_bytes 6442450944"},
		{`{"bucket": "logs", "part_bytes": 1048576}`, "part_bytes 1048576"},
		{`{"bucket": "logs", "part_bytes": 6442450944}`, "part_bytes 6442450944"},
		{`{"bucket": "logs", "part_concurrency": 0}`, "part_concurrency 0"},
		{`{"bucket": "logs", "part_concurrency": 65}`, "part_concurrency 65"},
		{`{"bucket": "logs", "timeout_seconds": 0}`, "timeout_seconds 0"},
		{`{"bucket": "logs", "compression": "zstd"}`, "compression \"zstd\""},
		{`{"bucket": "logs", "encryption": {"key_env": "GALE_TEST_NO_SUCH_KEY"}}`, "GALE_TEST_NO_SUCH_KEY"},
		{`{"bucket": "logs", "format": "xml"}`, "xml"},
		{`{"bucket": "logs", "time_partition": "week"}`, "time_partition \"week\""},
		{`{"bucket": "logs", "max_inflight": 0}`, "max_inflight 0"},
	} {
		_, err := decode(bad.json)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !errors.Is(err, sinks.ErrConfig) {
			t.Errorf("%s: %v\n  want an ErrConfig containing %q", bad.json, err, bad.want)
		}
		if err != nil && (strings.Contains(err.Error(), "wJalrXUtnFEMI") || strings.Contains(err.Error(), "AKIDEXAMPLE")) {
			t.Errorf("%s: the error shows a credential: %v", bad.json, err)
		}
	}
	// a secret in the JSON is refused (no such key), and not echoed
	if _, err := decode(`{"bucket": "logs", "secret_key": "` + secret + `"}`); err == nil || strings.Contains(err.Error(), secret) ||
		!strings.Contains(err.Error(), "secret_key") {
		t.Errorf(`"secret_key" in the config: %v; want an error naming the key, without its value`, err)
	}

	// a whole topology naming the type
	js := `{"name": "t", "spouts": [{"id": "s", "type": "src"}],
	  "bolts": [{"id": "archive", "type": "s3_sink", "inputs": [{"component": "s"}],
	             "config": {"endpoint": "http://127.0.0.1:7480", "bucket": "gale-archive", "field": "value"}}]}`
	reg := registry.New()
	reg.MustRegister(Type(), registry.Spout[registry.NoConfig]{Name: "src", Outputs: registry.Emits("value", "timestamp"),
		New: func(*registry.NoConfig) (spout.Spout, error) { return nil, errors.New("not run") }})
	if _, err := topology.Decode([]byte(js), reg); err != nil {
		t.Errorf("topology with s3_sink: %v", err)
	}
}

// TestCredentials: from the environment (missing variables named, values
// never shown) and from a credentials file (sections, [profile x],
// comments; errors name the file and section, not a line's content).
func TestCredentials(t *testing.T) {
	ctx := context.Background()
	c := NewConfig()
	c.AccessKeyEnv, c.SecretKeyEnv, c.SessionTokenEnv = "GALE_TEST_AK", "GALE_TEST_SK", "GALE_TEST_TOKEN"
	t.Setenv("GALE_TEST_AK", "AKIDEXAMPLE")
	t.Setenv("GALE_TEST_SK", "")
	_, err := c.credentialSource().Retrieve(ctx)
	if !errors.Is(err, sinks.ErrConfig) || !strings.Contains(err.Error(), "$GALE_TEST_SK is not set") || strings.Contains(err.Error(), "AKIDEXAMPLE") {
		t.Fatalf("secret not set: %v", err)
	}
	t.Setenv("GALE_TEST_SK", "s3cr3t")
	t.Setenv("GALE_TEST_TOKEN", "tok")
	cr, err := c.credentialSource().Retrieve(ctx)
	if err != nil || cr.AccessKeyID != "AKIDEXAMPLE" || cr.SecretAccessKey != "s3cr3t" || cr.SessionToken != "tok" ||
		!cr.CanExpire || cr.Expires.After(time.Now().Add(credentialsRefresh)) || !cr.Expires.After(time.Now()) {
		t.Fatalf("from the environment: %+v, %v", cr, err)
	}

	file := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(file, []byte(`# the sink's keys
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default-secret

; another profile, written the way the config file writes them
[profile prod]
AWS_ACCESS_KEY_ID=AKIDPROD
aws_secret_access_key= prod/secret+key=
[broken]
aws_access_key_id = AKIDBROKEN
`), 0o600)
	c = NewConfig()
	c.CredentialsFile = file
	if cr, err := c.credentialSource().Retrieve(ctx); err != nil || cr.AccessKeyID != "AKIDDEFAULT" || cr.SecretAccessKey != "default-secret" || cr.SessionToken != "" {
		t.Errorf("default profile: %+v, %v", cr, err)
	}
	c.CredentialsProfile = "prod"
	if cr, err := c.credentialSource().Retrieve(ctx); err != nil || cr.AccessKeyID != "AKIDPROD" || cr.SecretAccessKey != "prod/secret+key=" {
		t.Errorf("profile prod: %+v, %v", cr, err)
	}
	c.CredentialsProfile = "broken"
	if _, err := c.credentialSource().Retrieve(ctx); !errors.Is(err, sinks.ErrConfig) || !strings.Contains(err.Error(), "[broken] lacks") {
		t.Errorf("profile without a secret: %v", err)
	}
	c.CredentialsProfile = "staging"
	if _, err := c.credentialSource().Retrieve(ctx); !errors.Is(err, sinks.ErrConfig) || !strings.Contains(err.Error(), "no [staging] section") {
		t.Errorf("missing profile: %v", err)
	}
	os.WriteFile(file, []byte("[default]\naws_access_key_id AKIDNOEQUALS\n"), 0o600)
	c.CredentialsProfile = ""
	if _, err := c.credentialSource().Retrieve(ctx); !errors.Is(err, sinks.ErrConfig) || !strings.Contains(err.Error(), "line 2") || strings.Contains(err.Error(), "AKIDNOEQUALS") {
		t.Errorf("malformed line: %v; want an ErrConfig naming line 2 without its content", err)
	}
	c.CredentialsFile = filepath.Join(t.TempDir(), "missing")
	if _, err := c.credentialSource().Retrieve(ctx); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// sdkError builds the error the SDK returns for an HTTP status and an S3
// error code ("" for none).
func sdkError(op string, status int, code string) error {
	var err error = errors.New("request send failed")
	if code != "" {
		err = &smithy.GenericAPIError{Code: code, Message: "msg"}
	}
	if status != 0 {
		err = &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
	}
	return &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: err}
}

// TestRequestError_Permanent: 4xx and 501 are permanent but for the
// transient codes and statuses; 5xx and errors without a response are
// transient; the sentinels match their codes.
func TestRequestError_Permanent(t *testing.T) {
	for _, tc := range []struct {
		status                 int
		code                   string
		permanent, bucket, acl bool
	}{
		{404, "NoSuchBucket", true, true, false},
		{403, "AccessDenied", true, false, true},
		{403, "InvalidAccessKeyId", true, false, true},
		{403, "SignatureDoesNotMatch", true, false, true},
		{403, "", true, false, true},
		{403, "RequestTimeTooSkewed", false, false, false},
		{400, "InvalidArgument", true, false, false},
		{400, "RequestTimeout", false, false, false},
		{400, "BadDigest", false, false, false},
		{404, "NoSuchUpload", false, false, false},
		{408, "", false, false, false},
		{429, "", false, false, false},
		{500, "InternalError", false, false, false},
		{501, "NotImplemented", true, false, false},
		{503, "SlowDown", false, false, false},
		{0, "", false, false, false},
	} {
		re := requestError("PutObject", "b", "k", sdkError("PutObject", tc.status, tc.code))
		name := fmt.Sprintf("%d %s", tc.status, tc.code)
		if re.Status != tc.status || re.Code != tc.code {
			t.Errorf("%s: classified as %d %q", name, re.Status, re.Code)
		}
		var err error = fmt.Errorf("wrapped: %w", re)
		if errors.Is(err, ErrPermanent) != tc.permanent || errors.Is(err, ErrNoSuchBucket) != tc.bucket || errors.Is(err, ErrAccessDenied) != tc.acl {
			t.Errorf("%s: permanent %v, no such bucket %v, access denied %v; want %v %v %v", name,
				errors.Is(err, ErrPermanent), errors.Is(err, ErrNoSuchBucket), errors.Is(err, ErrAccessDenied), tc.permanent, tc.bucket, tc.acl)
		}
	}
	re := requestError("UploadPart 2/3", "b", "k", sdkError("UploadPart", 503, "SlowDown"))
	if msg := re.Error(); !strings.HasPrefix(msg, "UploadPart 2/3 s3://b/k: 503 SlowDown: ") {
		t.Errorf("message %q", msg)
	}
	re = requestError("ListObjectsV2", "b", "", fmt.Errorf("op: %w", context.DeadlineExceeded))
	if re.Status != 0 || errors.Is(re, ErrPermanent) || !errors.Is(re, context.DeadlineExceeded) || !strings.HasPrefix(re.Error(), "ListObjectsV2 s3://b: ") {
		t.Errorf("timeout: %v (status %d)", re, re.Status)
	}
}

func TestWriter_PartSizeAndContentType(t *testing.T) {
	w := &Writer{partBytes: DefaultPartBytes}
	if got := w.partSize(100 << 20); got != DefaultPartBytes {
		t.Errorf("part size of 100 MiB: %d", got)
	}
	big := int64(200 << 30) // 200 GiB: 8 MiB parts would be 25600
	if got := w.partSize(big); (big+got-1)/got > MaxParts || got < DefaultPartBytes {
		t.Errorf("part size of 200 GiB: %d, %d parts", got, (big+got-1)/got)
	}
	for ext, want := range map[string]string{".jsonl.lz4": "application/x-lz4", ".jsonl.lz4.enc": "application/octet-stream",
		".jsonl": "application/x-ndjson", ".log": "text/plain; charset=utf-8", ".log.lz4": "application/x-lz4"} {
		w.naming.Ext = ext
		if got := w.contentType(); got != want {
			t.Errorf("content type of %s: %q, want %q", ext, got, want)
		}
	}
}
