package kafkasec

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	fscram "github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/xdg-go/scram"
)

// Security is the TLS and SASL of connections to Kafka brokers; the zero
// value is plaintext without a login. See the package doc for the JSON.
type Security struct {
	// TLS encrypts the connections and checks the brokers' certificates.
	TLS TLS `json:"tls"`
	// SASL logs in with a user and password.
	SASL SASL `json:"sasl"`
}

// TLS configures TLS to the brokers.
type TLS struct {
	// Enabled turns TLS on; the other fields need it.
	Enabled bool `json:"enabled"`
	// CAFile is a PEM file of the certificates trusted to sign the
	// brokers' certificates (default: the system's).
	CAFile string `json:"ca_file,omitempty"`
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// brokers that authenticate clients by certificate (both or neither).
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	// ServerName is the name the brokers' certificates must hold (default:
	// the host of the address dialled).
	ServerName string `json:"server_name,omitempty"`
	// InsecureSkipVerify accepts any certificate: the connection is
	// encrypted but the brokers are not authenticated. Tests only.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
}

// The SASL mechanisms.
const (
	PLAIN       = "PLAIN"
	SCRAMSHA256 = "SCRAM-SHA-256"
	SCRAMSHA512 = "SCRAM-SHA-512"
)

// Mechanisms are the SASL mechanisms Gale speaks.
var Mechanisms = []string{PLAIN, SCRAMSHA256, SCRAMSHA512}

// SASL configures the SASL login.
type SASL struct {
	// Mechanism is one of Mechanisms; empty means no login.
	Mechanism string `json:"mechanism,omitempty"`
	// Username is the user to log in as.
	Username string `json:"username,omitempty"`
	// PasswordEnv names the environment variable (of the process that
	// connects: the worker) holding the password.
	PasswordEnv string `json:"password_env,omitempty"`
	// PasswordFile is a file holding the password (white space around it
	// is trimmed), read at each connection.
	PasswordFile string `json:"password_file,omitempty"`
	// Password is for programs that hold the password themselves (the
	// CLI reads it from a flag, a file or a variable); it is refused in
	// JSON and never printed.
	Password Secret `json:"password,omitempty"`
	// AllowPlainWithoutTLS lets PLAIN, which sends the password as it is,
	// run without TLS (a SASL_PLAINTEXT listener on a trusted network).
	AllowPlainWithoutTLS bool `json:"allow_plain_without_tls,omitempty"`
}

// Secret is a password held by the program. It prints as "[hidden]"; JSON
// cannot set it (ErrPasswordInConfig) and it is written as null.
type Secret string

// String hides the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[hidden]"
}

// GoString hides the secret from %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalJSON writes null: a secret never leaves the process in JSON.
func (Secret) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// UnmarshalJSON accepts null and refuses any password with
// ErrPasswordInConfig.
func (s *Secret) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	return ErrPasswordInConfig
}

// configError is an invalid field; it unwraps to ErrConfig.
type configError struct {
	field, msg string
}

func (e *configError) Error() string { return e.field + ": " + e.msg }
func (e *configError) Unwrap() error { return ErrConfig }

func invalid(field, format string, args ...any) error {
	return &configError{field: field, msg: fmt.Sprintf(format, args...)}
}

// envName is what an environment variable's name looks like.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks s without reading files or the environment. Its errors
// name the field ("sasl.mechanism: ...") and unwrap to ErrConfig.
func (s Security) Validate() error {
	var errs []error
	t := s.TLS
	if !t.Enabled {
		for _, f := range []struct {
			name string
			set  bool
		}{{"ca_file", t.CAFile != ""}, {"cert_file", t.CertFile != ""}, {"key_file", t.KeyFile != ""},
			{"server_name", t.ServerName != ""}, {"insecure_skip_verify", t.InsecureSkipVerify}} {
			if f.set {
				errs = append(errs, invalid("tls."+f.name, `is set but tls.enabled is false: add "enabled": true`))
			}
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		errs = append(errs, invalid("tls.cert_file", "is set without tls.key_file (the client certificate's key)"))
	case t.KeyFile != "" && t.CertFile == "":
		errs = append(errs, invalid("tls.key_file", "is set without tls.cert_file (the client certificate)"))
	}

	a := s.SASL
	if a.Mechanism == "" {
		if a.Username != "" || a.PasswordEnv != "" || a.PasswordFile != "" || a.Password != "" {
			errs = append(errs, invalid("sasl.mechanism", "is required with a username or password: one of %v", Mechanisms))
		}
		return errors.Join(errs...)
	}
	if !slices.Contains(Mechanisms, a.Mechanism) {
		errs = append(errs, invalid("sasl.mechanism", "%q is not one of %v", a.Mechanism, Mechanisms))
	}
	if a.Username == "" {
		errs = append(errs, invalid("sasl.username", "is required with sasl.mechanism %s", a.Mechanism))
	}
	n := 0
	for _, set := range []bool{a.PasswordEnv != "", a.PasswordFile != "", a.Password != ""} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		errs = append(errs, invalid("sasl", "a password is required: give password_env (an environment variable's name) or password_file"))
	case n > 1:
		errs = append(errs, invalid("sasl", "give one of password_env and password_file, not both"))
	}
	// the value is not shown: a password pasted there must not reach a log
	if a.PasswordEnv != "" && !envName.MatchString(a.PasswordEnv) {
		errs = append(errs, invalid("sasl.password_env", "must name an environment variable (letters, digits and _, not starting with a digit), not hold the password"))
	}
	if a.Mechanism == PLAIN && !t.Enabled && !a.AllowPlainWithoutTLS {
		errs = append(errs, invalid("sasl.mechanism", "PLAIN sends the password as it is: enable tls (or use SCRAM-SHA-512; "+
			"sasl.allow_plain_without_tls accepts the risk)"))
	}
	return errors.Join(errs...)
}

