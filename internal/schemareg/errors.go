package schemareg

import (
	"errors"
	"fmt"
)

// Errors of the registry client and the decoders. Transient ones are worth
// retrying later (IsTransient); the others say the record itself is bad (a
// poison record) or the config is.
var (
	// ErrRegistryUnavailable: the registry could not be asked or did not
	// answer usefully (a network error, a timeout, a 5xx, 429, a refused
	// login, a 404 that does not come from a schema registry). Transient:
	// retry with backoff, never dead-letter a record for it.
	ErrRegistryUnavailable = errors.New("schema registry unavailable")
	// ErrUnknownSchema: the registry answered that the schema id (or
	// subject and version) does not exist (error codes 40401, 40402,
	// 40403). A Decoder reports it as transient (a *PendingError) for its
	// first few attempts, then as poison.
	ErrUnknownSchema = errors.New("unknown schema")
	// ErrWireFormat: the value is not in the Confluent wire format (no
	// magic byte 0, shorter than its 5-byte header, a bad Protobuf message
	// index). Poison.
	ErrWireFormat = errors.New("not in the Confluent wire format")
	// ErrMalformed: the payload does not match its schema (truncated,
	// trailing bytes, invalid data, a JSON document that the JSON schema
	// refuses). Poison.
	ErrMalformed = errors.New("payload does not match its schema")
	// ErrBadSchema: the schema the registry holds for an id cannot be used
	// by the decoder: of another type (a PROTOBUF schema for the avro
	// deserializer), unparsable, or not resolvable into the reader schema.
	// Poison: schema ids are immutable, it will not get better.
	ErrBadSchema = errors.New("unusable schema")
	// ErrConfig: an invalid Config or reader schema.
	ErrConfig = errors.New("invalid schema registry config")
)

// IsTransient reports whether err is worth retrying later: the registry
// was unavailable, or a schema id was not found but has not been asked
// for enough times yet (*PendingError). Any other decoding error means
// the record is poison.
func IsTransient(err error) bool {
	var p *PendingError
	return errors.Is(err, ErrRegistryUnavailable) || errors.As(err, &p)
}

// PendingError is a schema id the registry did not know, asked for
// Attempt times out of the Attempts a Decoder makes before it reports the
// id as ErrUnknownSchema for good (a record produced right after its
// schema was registered can reach a registry replica first). It is
// transient and unwraps to ErrUnknownSchema.
type PendingError struct {
	ID       int
	Attempt  int
	Attempts int
}

func (e *PendingError) Error() string {
	return fmt.Sprintf("%v: schema id %d not found (attempt %d of %d before the record is poison)", ErrUnknownSchema, e.ID, e.Attempt, e.Attempts)
}

func (e *PendingError) Unwrap() error { return ErrUnknownSchema }

// FieldError is an invalid config field; it unwraps to ErrConfig.
type FieldError struct {
	Field string // "url", "tls.ca_file" (with the prefix given to ValidateAt)
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }
func (e *FieldError) Unwrap() error { return ErrConfig }
