package store

import (
	"errors"
	"fmt"
)

// Errors of the store. Operations return them wrapped in a *RecordError
// that names the record; match them with errors.Is.
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("store: record not found")
	// ErrExists: a create (expected version 0) found the record.
	ErrExists = errors.New("store: record already exists")
	// ErrConflict: the record's version is not the expected one; re-read
	// it and retry. A Put's ErrExists and ErrNotFound match it too.
	ErrConflict = errors.New("store: version conflict")
	// ErrStale: an assignment's epoch is not newer than the stored one.
	ErrStale = errors.New("store: stale assignment epoch")
	// ErrInvalid: the record handed to the store is not valid (a bad name,
	// status, JSON, parallelism or epoch); nothing was written.
	ErrInvalid = errors.New("store: invalid record")
	// ErrCorrupt: a stored record cannot be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)

// RecordError is the error of an operation on one record.
type RecordError struct {
	// Op is "put", "get", "list", "delete" or "watch".
	Op string
	// Kind and Name name the record (Name is empty for list and watch).
	Kind Kind
	Name string
	// Want is the version (or epoch) the caller expected or offered and
	// Have the stored one (0: none), for conflicts and stale epochs.
	Want, Have uint64
	// Err is a sentinel above, or the error of the backend.
	Err error
}

func (e *RecordError) Error() string {
	what := string(e.Kind)
	if e.Name != "" {
		what += fmt.Sprintf(" %q", e.Name)
	}
	switch {
	case errors.Is(e.Err, ErrStale):
		return fmt.Sprintf("%s assignment %q: epoch %d, stored epoch %d: %v", e.Op, e.Name, e.Want, e.Have, e.Err)
	case errors.Is(e.Err, ErrConflict), errors.Is(e.Err, ErrExists):
		return fmt.Sprintf("%s %s: expected version %d, stored version %d: %v", e.Op, what, e.Want, e.Have, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Op, what, e.Err)
}

// Unwrap returns Err, and ErrConflict as well when Err is the ErrExists or
// ErrNotFound of a compare-and-set that failed.
func (e *RecordError) Unwrap() []error {
	if e.Op == "put" && (e.Kind == KindTopology || e.Kind == KindLease) && (e.Err == ErrExists || e.Err == ErrNotFound) ||
		e.Op == "delete" && e.Kind == KindTopology && e.Err == ErrNotFound {
		return []error{e.Err, ErrConflict}
	}
	return []error{e.Err}
}
