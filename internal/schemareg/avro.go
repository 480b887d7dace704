package schemareg

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/sr"
)

// avroOpts make decoding into any give the Go values of the package doc:
// date stays the int32 of days, time-millis and time-micros their int32
// and int64, decimal becomes its exact text, a uuid on fixed(16) its
// text, duration its 12 bytes. The first match wins.
var avroOpts = []avro.SchemaOpt{
	avro.CustomType{LogicalType: "date", AvroType: "int"},
	avro.CustomType{LogicalType: "time-millis", AvroType: "int"},
	avro.CustomType{LogicalType: "time-micros", AvroType: "long"},
	avro.CustomType{LogicalType: "decimal", AvroType: "bytes", Decode: decimalText},
	avro.CustomType{LogicalType: "decimal", AvroType: "fixed", Decode: decimalText},
	avro.CustomType{LogicalType: "big-decimal", AvroType: "bytes"},
	avro.CustomType{LogicalType: "uuid", AvroType: "fixed", Decode: uuidText},
	avro.CustomType{LogicalType: "duration", AvroType: "fixed"},
}

// ParseAvro parses an Avro schema (JSON text) the way the decoders do:
// a reader_schema, or a sink's schema that must decode what they decode.
func ParseAvro(schema string) (*avro.Schema, error) {
	s, err := avro.Parse(schema, avroOpts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSchema, err)
	}
	return s, nil
}

// decimalText is the exact decimal text of a decimal's unscaled value
// (big-endian two's complement bytes) at the node's scale: "-12.30".
func decimalText(v any, n *avro.SchemaNode) (any, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, avro.ErrSkipCustomType
	}
	u := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 { // negative: subtract 2^(8 len)
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return DecimalString(u, n.Scale), nil
}

// DecimalString is the text of unscaled × 10^-scale, every digit kept:
// (-1230, 2) is "-12.30", (5, 3) is "0.005".
func DecimalString(unscaled *big.Int, scale int) string {
	digits := new(big.Int).Abs(unscaled).String()
	sign := ""
	if unscaled.Sign() < 0 {
		sign = "-"
	}
	if scale <= 0 {
		return sign + digits + strings.Repeat("0", -scale)
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// uuidText is the 8-4-4-4-12 text of a uuid held in a fixed(16).
func uuidText(v any, _ *avro.SchemaNode) (any, error) {
	b, ok := v.([]byte)
	if !ok || len(b) != 16 {
		return nil, avro.ErrSkipCustomType
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// avroCompile parses the writer schema s (with its references, fetched
// from the registry) and, with a reader schema, resolves it into that.
// A registry error is returned as it is (transient or unknown); any other
// error wraps ErrBadSchema.
func avroCompile(ctx context.Context, c *Client, s sr.Schema, reader *avro.Schema) (*avro.Schema, error) {
	if s.Type != sr.TypeAvro {
		return nil, fmt.Errorf("%w: a %s schema, not AVRO", ErrBadSchema, s.Type)
	}
	var w *avro.Schema
	var err error
	if len(s.References) == 0 {
		w, err = avro.Parse(s.Schema, avroOpts...)
	} else {
		// the referenced schemas parsed into cache, each once (by subject
		// and version), after its own references
		var cache avro.SchemaCache
		err = walkReferences(ctx, c, s.References, func(ref sr.SchemaReference) string {
			return fmt.Sprintf("%s\x00%d", ref.Subject, ref.Version)
		}, func(ref sr.SchemaReference, ss sr.SubjectSchema) error {
			if _, err := cache.Parse(ss.Schema.Schema, avroOpts...); err != nil {
				return fmt.Errorf("%w: reference %q (subject %q version %d): %w", ErrBadSchema, ref.Name, ref.Subject, ref.Version, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		w, err = cache.Parse(s.Schema, avroOpts...)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSchema, err)
	}
	if reader == nil {
		return w, nil
	}
	r, err := avro.Resolve(w, reader)
	if err != nil {
		return nil, fmt.Errorf("%w: the writer schema does not resolve into reader_schema: %w", ErrBadSchema, err)
	}
	return r, nil
}

// maxReferenceDepth bounds the chains of schema references followed.
const maxReferenceDepth = 32

// walkReferences fetches the schemas refs name, each with its own
// references first (dependency order), and hands each to add after them;
// a reference whose key was seen before is skipped. Chains deeper than
// maxReferenceDepth are refused, and a reference the registry does not
// know is a bad schema.
func walkReferences(ctx context.Context, c *Client, refs []sr.SchemaReference, key func(sr.SchemaReference) string,
	add func(sr.SchemaReference, sr.SubjectSchema) error) error {
	seen := map[string]bool{}
	var walk func(refs []sr.SchemaReference, depth int) error
	walk = func(refs []sr.SchemaReference, depth int) error {
		if depth > maxReferenceDepth {
			return fmt.Errorf("%w: schema references nested deeper than %d", ErrBadSchema, maxReferenceDepth)
		}
		for _, ref := range refs {
			k := key(ref)
			if seen[k] {
				continue
			}
			seen[k] = true
			ss, err := c.SchemaByVersion(ctx, ref.Subject, ref.Version)
			if err != nil {
				if errors.Is(err, ErrUnknownSchema) {
					return fmt.Errorf("%w: reference %q: %w", ErrBadSchema, ref.Name, err)
				}
				return err
			}
			if err := walk(ss.References, depth+1); err != nil {
				return err
			}
			if err := add(ref, ss); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(refs, 0)
}

// refName keys a reference by its name (the import path or resource it
// is registered under).
func refName(ref sr.SchemaReference) string { return ref.Name }

// avroDecode decodes one payload with the compiled schema.
func avroDecode(s *avro.Schema, payload []byte) (any, error) {
	var v any
	rest, err := s.Decode(payload, &v)
	if err != nil {
		return nil, fmt.Errorf("%w: avro: %w", ErrMalformed, err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: avro: %d bytes after the record", ErrMalformed, len(rest))
	}
	return v, nil
}
