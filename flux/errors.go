package flux

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Sentinel errors. Every *Error of an *Errors wraps one of them, or the
// *topology.FieldError that Gale's validation of the converted topology
// reported (so errors.Is(err, topology.ErrGrouping) works on those).
var (
	// ErrSyntax: the input is not well-formed YAML.
	ErrSyntax = errors.New("malformed YAML")
	// ErrLimit: the input is larger, deeper or expands to more values
	// than a topology can need (MaxFileSize, MaxDepth, MaxNodes,
	// MaxIncludes).
	ErrLimit = errors.New("input too large")
	// ErrType: a value has the wrong YAML type.
	ErrType = errors.New("wrong type")
	// ErrUnknownField: a mapping has a field Flux's model does not know.
	ErrUnknownField = errors.New("unknown field")
	// ErrMissingField: a required field is absent.
	ErrMissingField = errors.New("missing required field")
	// ErrInvalid: a value is outside what its field allows.
	ErrInvalid = errors.New("invalid value")
	// ErrNoEquivalent: the file names a Java class, a grouping or a
	// feature that Gale has no equivalent for.
	ErrNoEquivalent = errors.New("no Gale equivalent")
	// ErrInclude: an included file cannot be read.
	ErrInclude = errors.New("bad include")
)

// Error is one problem of a Flux file, located by its file, line and the
// path of the offending value in Flux's model ("bolts[2].className",
// "streams[1].grouping.args[0]").
type Error struct {
	File string // as given (the main file, or an include's path); may be empty
	Line int    // 1-based; 0 when unknown
	Path string // empty for the document as a whole
	Msg  string
	Err  error // a sentinel above, or a *topology.FieldError
}

// Error returns "file:line: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel or the topology error.
func (e *Error) Unwrap() error { return e.Err }

// Errors holds every problem found, in the order they were found.
type Errors struct {
	List []*Error
}

// Error prints one problem per line.
func (e *Errors) Error() string {
	s := make([]string, len(e.List))
	for i, x := range e.List {
		s[i] = x.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the *Error values, for errors.Is and errors.As.
func (e *Errors) Unwrap() []error {
	out := make([]error, len(e.List))
	for i, x := range e.List {
		out[i] = x
	}
	return out
}

// Warning is something the conversion dropped or changed that does not
// change what the topology computes (a resource-aware scheduling hint, a
// placeholder left unsubstituted). It prints like an Error.
type Warning = Error

// loc is where a value came from.
type loc struct {
	file string
	path string
	line int
}

type errList struct {
	list []*Error
}

func (l *errList) add(at loc, sentinel error, format string, args ...any) {
	l.list = append(l.list, &Error{File: at.file, Line: at.line, Path: at.path, Msg: fmt.Sprintf(format, args...), Err: sentinel})
}

// err returns the errors in document order: by file (in the order they
// were first met), then by line.
func (l *errList) err() error {
	if len(l.list) == 0 {
		return nil
	}
	rank := map[string]int{}
	for _, e := range l.list {
		if _, ok := rank[e.File]; !ok {
			rank[e.File] = len(rank)
		}
	}
	list := slices.Clone(l.list)
	slices.SortStableFunc(list, func(a, b *Error) int {
		if c := cmp.Compare(rank[a.File], rank[b.File]); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return &Errors{List: list}
}
