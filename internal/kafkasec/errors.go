package kafkasec

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors.
var (
	// ErrConfig: a Security is not valid (Validate), or what it names
	// cannot be read (Apply: a missing file, an unset variable).
	ErrConfig = errors.New("invalid kafka security config")
	// ErrPasswordInConfig: the JSON holds a "password"; give password_env
	// or password_file.
	ErrPasswordInConfig = errors.New(`a password in the config is refused (it would be stored and shown with it): ` +
		`give "password_env" (the name of an environment variable) or "password_file"`)
	// ErrAuth: the brokers refused the SASL login (an *AuthError).
	ErrAuth = errors.New("kafka SASL login refused")
	// ErrTLS: no TLS session with the brokers (a *TLSError).
	ErrTLS = errors.New("kafka TLS handshake failed")
)

// AuthError is a SASL login the brokers refused: a wrong user or password,
// or a mechanism the listener does not offer. It names what was tried,
// never the password, and unwraps to ErrAuth and the client's error.
type AuthError struct {
	Brokers   []string // the listener(s) dialled
	Mechanism string
	User      string
	Err       error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("%v: %s as %q on %s (check the user and password, and that the listener offers %s): %v",
		ErrAuth, e.Mechanism, e.User, strings.Join(e.Brokers, ","), e.Mechanism, e.Err)
}

// Unwrap returns ErrAuth and the client's error.
func (e *AuthError) Unwrap() []error { return []error{ErrAuth, e.Err} }

// TLSError is a TLS handshake with the brokers that failed: their
// certificate does not verify (an unknown authority, another name) or the
// port does not speak TLS. It unwraps to ErrTLS and the client's error.
type TLSError struct {
	Brokers []string
	Hint    string // what to check
	Err     error
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("%v with %s (%s): %v", ErrTLS, strings.Join(e.Brokers, ","), e.Hint, e.Err)
}

// Unwrap returns ErrTLS and the client's error.
func (e *TLSError) Unwrap() []error { return []error{ErrTLS, e.Err} }
