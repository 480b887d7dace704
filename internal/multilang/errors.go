package multilang

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned or reported by this package wrap one of
// them; match with errors.Is.
var (
	// ErrStart means the subprocess could not be started (command not
	// found, not executable, bad working directory).
	ErrStart = errors.New("multilang: cannot start subprocess")
	// ErrHandshake means the subprocess did not answer the setup message
	// with {"pid": N} in time, or exited before it did.
	ErrHandshake = errors.New("multilang: handshake failed")
	// ErrExited means the subprocess exited or closed its stdout.
	ErrExited = errors.New("multilang: subprocess exited")
	// ErrBrokenPipe means writing to the subprocess's stdin failed.
	ErrBrokenPipe = errors.New("multilang: broken pipe to subprocess")
	// ErrHeartbeatTimeout means the subprocess sent nothing (not even the
	// sync that answers a heartbeat) within the heartbeat timeout; it is
	// killed as hung.
	ErrHeartbeatTimeout = errors.New("multilang: subprocess heartbeat timeout")
	// ErrMalformed means a message from the subprocess is not valid JSON.
	ErrMalformed = errors.New("multilang: malformed message")
	// ErrTooLarge means a message from the subprocess is longer than the
	// reader's limit.
	ErrTooLarge = errors.New("multilang: message too large")
	// ErrProtocol means a message is valid JSON but not a valid multilang
	// message (no command, a field of the wrong type, a command that is
	// not allowed here).
	ErrProtocol = errors.New("multilang: protocol error")
	// ErrJunk means the subprocess wrote text to stdout that is not part
	// of a protocol message (a stray print). It is reported, not fatal.
	ErrJunk = errors.New("multilang: non-protocol output on stdout")
	// ErrUnknownID means the subprocess acked, failed or anchored to a
	// tuple id that is not in flight (never sent, or already acked or
	// failed). It is reported, not fatal.
	ErrUnknownID = errors.New("multilang: unknown tuple id")
	// ErrUnknownCommand means the subprocess sent a command this side does
	// not know. It is reported, not fatal.
	ErrUnknownCommand = errors.New("multilang: unknown command")
	// ErrUndeclaredStream means the subprocess emitted on a stream the
	// component does not declare, or with the wrong number of values. The
	// emit is dropped and reported.
	ErrUndeclaredStream = errors.New("multilang: emit does not match declared outputs")
	// ErrDirectEmit means the subprocess emitted with "task" on a stream
	// that is not declared direct (Storm's "Cannot emitDirect to a task
	// expecting a regular grouping"), or without "task" on a direct one.
	// The emit is dropped and reported.
	ErrDirectEmit = errors.New("multilang: direct emit does not match the stream")
	// ErrEncode means a tuple could not be encoded as JSON for the
	// subprocess (e.g. a NaN float); the tuple is failed.
	ErrEncode = errors.New("multilang: cannot encode tuple")
	// ErrSubprocess wraps an error the subprocess reported itself with the
	// "error" command.
	ErrSubprocess = errors.New("multilang: subprocess reported an error")
	// ErrClosed means the component was cleaned up (or is being).
	ErrClosed = errors.New("multilang: component closed")
	// ErrConfig means the configuration is invalid.
	ErrConfig = errors.New("multilang: invalid config")
)

// Error is an error of one shell component's subprocess. It names the
// component, the command and the pid so that the report in logs, metrics
// and the UI says where it came from; Stderr holds the last lines the
// subprocess wrote to stderr, if any.
type Error struct {
	Kind      string // "bolt" or "spout"
	Component string
	Command   []string
	Pid       int // 0 when no process was started
	Err       error
	Stderr    []string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "shell %s %q (%s", e.Kind, e.Component, strings.Join(e.Command, " "))
	if e.Pid > 0 {
		fmt.Fprintf(&b, ", pid %d", e.Pid)
	}
	b.WriteString("): ")
	b.WriteString(e.Err.Error())
	if len(e.Stderr) > 0 {
		b.WriteString("; stderr: ")
		b.WriteString(strings.Join(e.Stderr, " | "))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// JunkError carries the stray lines a subprocess printed to stdout. It
// wraps ErrJunk.
type JunkError struct {
	Lines []string
}

func (e *JunkError) Error() string {
	const max = 5
	lines := e.Lines
	more := ""
	if len(lines) > max {
		more = fmt.Sprintf(" (and %d more lines)", len(lines)-max)
		lines = lines[:max]
	}
	return fmt.Sprintf("%v: %q%s", ErrJunk, lines, more)
}

// Unwrap returns ErrJunk.
func (e *JunkError) Unwrap() error { return ErrJunk }
