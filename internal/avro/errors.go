package avro

import (
	"errors"
	"fmt"
)

// ErrFile is wrapped by the errors of a file that cannot be read.
var ErrFile = errors.New("not a valid avro object container file")

// SchemaError is a schema that cannot be parsed; Path says where in the
// schema ("fields[2].type").
type SchemaError struct {
	Path string
	Msg  string
}

func (e *SchemaError) Error() string {
	if e.Path == "" {
		return "avro schema: " + e.Msg
	}
	return fmt.Sprintf("avro schema: at %s: %s", e.Path, e.Msg)
}

// ValueError is a value that does not fit the schema; Path names the
// field ("value.user.tags[2]").
type ValueError struct {
	Path string
	Msg  string
}

func (e *ValueError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return fmt.Sprintf("at %s: %s", e.Path, e.Msg)
}
