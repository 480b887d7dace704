package kafkasec_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/xdg-go/scram"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/topology"
)

const secret = "hunter2-not-to-be-seen"

func scram512(file string) kafkasec.Security {
	return kafkasec.Security{TLS: kafkasec.TLS{Enabled: true},
		SASL: kafkasec.SASL{Mechanism: kafkasec.SCRAMSHA512, Username: "gale", PasswordFile: file}}
}

func TestSecurity_Validate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*kafkasec.Security)
		field string // "" = valid
	}{
		{"zero value: plaintext", func(s *kafkasec.Security) { *s = kafkasec.Security{} }, ""},
		{"scram over tls", func(*kafkasec.Security) {}, ""},
		{"tls only, with a client certificate", func(s *kafkasec.Security) {
			s.SASL = kafkasec.SASL{}
			s.TLS = kafkasec.TLS{Enabled: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", ServerName: "kafka"}
		}, ""},
		{"scram without tls", func(s *kafkasec.Security) { s.TLS.Enabled = false }, ""},
		{"password from the environment", func(s *kafkasec.Security) { s.SASL.PasswordFile, s.SASL.PasswordEnv = "", "KAFKA_PW" }, ""},
		{"unknown mechanism", func(s *kafkasec.Security) { s.SASL.Mechanism = "GSSAPI" }, "sasl.mechanism"},
		{"lower-case mechanism", func(s *kafkasec.Security) { s.SASL.Mechanism = "scram-sha-512" }, "sasl.mechanism"},
		{"no user", func(s *kafkasec.Security) { s.SASL.Username = "" }, "sasl.username"},
		{"no password", func(s *kafkasec.Security) { s.SASL.PasswordFile = "" }, "sasl"},
		{"two passwords", func(s *kafkasec.Security) { s.SASL.PasswordEnv = "KAFKA_PW" }, "sasl"},
		{"user without mechanism", func(s *kafkasec.Security) { s.SASL.Mechanism = "" }, "sasl.mechanism"},
		{"cert without key", func(s *kafkasec.Security) { s.TLS.CertFile = "c.pem" }, "tls.cert_file"},
		{"key without cert", func(s *kafkasec.Security) { s.TLS.KeyFile = "k.pem" }, "tls.key_file"},
		{"ca_file without tls", func(s *kafkasec.Security) { s.TLS = kafkasec.TLS{CAFile: "ca.pem"} }, "tls.ca_file"},
		{"insecure_skip_verify without tls", func(s *kafkasec.Security) { s.TLS = kafkasec.TLS{InsecureSkipVerify: true} }, "tls.insecure_skip_verify"},
		{"plain without tls", func(s *kafkasec.Security) { s.SASL.Mechanism, s.TLS.Enabled = kafkasec.PLAIN, false }, "sasl.mechanism"},
		{"plain without tls, allowed", func(s *kafkasec.Security) {
			s.SASL.Mechanism, s.TLS.Enabled, s.SASL.AllowPlainWithoutTLS = kafkasec.PLAIN, false, true
		}, ""},
		{"a password in password_env", func(s *kafkasec.Security) { s.SASL.PasswordFile, s.SASL.PasswordEnv = "", secret }, "sasl.password_env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := scram512("/run/secrets/kafka")
			tc.mod(&s)
			err := s.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", s)
			}
			if !errors.Is(err, kafkasec.ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
			if !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("error %q does not start with the field %q", err, tc.field)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// A topology's JSON cannot hold a password: Gale's decoder names the path,
// encoding/json refuses it too, and neither error shows it.
func TestSecurity_DecodeRefusesPassword(t *testing.T) {
	raw := `{"tls": {"enabled": true}, "sasl": {"mechanism": "SCRAM-SHA-512", "username": "gale", "password": "` + secret + `"}}`
	var s kafkasec.Security
	err := topology.DecodeConfig(json.RawMessage(raw), &s, "spouts[0].config")
	if err == nil {
		t.Fatal("a password in the JSON was accepted")
	}
	var fe *topology.FieldError
	if !errors.As(err, &fe) || fe.Path != "spouts[0].config.sasl.password" {
		t.Errorf("error %v: want a FieldError at spouts[0].config.sasl.password", err)
	}
	if !errors.Is(err, kafkasec.ErrPasswordInConfig) || !strings.Contains(err.Error(), "password_env") {
		t.Errorf("error %q: want ErrPasswordInConfig, naming password_env", err)
	}
	if s.SASL.Password != "" || strings.Contains(err.Error(), secret) {
		t.Errorf("the password was kept (%q) or shown in %q", string(s.SASL.Password), err)
	}
	if err := json.Unmarshal([]byte(raw), &s); !errors.Is(err, kafkasec.ErrPasswordInConfig) {
		t.Errorf("encoding/json: %v, want ErrPasswordInConfig", err)
	}

	// the strict decoder still names unknown fields, and reads the good ones
	err = topology.DecodeConfig(json.RawMessage(`{"sasl": {"mechanism": "PLAIN", "user": "gale"}}`), &s, "c")
	if err == nil || !errors.Is(err, topology.ErrUnknownField) || !strings.Contains(err.Error(), "c.sasl.user") {
		t.Errorf("unknown field: %v", err)
	}
	s = kafkasec.Security{}
	raw = `{"tls": {"enabled": true, "ca_file": "/ca.pem", "server_name": "kafka"},
	        "sasl": {"mechanism": "SCRAM-SHA-512", "username": "gale", "password_env": "KAFKA_PW", "password": null}}`
	if err := topology.DecodeConfig(json.RawMessage(raw), &s, "c"); err != nil {
		t.Fatal(err)
	}
	want := kafkasec.Security{TLS: kafkasec.TLS{Enabled: true, CAFile: "/ca.pem", ServerName: "kafka"},
		SASL: kafkasec.SASL{Mechanism: "SCRAM-SHA-512", Username: "gale", PasswordEnv: "KAFKA_PW"}}
	if s != want {
		t.Errorf("decoded %+v, want %+v", s, want)
	}
}

// A password held by the program never prints, nor goes out in JSON.
func TestSecret_NeverShown(t *testing.T) {
	s := kafkasec.Security{SASL: kafkasec.SASL{Mechanism: kafkasec.SCRAMSHA512, Username: "gale", Password: secret}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v %s %s", s, s, s, s.SASL.Password, b)
	if strings.Contains(out, secret) {
		t.Fatalf("the password shows in %s", out)
	}
	if !strings.Contains(out, "[hidden]") {
		t.Errorf("no [hidden] in %s", out)
	}
}

// secretFiles writes the password (with white space around it) and a
// CA certificate into dir.
func secretFiles(t *testing.T, dir string) (pwFile, caFile string) {
	pwFile = filepath.Join(dir, "pw")
	write(t, pwFile, "  "+secret+"\n")
	caFile = filepath.Join(dir, "ca.pem")
	write(t, caFile, string(selfSignedPEM(t)))
	return pwFile, caFile
}

func TestSecurity_Apply(t *testing.T) {
	dir := t.TempDir()
	pwFile, caFile := secretFiles(t, dir)

	t.Run("scram over tls", func(t *testing.T) {
		s := scram512(pwFile)
		s.TLS.CAFile = caFile
		sc := sarama.NewConfig()
		if err := s.Apply(sc); err != nil {
			t.Fatal(err)
		}
		if !sc.Net.TLS.Enable || sc.Net.TLS.Config.RootCAs == nil || sc.Net.TLS.Config.MinVersion != tls.VersionTLS12 {
			t.Errorf("TLS: %+v", sc.Net.TLS)
		}
		a := sc.Net.SASL
		if !a.Enable || a.Mechanism != sarama.SASLTypeSCRAMSHA512 || a.User != "gale" || a.Password != secret ||
			a.SCRAMClientGeneratorFunc == nil || a.Version != sarama.SASLHandshakeV1 {
			t.Errorf("SASL: enable %v, mechanism %s, user %s, password right %v, scram client %v",
				a.Enable, a.Mechanism, a.User, a.Password == secret, a.SCRAMClientGeneratorFunc != nil)
		}
		if err := sc.Validate(); err != nil {
			t.Errorf("sarama refuses the config: %v", err)
		}
	})
	t.Run("password from the environment", func(t *testing.T) {
		t.Setenv("GALE_TEST_KAFKA_PW", secret)
		s := scram512("")
		s.SASL.PasswordEnv = "GALE_TEST_KAFKA_PW"
		sc := sarama.NewConfig()
		if err := s.Apply(sc); err != nil || sc.Net.SASL.Password != secret {
			t.Fatalf("Apply: %v (password right: %v)", err, sc.Net.SASL.Password == secret)
		}
	})
	for _, tc := range []struct {
		name, field string
		s           kafkasec.Security
	}{
		{"password file missing", "sasl.password_file", scram512(filepath.Join(dir, "missing"))},
		{"password file empty", "sasl.password_file", scram512(writeFile(t, dir, "empty", " \n"))},
		{"password variable unset", "sasl.password_env", kafkasec.Security{
			SASL: kafkasec.SASL{Mechanism: kafkasec.SCRAMSHA256, Username: "gale", PasswordEnv: "GALE_TEST_UNSET_VARIABLE"}}},
		{"ca file missing", "tls.ca_file", kafkasec.Security{TLS: kafkasec.TLS{Enabled: true, CAFile: filepath.Join(dir, "nope.pem")}}},
		{"ca file not PEM", "tls.ca_file", kafkasec.Security{TLS: kafkasec.TLS{Enabled: true, CAFile: pwFile}}},
		{"client key not a key", "tls.cert_file", kafkasec.Security{TLS: kafkasec.TLS{Enabled: true, CertFile: caFile, KeyFile: pwFile}}},
		{"invalid", "sasl.mechanism", kafkasec.Security{SASL: kafkasec.SASL{Mechanism: "OAUTHBEARER", Username: "u", PasswordFile: pwFile}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Apply(sarama.NewConfig())
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			if !errors.Is(err, kafkasec.ErrConfig) || !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("error %q: want ErrConfig, starting with %q", err, tc.field)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// KgoOpts gives a franz-go client the same TLS and SASL as Apply gives
// sarama, and refuses the same bad configs with the same errors.
func TestSecurity_KgoOpts(t *testing.T) {
	dir := t.TempDir()
	pwFile, caFile := secretFiles(t, dir)
	for _, mech := range kafkasec.Mechanisms {
		t.Run(mech, func(t *testing.T) {
			s := kafkasec.Security{TLS: kafkasec.TLS{Enabled: true, CAFile: caFile},
				SASL: kafkasec.SASL{Mechanism: mech, Username: "gale", PasswordFile: pwFile}}
			opts, err := s.KgoOpts()
			if err != nil {
				t.Fatal(err)
			}
			cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers("127.0.0.1:1"))...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			tc, _ := cl.OptValue(kgo.DialTLSConfig).(*tls.Config)
			if tc == nil || tc.RootCAs == nil || tc.MinVersion != tls.VersionTLS12 {
				t.Errorf("TLS config %+v", tc)
			}
			ms, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
			if len(ms) != 1 || ms[0].Name() != mech {
				t.Errorf("SASL mechanisms %v, want %s", ms, mech)
			}
		})
	}
	opts, err := kafkasec.Security{}.KgoOpts()
	if err != nil || len(opts) != 0 {
		t.Errorf("plaintext: %d options, %v; want none", len(opts), err)
	}
	_, err = scram512(filepath.Join(dir, "missing")).KgoOpts()
	if !errors.Is(err, kafkasec.ErrConfig) || !strings.HasPrefix(err.Error(), "sasl.password_file: ") || strings.Contains(err.Error(), secret) {
		t.Errorf("missing password file: %v", err)
	}
	_, err = kafkasec.Security{TLS: kafkasec.TLS{Enabled: true, CAFile: pwFile}}.KgoOpts()
	if !errors.Is(err, kafkasec.ErrConfig) || !strings.HasPrefix(err.Error(), "tls.ca_file: ") {
		t.Errorf("CA file not PEM: %v", err)
	}
	// the brokers' refusal, as franz-go reports it, is explained too
	refused := fmt.Errorf("unable to dial: %w", kerr.SaslAuthenticationFailed)
	var ae *kafkasec.AuthError
	if err := scram512("/pw").Explain([]string{"127.0.0.1:9094"}, refused); !errors.As(err, &ae) || !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("Explain of franz-go's refusal: %v, want an *AuthError", err)
	}
}

// The SCRAM client logs in to xdg-go/scram's server with the right
// password and fails with a wrong one.
func TestSCRAMClient(t *testing.T) {
	for _, mech := range []string{kafkasec.SCRAMSHA256, kafkasec.SCRAMSHA512} {
		for name, pw := range map[string]string{"right": secret, "wrong": "wrong"} {
			t.Run(mech+"/"+name, func(t *testing.T) {
				s := kafkasec.Security{SASL: kafkasec.SASL{Mechanism: mech, Username: "gale", Password: kafkasec.Secret(pw)}}
				sc := sarama.NewConfig()
				if err := s.Apply(sc); err != nil {
					t.Fatal(err)
				}
				err := scramLogin(t, mech, sc.Net.SASL.SCRAMClientGeneratorFunc(), "gale", pw)
				if (err == nil) != (pw == secret) {
					t.Fatalf("login with the %s password: %v", name, err)
				}
			})
		}
	}
}

// Explain names the listener and the mechanism of a refused login, and
// says what to check after a TLS failure.
func TestSecurity_Explain(t *testing.T) {
	s := scram512("/pw")
	brokers := []string{"127.0.0.1:9094"}
	refused := sarama.Wrap(sarama.ErrSASLAuthenticationFailed,
		errors.New("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"))
	err := s.Explain(brokers, fmt.Errorf("kafka log: %w", refused))
	var ae *kafkasec.AuthError
	if !errors.As(err, &ae) || !errors.Is(err, kafkasec.ErrAuth) || !errors.Is(err, sarama.ErrSASLAuthenticationFailed) {
		t.Fatalf("Explain: %v, want an *AuthError", err)
	}
	for _, want := range []string{"127.0.0.1:9094", "SCRAM-SHA-512", `"gale"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
	if again := s.Explain(brokers, err); again != err {
		t.Errorf("explained twice: %v", again)
	}

	err = s.Explain(brokers, sarama.Wrap(sarama.ErrOutOfBrokers, &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}))
	var te *kafkasec.TLSError
	if !errors.As(err, &te) || !errors.Is(err, kafkasec.ErrTLS) || !strings.Contains(err.Error(), "tls.ca_file") ||
		!strings.Contains(err.Error(), "127.0.0.1:9094") {
		t.Errorf("unknown authority: %v", err)
	}
	plain := errors.New("dial tcp 127.0.0.1:9094: connection refused")
	if got := s.Explain(brokers, plain); got != plain {
		t.Errorf("other errors: %v", got)
	}
	if s.Explain(brokers, nil) != nil {
		t.Error("Explain(nil) is not nil")
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name, s string) string {
	p := filepath.Join(dir, name)
	write(t, p, s)
	return p
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// scramLogin runs client's conversation against xdg-go/scram's server,
// which holds user's credential for the password secret.
func scramLogin(t *testing.T, mech string, client sarama.SCRAMClient, user, password string) error {
	t.Helper()
	hash := scram.SHA512
	if mech == kafkasec.SCRAMSHA256 {
		hash = scram.SHA256
	}
	known, err := hash.NewClient(user, secret, "")
	if err != nil {
		t.Fatal(err)
	}
	creds := known.GetStoredCredentials(scram.KeyFactors{Salt: "salt-of-the-test", Iters: 4096})
	server, err := hash.NewServer(func(string) (scram.StoredCredentials, error) { return creds, nil })
	if err != nil {
		t.Fatal(err)
	}
	conv := server.NewConversation()
	if err := client.Begin(user, password, ""); err != nil {
		return err
	}
	challenge := ""
	for !client.Done() {
		msg, err := client.Step(challenge)
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		if client.Done() {
			break
		}
		if challenge, err = conv.Step(msg); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	if !conv.Valid() {
		return errors.New("the server did not accept the login")
	}
	return nil
}