// Apply validates s, reads its files and password, and sets up TLS and
// SASL in sc. Its errors name the field and never hold the password.
func (s Security) Apply(sc *sarama.Config) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.TLS.Enabled {
		tc, err := s.TLS.config()
		if err != nil {
			return err
		}
		sc.Net.TLS.Enable = true
		sc.Net.TLS.Config = tc
	}
	if s.SASL.Mechanism == "" {
		return nil
	}
	pw, err := s.SASL.password()
	if err != nil {
		return err
	}
	sc.Net.SASL.Enable = true
	sc.Net.SASL.Mechanism = sarama.SASLMechanism(s.SASL.Mechanism)
	sc.Net.SASL.User = s.SASL.Username
	sc.Net.SASL.Password = pw
	sc.Net.SASL.Handshake = true
	sc.Net.SASL.Version = sarama.SASLHandshakeV1
	switch s.SASL.Mechanism {
	case SCRAMSHA256:
		sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAMClient(scram.SHA256) }
	case SCRAMSHA512:
		sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAMClient(scram.SHA512) }
	}
	return nil
}

// KgoOpts is Apply for a franz-go client (the kafka spout reads with one):
// the same TLS and SASL, the files and the password read now.
func (s Security) KgoOpts() ([]kgo.Opt, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var opts []kgo.Opt
	if s.TLS.Enabled {
		tc, err := s.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if s.SASL.Mechanism == "" {
		return opts, nil
	}
	pw, err := s.SASL.password()
	if err != nil {
		return nil, err
	}
	switch s.SASL.Mechanism {
	case PLAIN:
		opts = append(opts, kgo.SASL(plain.Auth{User: s.SASL.Username, Pass: pw}.AsMechanism()))
	case SCRAMSHA256:
		opts = append(opts, kgo.SASL(fscram.Auth{User: s.SASL.Username, Pass: pw}.AsSha256Mechanism()))
	case SCRAMSHA512:
		opts = append(opts, kgo.SASL(fscram.Auth{User: s.SASL.Username, Pass: pw}.AsSha512Mechanism()))
	}
	return opts, nil
}

// config builds the tls.Config.
func (t TLS) config() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, invalid("tls.ca_file", "%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, invalid("tls.ca_file", "%s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, invalid("tls.cert_file", "with tls.key_file: %v", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// password reads the password from where a says.
func (a SASL) password() (string, error) {
	switch {
	case a.Password != "":
		return string(a.Password), nil
	case a.PasswordFile != "":
		b, err := os.ReadFile(a.PasswordFile)
		if err != nil {
			return "", invalid("sasl.password_file", "%v", err)
		}
		pw := strings.TrimSpace(string(b))
		if pw == "" {
			return "", invalid("sasl.password_file", "%s is empty", a.PasswordFile)
		}
		return pw, nil
	default:
		pw := os.Getenv(a.PasswordEnv)
		if pw == "" {
			return "", invalid("sasl.password_env", "$%s is not set (or empty) in this process's environment", a.PasswordEnv)
		}
		return pw, nil
	}
}

// Explain returns err, from a client of brokers configured by s, as an
// *AuthError when the brokers refused the login, or a *TLSError when the
// TLS handshake failed; other errors unchanged.
func (s Security) Explain(brokers []string, err error) error {
	if err == nil {
		return nil
	}
	var ae *AuthError
	var te *TLSError
	if errors.As(err, &ae) || errors.As(err, &te) {
		return err
	}
	if s.SASL.Mechanism != "" && (errors.Is(err, sarama.ErrSASLAuthenticationFailed) ||
		errors.Is(err, sarama.ErrUnsupportedSASLMechanism) || errors.Is(err, sarama.ErrIllegalSASLState) ||
		errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.UnsupportedSaslMechanism) ||
		errors.Is(err, kerr.IllegalSaslState)) {
		return &AuthError{Brokers: slices.Clone(brokers), Mechanism: s.SASL.Mechanism, User: s.SASL.Username, Err: err}
	}
	if hint := tlsHint(err); hint != "" {
		return &TLSError{Brokers: slices.Clone(brokers), Hint: hint, Err: err}
	}
	return err
}

// tlsHint says what to check after a TLS error; "" when err is none.
func tlsHint(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		badCert  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return "the brokers' certificate is signed by an authority not trusted: is tls.ca_file their CA?"
	case errors.As(err, &hostname):
		return "the brokers' certificate is not for the address dialled: check the brokers' names, or tls.server_name"
	case errors.As(err, &badCert):
		return "the brokers' certificate is not valid (expired, or not for a server)"
	case errors.As(err, &verify):
		return "the brokers' certificate did not verify"
	case errors.As(err, &record):
		return "the port does not speak TLS: is it a PLAINTEXT or SASL_PLAINTEXT listener?"
	}
	return ""
}
