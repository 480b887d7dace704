package s3

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gale-stream/gale/sinks"
)

// TypeName is the component type of the S3 sink.
const TypeName = "s3_sink"

// Size limits of S3's multipart uploads, which every S3-compatible store
// follows.
const (
	// MinPartBytes is the smallest part_bytes (5 MiB): S3 refuses smaller
	// parts, except the last one of an upload.
	MinPartBytes = 5 << 20
	// MaxPartBytes is the largest part (5 GiB).
	MaxPartBytes = 5 << 30
	// MaxPutBytes is the largest object one PutObject may store (5 GiB):
	// the largest multipart_threshold_bytes.
	MaxPutBytes = 5 << 30
	// MaxParts is the most parts of one upload; the writer makes parts
	// larger than part_bytes when an object would need more.
	MaxParts = 10000

	// DefaultPartBytes and DefaultThresholdBytes are the defaults of
	// part_bytes (8 MiB) and multipart_threshold_bytes (16 MiB).
	DefaultPartBytes      = 8 << 20
	DefaultThresholdBytes = 16 << 20
	// DefaultRegion is the region when none is set: AWS's us-east-1, which
	// S3-compatible stores accept in signatures.
	DefaultRegion = "us-east-1"
	// The default environment variables of the credentials: the AWS
	// tools' own.
	DefaultAccessKeyEnv    = "AWS_ACCESS_KEY_ID"
	DefaultSecretKeyEnv    = "AWS_SECRET_ACCESS_KEY"
	DefaultSessionTokenEnv = "AWS_SESSION_TOKEN"
	// DefaultProfile is the section of credentials_file read when
	// credentials_profile is not set.
	DefaultProfile = "default"
)

// Config configures the "s3_sink" type. Its keys sit at the top level of
// the component's "config", beside those of sinks.Common. It holds no
// secret: the keys come from environment variables or a credentials file
// named here (see the package doc).
type Config struct {
	sinks.Common
	// Endpoint is the store's base URL ("http://127.0.0.1:7480",
	// "https://minio.example:9000"); empty: AWS S3 of Region.
	Endpoint string `json:"endpoint,omitempty"`
	// Region signs the requests (default "us-east-1"); with AWS it also
	// picks the endpoint and the new buckets' location.
	Region string `json:"region"`
	// Bucket receives the objects (required).
	Bucket string `json:"bucket"`
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// instead of the host name (bucket.endpoint/key). Default: true when
	// Endpoint is set (most S3-compatible stores want it), false for AWS.
	PathStyle *bool `json:"path_style,omitempty"`
	// CreateBucket creates the bucket at open when it does not exist
	// (default false: a missing bucket is a configuration error).
	CreateBucket bool `json:"create_bucket,omitempty"`
	// AccessKeyEnv, SecretKeyEnv and SessionTokenEnv name the environment
	// variables holding the credentials (defaults AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; the token is optional).
	AccessKeyEnv    string `json:"access_key_env"`
	SecretKeyEnv    string `json:"secret_key_env"`
	SessionTokenEnv string `json:"session_token_env"`
	// CredentialsFile, when set, is read instead of the environment: an
	// AWS shared credentials file (INI: aws_access_key_id,
	// aws_secret_access_key, optional aws_session_token), section
	// CredentialsProfile (default "default").
	CredentialsFile    string `json:"credentials_file,omitempty"`
	CredentialsProfile string `json:"credentials_profile,omitempty"`
	// TLSCAFile is a PEM file of the certificate authorities to trust for
	// an https endpoint, instead of the system's.
	TLSCAFile string `json:"tls_ca_file,omitempty"`
	// Compression is "lz4" (the default with the line formats) or "none"
	// (the default, and the only choice, with avro and parquet).
	Compression string `json:"compression"`
	// Encryption, when set, encrypts every object (see sinks.Codec).
	Encryption *sinks.EncryptionConfig `json:"encryption,omitempty"`
	// MultipartThresholdBytes: an object larger than this goes as a
	// multipart upload (default 16 MiB; 5 MiB to 5 GiB).
	MultipartThresholdBytes int64 `json:"multipart_threshold_bytes"`
	// PartBytes is the size of the parts of a multipart upload (default
	// 8 MiB; 5 MiB to 5 GiB).
	PartBytes int64 `json:"part_bytes"`
	// PartConcurrency bounds the parts of one object uploaded at once
	// (default 4, at most 64).
	PartConcurrency int `json:"part_concurrency"`
	// TimeoutSeconds bounds each request, the SDK's own retries of it
	// included (default 60).
	TimeoutSeconds int `json:"timeout_seconds"`

	key []byte
	// httpClient, when set (tests), carries the requests.
	httpClient aws.HTTPClient
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Common: sinks.DefaultCommon(), Region: DefaultRegion,
		AccessKeyEnv: DefaultAccessKeyEnv, SecretKeyEnv: DefaultSecretKeyEnv, SessionTokenEnv: DefaultSessionTokenEnv,
		MultipartThresholdBytes: DefaultThresholdBytes, PartBytes: DefaultPartBytes,
		PartConcurrency: 4, TimeoutSeconds: 60}
}

