package shell

import "github.com/gale-stream/gale/internal/multilang"

// Errors of shell bolts and of shell spouts (package spout/shell). Errors
// reported to the collector, or returned by a spout, are *Error values
// (they name the component, command and pid) that wrap one of these; match
// with errors.Is.
var (
	// ErrConfig means the config is invalid (e.g. no command).
	ErrConfig = multilang.ErrConfig
	// ErrStart means the command could not be started.
	ErrStart = multilang.ErrStart
	// ErrHandshake means the subprocess exited or failed before answering
	// the handshake with its pid.
	ErrHandshake = multilang.ErrHandshake
	// ErrExited means the subprocess exited (it is restarted).
	ErrExited = multilang.ErrExited
	// ErrBrokenPipe means writing to the subprocess failed (it is
	// restarted).
	ErrBrokenPipe = multilang.ErrBrokenPipe
	// ErrHeartbeatTimeout means the subprocess was silent past the
	// heartbeat timeout and was killed (it is restarted).
	ErrHeartbeatTimeout = multilang.ErrHeartbeatTimeout
	// ErrMalformed means the subprocess wrote invalid JSON (it is
	// restarted).
	ErrMalformed = multilang.ErrMalformed
	// ErrProtocol means the subprocess wrote a message that is not valid
	// multilang (it is restarted).
	ErrProtocol = multilang.ErrProtocol
	// ErrJunk means the subprocess printed non-protocol text to stdout
	// (reported only).
	ErrJunk = multilang.ErrJunk
	// ErrUnknownID means an ack, fail or anchor named a tuple that is not
	// in flight (reported only).
	ErrUnknownID = multilang.ErrUnknownID
	// ErrUndeclaredStream means an emit does not match the declared
	// outputs; it is dropped (reported only).
	ErrUndeclaredStream = multilang.ErrUndeclaredStream
	// ErrSubprocess wraps what the subprocess reported with "error".
	ErrSubprocess = multilang.ErrSubprocess
	// ErrClosed means the component was cleaned up.
	ErrClosed = multilang.ErrClosed
)

// Error is the type of reported errors.
type Error = multilang.Error

// JunkError carries the stray lines a subprocess printed to stdout.
type JunkError = multilang.JunkError
