package registry

import "errors"

// Errors returned when registering or looking up types.
var (
	// ErrDuplicate means a type of that kind and name is already registered.
	ErrDuplicate = errors.New("type already registered")
	// ErrBadName means the name is not lowercase letters, digits, '_', '.'
	// or '-' starting with a letter.
	ErrBadName = errors.New("bad type name")
	// ErrNoFactory means the type has no New function.
	ErrNoFactory = errors.New("type has no New function")
	// ErrUnknownType means no type of that name is registered.
	ErrUnknownType = errors.New("unknown type")
	// ErrConfigType means a config of another type than the component
	// type's reached it: Outputs made by Declare for another config type
	// (refused at registration), or settings a catalog other than the
	// type's registry decoded.
	ErrConfigType = errors.New("wrong config type")
)
