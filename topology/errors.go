package topology

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Sentinel errors. Every *FieldError of an *Errors wraps one of them (or,
// for a component config, the error of its Validate or UnmarshalJSON
// method), so callers can ask errors.Is(err, topology.ErrCycle) without
// reading messages.
var (
	// ErrSyntax: the input is not well-formed JSON.
	ErrSyntax = errors.New("malformed JSON")
	// ErrType: a JSON value has the wrong type or does not fit its Go type
	// (a fraction or an overflow for an integer).
	ErrType = errors.New("wrong type")
	// ErrUnknownField: an object has a field its type does not know.
	ErrUnknownField = errors.New("unknown field")
	// ErrDuplicateKey: an object names the same key twice.
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrMissingField: a required field is absent.
	ErrMissingField = errors.New("missing required field")
	// ErrInvalid: a value is outside what its field allows (a bad name, a
	// parallelism of 0, a tick on a spout, a bad setting...).
	ErrInvalid = errors.New("invalid value")
	// ErrDuplicateID: two components share an id.
	ErrDuplicateID = errors.New("duplicate component id")
	// ErrUnknownType: a component names a type the Catalog does not know.
	ErrUnknownType = errors.New("unknown component type")
	// ErrUnknownComponent: an input names a component that does not exist.
	ErrUnknownComponent = errors.New("unknown component")
	// ErrUnknownStream: an input names a stream its component does not
	// declare.
	ErrUnknownStream = errors.New("unknown stream")
	// ErrGrouping: an input's grouping is unknown, has wrong fields, or
	// does not fit the stream (direct or not).
	ErrGrouping = errors.New("bad grouping")
	// ErrCycle: bolts read each other's streams in a loop.
	ErrCycle = errors.New("cycle")
	// ErrBadTarget: DecodeConfig was given something other than a non-nil
	// pointer, or a config type holds a Go type JSON cannot fill.
	ErrBadTarget = errors.New("bad decode target")
	// ErrLocalOnly: a component's config is fine in one process but not
	// in a cluster (its ClusterChecker said why; Topology.CheckCluster).
	ErrLocalOnly = errors.New("fits one process, not a cluster")
)

// UnknownTypeError is the Err of the FieldError of a component whose type
// the catalog does not know. It unwraps to ErrUnknownType.
type UnknownTypeError struct {
	Kind Kind
	Name string
}

func (e *UnknownTypeError) Error() string {
	return fmt.Sprintf("unknown %s type %q", e.Kind, e.Name)
}

// Unwrap returns ErrUnknownType.
func (e *UnknownTypeError) Unwrap() error { return ErrUnknownType }

// FieldError is one problem found in a topology, located by the JSON path
// of the offending value, e.g. "bolts[2].inputs[0].fields". Path is empty
// for problems of the document as a whole (malformed JSON).
type FieldError struct {
	Path string
	Msg  string
	// Err is the sentinel (ErrType, ErrCycle...) or, for component
	// configs, the error returned by the config's Validate or
	// UnmarshalJSON method.
	Err error
}

// Error returns "path: message".
func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Unwrap returns the sentinel or underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// Errors holds every problem found in a topology, not only the first, in
// document order. Decode, Validate, Builder.Build and DecodeConfig return
// it (as error) when anything is wrong.
type Errors struct {
	List []*FieldError
}

// Error prints one problem per line, as "path: message".
func (e *Errors) Error() string {
	var b strings.Builder
	for i, fe := range e.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Unwrap returns the *FieldError values, for errors.Is and errors.As.
func (e *Errors) Unwrap() []error {
	errs := make([]error, len(e.List))
	for i, fe := range e.List {
		errs[i] = fe
	}
	return errs
}

// errList collects FieldErrors.
type errList struct {
	list []*FieldError
}

func (l *errList) add(path string, sentinel error, format string, args ...any) {
	l.list = append(l.list, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...), Err: sentinel})
}

func (l *errList) addErr(fe *FieldError) { l.list = append(l.list, fe) }

func (l *errList) len() int { return len(l.list) }

// err returns the collected errors as *Errors in document order, or nil.
func (l *errList) err() error {
	if len(l.list) == 0 {
		return nil
	}
	list := slices.Clone(l.list)
	slices.SortStableFunc(list, func(a, b *FieldError) int {
		ka, kb := pathRank(a.Path), pathRank(b.Path)
		return slices.Compare(ka[:], kb[:])
	})
	// Drop exact duplicates.
	list = slices.CompactFunc(list, func(a, b *FieldError) bool {
		return a.Path == b.Path && a.Msg == b.Msg
	})
	return &Errors{List: list}
}

// pathRank orders errors: document-wide first, then name, config, spouts
// and bolts by index, and within a component its own fields before its
// inputs, by index; other top-level paths last. Errors with equal ranks
// keep the order they were found in.
func pathRank(path string) [3]int {
	head, rest, _ := strings.Cut(path, "[")
	if i := strings.IndexByte(head, '.'); i >= 0 {
		head = head[:i]
	}
	var rank int
	switch head {
	case "":
		if path == "" {
			return [3]int{0}
		}
		return [3]int{6}
	case "name":
		return [3]int{1}
	case "config":
		return [3]int{2}
	case "spouts":
		rank = 3
	case "bolts":
		rank = 4
	default:
		return [3]int{5}
	}
	if !strings.HasPrefix(path, head+"[") {
		return [3]int{rank}
	}
	num, rest, _ := strings.Cut(rest, "]")
	comp, err := strconv.Atoi(num)
	if err != nil {
		return [3]int{rank}
	}
	input := 0
	if after, ok := strings.CutPrefix(rest, ".inputs["); ok {
		num, _, _ := strings.Cut(after, "]")
		if n, err := strconv.Atoi(num); err == nil {
			input = n + 1
		}
	}
	return [3]int{rank, comp + 1, input}
}
