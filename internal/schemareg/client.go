package schemareg

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// CacheSize is how many schemas a Client keeps by id (and by subject and
// version): ids are immutable, so an entry is only forgotten to bound the
// memory, the least recently used first.
const CacheSize = 10000

// Client reads schemas from a Confluent-compatible registry, caching them.
// It is safe for concurrent use.
type Client struct {
	cfg Config
	sr  *sr.Client

	mu        sync.Mutex                     // guards the caches below
	byID      *lru[int, sr.Schema]           // immutable: kept until evicted
	byVersion *lru[string, sr.SubjectSchema] // subject/version (not "latest")
}

// New returns a client for cfg: it validates cfg, reads the password and
// the TLS files, and does not contact the registry yet.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pw, err := cfg.password()
	if err != nil {
		return nil, err
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = 4
	opts := []sr.ClientOpt{
		sr.URLs(cfg.URL),
		sr.HTTPClient(&http.Client{Timeout: cfg.timeout(), Transport: tr}),
		sr.UserAgent("gale"),
	}
	if cfg.Username != "" {
		opts = append(opts, sr.BasicAuth(cfg.Username, pw))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &Client{cfg: cfg, sr: cl, byID: newLRU[int, sr.Schema](CacheSize),
		byVersion: newLRU[string, sr.SubjectSchema](CacheSize)}, nil
}

// Config returns the client's config.
func (c *Client) Config() Config { return c.cfg }

// SR returns the franz-go client underneath, for calls this package does
// not wrap (registering a schema in a test). Its errors are not classified.
func (c *Client) SR() *sr.Client { return c.sr }

// SchemaByID returns the schema with the given id, from the cache when it
// was fetched before. Errors: ErrUnknownSchema (the registry says there is
// no such id), ErrRegistryUnavailable (anything else: retry later).
func (c *Client) SchemaByID(ctx context.Context, id int) (sr.Schema, error) {
	c.mu.Lock()
	s, ok := c.byID.get(id)
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := c.sr.SchemaByID(ctx, id)
	if err != nil {
		return sr.Schema{}, classify(fmt.Sprintf("schema id %d", id), err)
	}
	c.mu.Lock()
	c.byID.put(id, s)
	c.mu.Unlock()
	return s, nil
}

// SchemaByVersion returns version of subject (-1: the latest, which is
// asked for every time; a numbered version is cached). Errors as for
// SchemaByID.
func (c *Client) SchemaByVersion(ctx context.Context, subject string, version int) (sr.SubjectSchema, error) {
	key := fmt.Sprintf("%s\x00%d", subject, version)
	if version > 0 {
		c.mu.Lock()
		s, ok := c.byVersion.get(key)
		c.mu.Unlock()
		if ok {
			return s, nil
		}
	}
	s, err := c.sr.SchemaByVersion(ctx, subject, version)
	if err != nil {
		v := fmt.Sprint(version)
		if version < 0 {
			v = "latest"
		}
		return sr.SubjectSchema{}, classify(fmt.Sprintf("subject %q version %s", subject, v), err)
	}
	if version > 0 {
		c.mu.Lock()
		c.byVersion.put(key, s)
		c.byID.put(s.ID, s.Schema)
		c.mu.Unlock()
	}
	return s, nil
}

// classify wraps err, from asking the registry about what, in
// ErrUnknownSchema when the registry said it does not exist, and in
// ErrRegistryUnavailable otherwise. Only a schema registry's own "not
// found" codes are ErrUnknownSchema: a 404 without them (a url missing
// its /apis/ccompat/v7) must not turn every record into poison.
func classify(what string, err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == http.StatusNotFound && (re.ErrorCode == 40401 || re.ErrorCode == 40402 || re.ErrorCode == 40403):
			return fmt.Errorf("%s: %w (the registry answered %d, error code %d)", what, ErrUnknownSchema, re.StatusCode, re.ErrorCode)
		case re.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%s: %w: %s answered 404 without a schema registry error code (is the url right? Apicurio Registry's ends with /apis/ccompat/v7)",
				what, ErrRegistryUnavailable, re.URL)
		case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%s: %w: the registry refused the login (HTTP %d): check username and the password", what, ErrRegistryUnavailable, re.StatusCode)
		default:
			return fmt.Errorf("%s: %w: HTTP %d: %s", what, ErrRegistryUnavailable, re.StatusCode, truncate(re.Error(), 200))
		}
	}
	return fmt.Errorf("%s: %w: %w", what, ErrRegistryUnavailable, err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// AvroSchema returns version of subject (-1: the latest) parsed as an Avro
// schema (its references fetched and parsed too), with its id: a sink's
// schema for the records a Decoder decoded, or a reader schema kept in the
// registry. Its values decode and encode as the package doc says.
func (c *Client) AvroSchema(ctx context.Context, subject string, version int) (*avro.Schema, int, error) {
	ss, err := c.SchemaByVersion(ctx, subject, version)
	if err != nil {
		return nil, 0, err
	}
	s, err := avroCompile(ctx, c, ss.Schema, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("subject %q version %d: %w", subject, ss.Version, err)
	}
	return s, ss.ID, nil
}

// ProtoFile returns version of subject (-1: the latest) compiled as a
// Protobuf file (its references fetched too), with its id.
func (c *Client) ProtoFile(ctx context.Context, subject string, version int) (protoreflect.FileDescriptor, int, error) {
	ss, err := c.SchemaByVersion(ctx, subject, version)
	if err != nil {
		return nil, 0, err
	}
	fd, err := protoCompile(ctx, c, ss.Schema)
	if err != nil {
		return nil, 0, fmt.Errorf("subject %q version %d: %w", subject, ss.Version, err)
	}
	return fd, ss.ID, nil
}
