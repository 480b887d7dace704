// Package avro is the Avro the sinks' formats need: schemas (Parse), the
// coercion of the Go values Gale's deserializers emit into a schema's
// canonical values (Coerce, whose errors name the field at fault), their
// binary encoding (AppendBinary), Object Container Files written
// deterministically (AppendFile: fixed records per block, a sync marker
// chosen by the caller) and read back for `gale verify` (ReadFile: record
// by record, bounded memory, any damage an ErrFile).
//
// It is hand-written, with no Avro library: the sinks need generic values
// (no generated code), one canonical encoding per value (a map's entries
// in key order, an array in one block) and a sync marker derived from the
// object, and the code is small; fastavro reads what it writes (the
// sinks' tests).
package avro