// envName is what an environment variable's name looks like.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// bucketName is what a bucket name may hold: S3's rule for new buckets is
// stricter (3 to 63 lowercase letters, digits, dots and hyphens), but older
// buckets and other stores allow more.
var bucketName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$`)

// Validate checks the config and loads the encryption key. It does not
// contact the store nor read the credentials (a topology may be validated
// elsewhere): the sink does both when it opens.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return fmt.Errorf("s3 sink: %w", err)
	}
	if err := c.ResolveCompression(&c.Compression); err != nil {
		return fmt.Errorf("s3 sink: %w", err)
	}
	if c.Bucket == "" {
		return fmt.Errorf("s3 sink: bucket is required: %w", sinks.ErrConfig)
	}
	if !bucketName.MatchString(c.Bucket) {
		return fmt.Errorf("s3 sink: bucket %q: want 3 to 255 letters, digits, dots, hyphens and underscores, starting with a letter or digit: %w",
			c.Bucket, sinks.ErrConfig)
	}
	where := fmt.Sprintf("s3 sink (bucket %q)", c.Bucket)
	if err := validEndpoint(c.Endpoint); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if c.Region == "" {
		return fmt.Errorf("%s: region is empty (default %q): %w", where, DefaultRegion, sinks.ErrConfig)
	}
	// The values of the *_env keys are never printed: a key pasted there
	// by mistake must not end up in a log.
	for _, f := range []struct{ key, val string }{
		{"access_key_env", c.AccessKeyEnv}, {"secret_key_env", c.SecretKeyEnv}, {"session_token_env", c.SessionTokenEnv},
	} {
		if !envName.MatchString(f.val) {
			return fmt.Errorf("%s: %s must name an environment variable (letters, digits and _, not starting with a digit), not hold a credential: %w",
				where, f.key, sinks.ErrConfig)
		}
	}
	if c.CredentialsProfile != "" && c.CredentialsFile == "" {
		return fmt.Errorf("%s: credentials_profile %q is set without credentials_file: %w", where, c.CredentialsProfile, sinks.ErrConfig)
	}
	if c.MultipartThresholdBytes < MinPartBytes || c.MultipartThresholdBytes > MaxPutBytes {
		return fmt.Errorf("%s: multipart_threshold_bytes %d: want %d (5 MiB) to %d (5 GiB, the largest single PutObject): %w",
			where, c.MultipartThresholdBytes, MinPartBytes, MaxPutBytes, sinks.ErrConfig)
	}
	if c.PartBytes < MinPartBytes || c.PartBytes > MaxPartBytes {
		return fmt.Errorf("%s: part_bytes %d: want %d (5 MiB, S3's smallest part) to %d (5 GiB): %w",
			where, c.PartBytes, MinPartBytes, MaxPartBytes, sinks.ErrConfig)
	}
	if c.PartConcurrency < 1 || c.PartConcurrency > 64 {
		return fmt.Errorf("%s: part_concurrency %d: want 1 to 64: %w", where, c.PartConcurrency, sinks.ErrConfig)
	}
	if c.TimeoutSeconds < 1 {
		return fmt.Errorf("%s: timeout_seconds %d: want at least 1: %w", where, c.TimeoutSeconds, sinks.ErrConfig)
	}
	if c.Encryption != nil {
		k, err := c.Encryption.Key()
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		c.key = k
	}
	if err := c.codec().Validate(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// validEndpoint checks an endpoint URL: empty (AWS), or http(s)://host[:port][/path]
// with no credentials, query or fragment.
func validEndpoint(ep string) error {
	if ep == "" {
		return nil
	}
	u, err := url.Parse(ep)
	if err != nil {
		// url's error quotes the URL, which may hold a password: not shown
		return fmt.Errorf("endpoint: not a URL: %w", sinks.ErrConfig)
	}
	if u.User != nil {
		// not shown: the user part may be a key
		return fmt.Errorf("endpoint: credentials in the URL are not allowed (use access_key_env/secret_key_env or credentials_file): %w",
			sinks.ErrConfig)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("endpoint %q: want http://host[:port] or https://host[:port]: %w", ep, sinks.ErrConfig)
	}
	return nil
}

// pathStyle tells whether the bucket goes in the path.
func (c *Config) pathStyle() bool {
	if c.PathStyle != nil {
		return *c.PathStyle
	}
	return c.Endpoint != ""
}

// where describes the sink for errors: its bucket and endpoint.
func (c *Config) where() string {
	ep := "AWS " + c.Region
	if c.Endpoint != "" {
		ep = strings.TrimSuffix(c.Endpoint, "/")
	}
	return fmt.Sprintf("s3 sink (bucket %q at %s)", c.Bucket, ep)
}

func (c *Config) codec() sinks.Codec { return sinks.Codec{Compression: c.Compression, Key: c.key} }

// Naming returns the naming of the sink's objects.
func (c *Config) Naming() sinks.Naming { return c.Common.Naming(c.codec().Ext()) }

// OpenStore opens the bucket for reading (gale verify).
func (c *Config) OpenStore(ctx context.Context) (io.Closer, error) { return c.Open(ctx) }

var _ sinks.Verifiable = (*Config)(nil)
