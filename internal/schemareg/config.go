package schemareg

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/gale-stream/gale/topology"
)

// Config is how to reach a Confluent-compatible schema registry. The JSON
// (the "schema_registry" object of the kafka spout):
//
//	{"url": "https://registry:8081",
//	 "username": "gale", "password_env": "GALE_REGISTRY_PASSWORD",
//	 "tls": {"ca_file": "/etc/gale/registry-ca.pem"},
//	 "timeout": "5s"}
//
// A topology holds no secret: the password comes from an environment
// variable of the worker (password_env) or a file (password_file). String
// and LogValue never show it (nor a password written into the URL).
type Config struct {
	// URL is the registry's base URL, the one the Confluent API's paths
	// follow ("http://127.0.0.1:8081/apis/ccompat/v7" for Apicurio
	// Registry). Required; http or https.
	URL string `json:"url"`
	// Username turns on HTTP basic auth; the password is read from
	// PasswordEnv or PasswordFile (one of them).
	Username string `json:"username,omitempty"`
	// PasswordEnv names the environment variable holding the password.
	PasswordEnv string `json:"password_env,omitempty"`
	// PasswordFile is a file holding the password (white space around it
	// is trimmed).
	PasswordFile string `json:"password_file,omitempty"`
	// TLS is the trust and client certificate for an https URL.
	TLS TLS `json:"tls"`
	// Timeout bounds each request to the registry (default 5s).
	Timeout topology.Duration `json:"timeout,omitempty"`
}

// TLS configures an https registry.
type TLS struct {
	// CAFile is a PEM file of the certificates trusted to sign the
	// registry's certificate (default: the system's).
	CAFile string `json:"ca_file,omitempty"`
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// a registry that authenticates clients by certificate (both or
	// neither).
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
}

// DefaultTimeout bounds a request when Config.Timeout is 0.
const DefaultTimeout = 5 * time.Second

// envName is what an environment variable's name looks like.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks c without reading files or the environment. Its errors
// are *FieldError naming the field ("url: ...") and unwrap to ErrConfig.
func (c *Config) Validate() error { return c.ValidateAt("") }

// ValidateAt is Validate with the fields named under path
// ("schema_registry" gives "schema_registry.url: ...").
func (c *Config) ValidateAt(path string) error {
	field := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field(name), Msg: fmt.Sprintf(format, args...)})
	}
	var scheme string
	if c.URL == "" {
		bad("url", "is required (the registry's base URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7)")
	} else if u, err := url.Parse(c.URL); err != nil {
		// the URL is not echoed: it may hold a password
		bad("url", "is not a URL")
	} else {
		scheme = u.Scheme
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			bad("url", "must start with http:// or https://")
		case u.Host == "":
			bad("url", "has no host")
		case u.User != nil:
			bad("url", "must not hold a user or password: use username and password_env or password_file")
		}
	}
	n := 0
	for _, set := range []bool{c.PasswordEnv != "", c.PasswordFile != ""} {
		if set {
			n++
		}
	}
	switch {
	case c.Username == "" && n > 0:
		bad("username", "is required with password_env or password_file")
	case c.Username != "" && n == 0:
		bad("password_env", "a password is required with username: give password_env (an environment variable's name) or password_file")
	case n > 1:
		bad("password_env", "give one of password_env and password_file, not both")
	}
	// the value is not shown: a password pasted there must not reach a log
	if c.PasswordEnv != "" && !envName.MatchString(c.PasswordEnv) {
		bad("password_env", "must name an environment variable (letters, digits and _, not starting with a digit), not hold the password")
	}
	switch {
	case c.TLS.CertFile != "" && c.TLS.KeyFile == "":
		bad("tls.cert_file", "is set without tls.key_file (the client certificate's key)")
	case c.TLS.KeyFile != "" && c.TLS.CertFile == "":
		bad("tls.key_file", "is set without tls.cert_file (the client certificate)")
	}
	if scheme == "http" && (c.TLS.CAFile != "" || c.TLS.CertFile != "") {
		bad("tls", "is set but the url is http://, not https://")
	}
	if c.Timeout < 0 {
		bad("timeout", "must not be negative")
	}
	return errors.Join(errs...)
}

// timeout is Timeout with its default.
func (c *Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return time.Duration(c.Timeout)
}

// password reads the password (empty without a Username). Its errors
// name where it was looked for, never what was found.
func (c *Config) password() (string, error) {
	switch {
	case c.Username == "":
		return "", nil
	case c.PasswordEnv != "":
		pw, ok := os.LookupEnv(c.PasswordEnv)
		if !ok || pw == "" {
			return "", &FieldError{Field: "password_env", Msg: fmt.Sprintf("the environment variable %s is not set (or empty)", c.PasswordEnv)}
		}
		return pw, nil
	default:
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return "", &FieldError{Field: "password_file", Msg: err.Error()}
		}
		pw := strings.TrimSpace(string(b))
		if pw == "" {
			return "", &FieldError{Field: "password_file", Msg: fmt.Sprintf("%s is empty", c.PasswordFile)}
		}
		return pw, nil
	}
}

// tlsConfig loads the CA and the client certificate; nil when none is set.
func (c *Config) tlsConfig() (*tls.Config, error) {
	t := c.TLS
	if t.CAFile == "" && t.CertFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, &FieldError{Field: "tls.ca_file", Msg: err.Error()}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &FieldError{Field: "tls.ca_file", Msg: fmt.Sprintf("%s holds no PEM certificate", t.CAFile)}
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, &FieldError{Field: "tls.cert_file", Msg: err.Error()}
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// redactedURL is URL with any password replaced by "xxxxx".
func (c Config) redactedURL() string {
	u, err := url.Parse(c.URL)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}

// String describes the config without any password.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("schema registry " + c.redactedURL())
	switch {
	case c.Username != "" && c.PasswordEnv != "":
		fmt.Fprintf(&b, " as %s (password from $%s)", c.Username, c.PasswordEnv)
	case c.Username != "":
		fmt.Fprintf(&b, " as %s (password from %s)", c.Username, c.PasswordFile)
	}
	if c.TLS.CAFile != "" {
		fmt.Fprintf(&b, " trusting %s", c.TLS.CAFile)
	}
	if c.TLS.CertFile != "" {
		fmt.Fprintf(&b, " with the client certificate %s", c.TLS.CertFile)
	}
	return b.String()
}

// GoString is String: %#v does not show a password either.
func (c Config) GoString() string { return c.String() }

// LogValue is what log/slog shows: the fields, without any password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", c.redactedURL()),
		slog.String("username", c.Username),
		slog.String("password_env", c.PasswordEnv),
		slog.String("password_file", c.PasswordFile),
		slog.String("tls_ca_file", c.TLS.CAFile),
		slog.String("tls_cert_file", c.TLS.CertFile),
	)
}
