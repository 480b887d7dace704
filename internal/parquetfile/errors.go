package parquetfile

import "errors"

// ErrSchema is wrapped by the errors of an Avro schema Parquet cannot hold.
var ErrSchema = errors.New("avro schema cannot be written as parquet")

// ErrFile is wrapped by the errors of a file that cannot be read.
var ErrFile = errors.New("not a valid parquet file")
