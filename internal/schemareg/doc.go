// Package schemareg reads records in the Confluent wire format with the
// schemas of a Confluent-compatible schema registry (Confluent Schema
// Registry, Apicurio Registry's /apis/ccompat/v7, Redpanda, Karapace).
//
// A Client fetches schemas by id (cached: ids are immutable; at most
// CacheSize of them, the least recently used forgotten first) and by
// subject and version; it is built on github.com/twmb/franz-go/pkg/sr.
// Its errors are classified: ErrUnknownSchema when the registry says the
// schema does not exist (codes 40401-40403), ErrRegistryUnavailable for
// anything else (network, timeout, 5xx, a refused login, a 404 that is
// not a registry's): retry later. Config is its JSON config; it holds no
// password (password_env or password_file), and prints none.
//
// A Decoder turns a record value (magic byte 0, a 4-byte big-endian schema
// id, for Protobuf the message index array, the payload) into Go values
// that Gale's tuple codec carries:
//
//	Avro                                   Go
//	record, map                            map[string]any
//	array                                  []any
//	null                                   nil
//	boolean, int, long, float, double      bool, int32, int64, float32, float64
//	string, enum                           string
//	bytes, fixed                           []byte
//	union                                  the value of its branch (no wrapper)
//	timestamp-millis, timestamp-micros     time.Time (UTC); also -nanos and local-timestamp-*
//	date                                   int32 (days since 1970-01-01)
//	time-millis, time-micros               int32 (ms), int64 (µs) since midnight
//	decimal (bytes or fixed)               string, the exact decimal text ("-12.30")
//	uuid                                   string
//	duration                               []byte (its 12 bytes)
//
//	Protobuf                               Go
//	message                                map[string]any keyed by field names (proto names)
//	int32, sint32, sfixed32                int32
//	int64, sint64, sfixed64                int64
//	uint32, fixed32 / uint64, fixed64      uint32 / uint64
//	float, double, bool, string, bytes     float32, float64, bool, string, []byte
//	enum                                   the value's name (its number as text if unnamed)
//	repeated                               []any
//	map<K, V>                              map[string]any, keys as text
//	google.protobuf.Timestamp              time.Time (UTC)
//
// Every field of a Protobuf message is in its map: an unset scalar of
// proto3 (implicit presence) at its default, an unset message, oneof
// member or proto3 optional field nil. Other well-known types are plain
// messages. json_schema values are decoded as the kafka spout's json
// deserializer does (json.Number numbers) and validated against their
// JSON schema (github.com/santhosh-tekuri/jsonschema/v6; $refs resolve
// only to the schema's registry references, nothing else is loaded).
//
// An Avro Decoder may have a reader schema: each writer schema is
// resolved into it (Avro schema resolution: reader fields missing from the
// writer take their defaults, writer fields missing from the reader are
// skipped, types are promoted), so that records of several schema
// versions decode to one shape.
//
// After the registry failed to answer, a Decoder does not ask it again
// for DefaultQuiet (1 s): schemas it has not cached fail at once, so that
// a caller retrying many records waits for one request's timeout, not one
// per record.
//
// Errors are transient (IsTransient: the registry is unavailable; a
// schema id not found fewer than DefaultAttempts times, *PendingError) or
// poison: ErrWireFormat (no magic byte, a short header, a bad message
// index array), ErrUnknownSchema (an id not found DefaultAttempts times),
// ErrBadSchema (a schema of another type, unparsable, or that does not
// resolve into the reader schema) and ErrMalformed (a payload that does
// not match its schema).
//
// # Why github.com/twmb/avro
//
// hamba/avro, the usual Go Avro library, declared itself unmaintained in
// 2026 and has open security advisories. github.com/twmb/avro is
// maintained (by franz-go's author, whose registry client this package
// uses), decodes into any with the natural Go types, implements Avro
// schema resolution (Resolve) and named-type references across schemas
// (SchemaCache, for registry references), bounds what hostile input can
// cost (schema and value budgets), and lets logical types be mapped per
// schema (CustomType), which is how date, decimal and uuid get the values
// above.
package schemareg
