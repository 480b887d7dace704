// Package parquetfile writes Parquet files from Avro records (values in
// the canonical form of package internal/avro) and reads back what
// `gale verify` needs of them, with github.com/parquet-go/parquet-go.
//
// The Parquet schema derives from the Avro schema (the root must be a
// record):
//
//	record                    -> group
//	array                     -> LIST (3-level: list / element)
//	map                       -> MAP (key_value / key: STRING, value)
//	union [null, T]           -> T, optional (any other union is refused)
//	boolean                   -> BOOLEAN
//	int / long                -> INT32 / INT64
//	float / double            -> FLOAT / DOUBLE
//	string, enum              -> BYTE_ARRAY STRING
//	bytes                     -> BYTE_ARRAY
//	fixed                     -> FIXED_LEN_BYTE_ARRAY(size)
//	timestamp-millis/-micros  -> INT64 TIMESTAMP(MILLIS/MICROS, UTC)
//	date                      -> INT32 DATE
//	decimal(p, s)             -> DECIMAL(p, s): INT32 for p <= 9, INT64
//	                             for p <= 18, else FIXED_LEN_BYTE_ARRAY of
//	                             the fewest bytes that hold p digits
//
// Fields not in a union with null are required. The columns of a group are
// in the order of their names (parquet-go orders a group's fields so); a
// reader finds them by name. The Avro schema is kept in the footer under
// "parquet.avro.schema", as parquet-avro does.
package parquetfile
