package schemareg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/twmb/avro"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The payload formats a Decoder reads (the kafka spout's deserializers).
const (
	Avro       = "avro"
	Protobuf   = "protobuf"
	JSONSchema = "json_schema"
)

// Formats are the formats a Decoder reads.
var Formats = []string{Avro, Protobuf, JSONSchema}

// Defaults of a Decoder.
const (
	// DefaultAttempts is how many times a Decoder asks the registry for a
	// schema id it does not know before the records that carry the id are
	// poison.
	DefaultAttempts = 3
	// DefaultUnknownFor is how long an id found unknown that many times
	// stays unknown without asking again.
	DefaultUnknownFor = time.Minute
	// DefaultQuiet is how long after the registry failed to answer a
	// Decoder fails at once for the schemas it has not cached, instead of
	// asking again: one caller that retries the records of many
	// partitions waits for one request's timeout, not one per record.
	DefaultQuiet = time.Second
	// compiledSize bounds the compiled schemas a Decoder keeps.
	compiledSize = 1000
	// maxMisses bounds the unknown ids a Decoder remembers.
	maxMisses = 10000
)

// Decoder decodes values in the Confluent wire format (magic byte 0, a
// 4-byte schema id, for Protobuf the message index array, the payload)
// into the Go values of the package doc, with the schemas of its Client.
// It is safe for concurrent use.
type Decoder struct {
	client     *Client
	format     string
	reader     *avro.Schema // avro: the reader schema, or nil
	attempts   int
	unknownFor time.Duration
	quiet      time.Duration

	mu       sync.Mutex           // guards the fields below
	compiled *lru[int, *compiled] // by schema id
	misses   map[int]*miss        // schema ids the registry did not know
	downAt   time.Time            // the registry's last failure to answer
	downErr  error                // its error; nil after an answer
	now      func() time.Time     // the clock (tests)
}

type compiled struct {
	avro  *avro.Schema
	proto protoreflect.FileDescriptor
	json  *jsonschema.Schema
	err   error // the schema is unusable (ErrBadSchema)
}

type miss struct {
	n     int       // times not found in a row
	until time.Time // unknown for good until then
}

// NewDecoder returns a decoder of format (one of Formats) whose schemas
// come from c. readerSchema, for avro only, is an Avro schema (JSON) that
// every writer schema is resolved into (fields added with defaults,
// removed, promoted); empty decodes each record with its writer schema.
func NewDecoder(c *Client, format, readerSchema string) (*Decoder, error) {
	if !slices.Contains(Formats, format) {
		return nil, fmt.Errorf("%w: format %q is not one of %v", ErrConfig, format, Formats)
	}
	d := &Decoder{client: c, format: format, attempts: DefaultAttempts, unknownFor: DefaultUnknownFor, quiet: DefaultQuiet,
		compiled: newLRU[int, *compiled](compiledSize), misses: map[int]*miss{}, now: time.Now}
	if readerSchema != "" {
		if format != Avro {
			return nil, fmt.Errorf("%w: a reader schema is for the avro format only", ErrConfig)
		}
		r, err := ParseAvro(readerSchema)
		if err != nil {
			return nil, fmt.Errorf("%w: reader schema: %w", ErrConfig, err)
		}
		d.reader = r
	}
	return d, nil
}

// Format returns the decoder's format.
func (d *Decoder) Format() string { return d.format }

// Decode decodes one value. Its errors: transient ones (IsTransient: the
// registry unavailable, a schema id not found yet) say to try again
// later; the others wrap ErrWireFormat, ErrUnknownSchema, ErrBadSchema or
// ErrMalformed and mean the value is poison. ctx bounds the registry
// calls (each also bounded by the config's timeout).
func (d *Decoder) Decode(ctx context.Context, value []byte) (any, error) {
	id, payload, err := ParseHeader(value)
	if err != nil {
		return nil, err
	}
	var indexes []int
	if d.format == Protobuf {
		if indexes, payload, err = ParseMessageIndexes(payload); err != nil {
			return nil, err
		}
	}
	c, err := d.schema(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, c.err)
	}
	var v any
	switch d.format {
	case Avro:
		v, err = avroDecode(c.avro, payload)
	case Protobuf:
		var md protoreflect.MessageDescriptor
		if md, err = protoMessage(c.proto, indexes); err == nil {
			v, err = protoDecode(md, payload)
		}
	default:
		v, err = jsonDecode(c.json, payload)
	}
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	return v, nil
}

// schema returns the compiled schema id, fetching and compiling it the
// first time.
func (d *Decoder) schema(ctx context.Context, id int) (*compiled, error) {
	d.mu.Lock()
	c, ok := d.compiled.get(id)
	m := d.misses[id]
	d.mu.Unlock()
	if ok {
		return c, nil
	}
	if m != nil && d.now().Before(m.until) {
		return nil, fmt.Errorf("schema id %d: %w (not found %d times in a row; asked again after %v)", id, ErrUnknownSchema, d.attempts, m.until.Format(time.RFC3339))
	}
	if err := d.stillDown(); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	s, err := d.client.SchemaByID(ctx, id)
	d.answered(err)
	if errors.Is(err, ErrUnknownSchema) {
		return nil, d.notFound(id, err)
	}
	if err != nil {
		return nil, err
	}
	c = &compiled{}
	switch d.format {
	case Avro:
		c.avro, c.err = avroCompile(ctx, d.client, s, d.reader)
	case Protobuf:
		c.proto, c.err = protoCompile(ctx, d.client, s)
	default:
		c.json, c.err = jsonCompile(ctx, d.client, s)
	}
	if c.err != nil && IsTransient(c.err) {
		d.answered(c.err)
		return nil, c.err // a reference could not be fetched: not cached
	}
	d.mu.Lock()
	delete(d.misses, id)
	d.compiled.put(id, c)
	d.mu.Unlock()
	return c, nil
}

// stillDown returns an error wrapping ErrRegistryUnavailable while the
// registry failed to answer less than quiet ago.
func (d *Decoder) stillDown() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.downErr == nil || !d.now().Before(d.downAt.Add(d.quiet)) {
		return nil
	}
	return fmt.Errorf("%w: not asked again within %v of its last failure (%w)", ErrRegistryUnavailable, d.quiet, d.downErr)
}

// answered notes how the registry answered: down (ErrRegistryUnavailable)
// or not.
func (d *Decoder) answered(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if errors.Is(err, ErrRegistryUnavailable) {
		d.downAt, d.downErr = d.now(), err
	} else {
		d.downAt, d.downErr = time.Time{}, nil
	}
}

// notFound counts one more "not found" for id: a *PendingError until the
// decoder asked attempts times, then ErrUnknownSchema (for unknownFor).
func (d *Decoder) notFound(id int, cause error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.misses[id]
	if m == nil {
		if len(d.misses) >= maxMisses {
			clear(d.misses) // hostile input: forget, rather than grow
		}
		m = &miss{}
		d.misses[id] = m
	}
	m.n++
	if m.n < d.attempts {
		return &PendingError{ID: id, Attempt: m.n, Attempts: d.attempts}
	}
	m.n, m.until = 0, d.now().Add(d.unknownFor)
	return fmt.Errorf("%w (asked %d times)", cause, d.attempts)
}
