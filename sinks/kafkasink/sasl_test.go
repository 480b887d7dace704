package kafkasink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/topology"
)

// TestSASLPlain: the sink writes through the testenv Kafka's SASL_SSL
// listener, logged in with PLAIN (the password from an environment
// variable); a read_committed consumer on the PLAINTEXT listener, which
// knows nothing of the sink, finds every record once, and the sink's own
// store (gale verify's reader) reads them back through SASL_SSL.
func TestSASLPlain(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	plain := testenv.KafkaBrokers(t)
	t.Setenv("GALE_TEST_KAFKA_SINK_PASSWORD", sasl.Password(t))
	newSource(t, plain)
	topic := fmt.Sprintf("gale-kafka-sink-sasl-%d", time.Now().UnixNano())

	c := NewConfig()
	// through the strict decoder, as a topology gives it
	raw := fmt.Sprintf(`{"brokers": [%q], "topic": %q, "partitions": 3,
		"tls": {"enabled": true, "ca_file": %q},
		"sasl": {"mechanism": "PLAIN", "username": %q, "password_env": "GALE_TEST_KAFKA_SINK_PASSWORD"}}`,
		sasl.Brokers, topic, sasl.CAFile, sasl.User)
	if err := topology.DecodeConfig(json.RawMessage(raw), c, "config"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Open(context.Background(), "t", fmt.Sprintf("out-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for seq := range uint64(3) {
		if _, err := w.WriteBatch(context.Background(), batch(seq, 5)); err != nil {
			t.Fatalf("batch %d: %v", seq, err)
		}
	}

	got := readCommitted(t, plain, topic)
	if len(got) != 15 {
		t.Fatalf("the independent reader found %d keys, want 15", len(got))
	}
	for off := range 15 {
		if vs := got[fmt.Sprintf("%s/0/%d", src, off)]; len(vs) != 1 || vs[0] != fmt.Sprintf(`{"n":%d}`, off) {
			t.Errorf("record %d seen as %v", off, vs)
		}
	}

	st, err := c.OpenStore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	docs := map[string]string{}
	err = st.(sinks.DocumentStore).Documents(context.Background(), "t", func(id string, source []byte) error {
		docs[id] = string(source)
		return nil
	})
	if err != nil || len(docs) != 15 {
		t.Errorf("the sink's store read %d documents through SASL_SSL (%v), want 15", len(docs), err)
	}
}

// TestSASLWrongPassword: Open with a wrong password fails naming the
// listener, the mechanism and the user, not the password.
func TestSASLWrongPassword(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	const wrong = "wrong-password-for-the-sink"
	t.Setenv("GALE_TEST_KAFKA_SINK_PASSWORD", wrong)
	c := NewConfig()
	c.Brokers, c.Topic = []string{sasl.Brokers}, fmt.Sprintf("gale-kafka-sink-sasl-%d", time.Now().UnixNano())
	c.Security = sasl.Security(kafkasec.PLAIN)
	c.SASL.PasswordFile, c.SASL.PasswordEnv = "", "GALE_TEST_KAFKA_SINK_PASSWORD"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := c.Open(context.Background(), "t", "out")
	if !errors.Is(err, kafkasec.ErrAuth) {
		t.Fatalf("Open: %v, want kafkasec.ErrAuth", err)
	}
	for _, want := range []string{sasl.Brokers, "PLAIN", `"` + sasl.User + `"`, `kafka sink "out"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("%q shows the password", err)
	}
}

// TestConfig_Security: tls and sasl are validated with the sink's config
// (errors naming the field, wrapping sinks.ErrConfig), and a password in
// the topology is refused at its path.
func TestConfig_Security(t *testing.T) {
	for field, bad := range map[string]func(*Config){
		"sasl.mechanism": func(c *Config) { c.SASL = kafkasec.SASL{Mechanism: "MD5", Username: "u", PasswordEnv: "P"} },
		"sasl.username":  func(c *Config) { c.SASL = kafkasec.SASL{Mechanism: "SCRAM-SHA-512", PasswordEnv: "P"} },
		"sasl.password_env": func(c *Config) {
			c.SASL = kafkasec.SASL{Mechanism: "SCRAM-SHA-512", Username: "u", PasswordEnv: "pass word"}
		},
		"tls.key_file": func(c *Config) { c.TLS = kafkasec.TLS{Enabled: true, KeyFile: "k.pem"} },
	} {
		c := NewConfig()
		c.Brokers, c.Topic = []string{"x:1"}, "t"
		bad(c)
		if err := c.Validate(); !errors.Is(err, sinks.ErrConfig) || !errors.Is(err, kafkasec.ErrConfig) || !strings.HasPrefix(err.Error(), field+":") {
			t.Errorf("%s: Validate() = %v", field, err)
		}
	}
	c := NewConfig()
	err := topology.DecodeConfig(json.RawMessage(`{"brokers": ["x:1"], "topic": "t", "sasl": {"password": "pw"}}`), c, "bolts[1].config")
	var fe *topology.FieldError
	if !errors.As(err, &fe) || fe.Path != "bolts[1].config.sasl.password" || !errors.Is(err, kafkasec.ErrPasswordInConfig) {
		t.Errorf("a password in the config: %v", err)
	}
}
