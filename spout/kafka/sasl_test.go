package kafka_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/local"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
)

// TestSpout_SASLSCRAM: a topology whose spout reads through the testenv
// Kafka's SASL_SSL listener (TLS with its CA, SCRAM-SHA-512, the password
// from a file) with its ledger in Kafka through the same listener: every
// record is emitted once, every batch is committed in the ledger (read
// back through the listener) and the group's offsets are at the end (read
// through the PLAINTEXT listener, independently).
func TestSpout_SASLSCRAM(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	plain := testenv.KafkaBrokers(t)
	const count = 1200
	topic, perPart := newTopic(t, plain, 2, count, func(i int) string { return fmt.Sprintf("record %d", i) })
	ledgerTopic := fmt.Sprintf("gale-ledger-sasl-%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(plain, ledgerTopic) })
	r := newRecorder(20)
	reg := testRegistry(r)
	// through the topology's JSON: the strict decoder reads tls and sasl
	topo := spoutTopology(t, reg, map[string]any{
		"brokers": []string{sasl.Brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		"tls":    map[string]any{"enabled": true, "ca_file": sasl.CAFile},
		"sasl":   map[string]any{"mechanism": "SCRAM-SHA-512", "username": sasl.User, "password_file": sasl.PasswordFile},
		"batch":  map[string]any{"records": 50, "time": "50ms"},
		"ledger": map[string]any{"kind": "kafka", "topic": ledgerTopic},
	}, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	stats, err := local.Run(ctx, topo, local.Options{})
	if err != nil || ctx.Err() != nil {
		t.Fatalf("run: %v (ctx %v)", err, ctx.Err())
	}
	seen := map[string]bool{}
	replayed := 0
	for _, attempts := range r.attempts {
		replayed += len(attempts) - 1
		for _, id := range attempts[0] {
			if seen[id] {
				t.Fatalf("record %s emitted in two batches", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != count {
		t.Errorf("%d distinct records emitted, want %d", len(seen), count)
	}
	if replayed == 0 {
		t.Error("no batch was replayed: the ledger's replay path went untested")
	}
	checkStatus(t, stats, topic, perPart)
	checkGroupOffsets(t, plain, "gale-kafka-test-events", topic, perPart)
	store, err := ledger.NewKafkaStore([]string{sasl.Brokers}, ledgerTopic, ledger.WithSecurity(sasl.Security(kafkasec.SCRAMSHA512)))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	checkLedgerIn(t, store, topic, perPart)
}

// TestSpout_SASLWrongPassword: a wrong password is reported naming the
// listener, the mechanism and the user — not the password — whether the
// ledger (kind kafka, opened first) or the spout's own client meets it;
// it is not reported as unreachable brokers.
func TestSpout_SASLWrongPassword(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	const wrong = "not-the-password-of-gale"
	t.Setenv("GALE_TEST_KAFKA_PASSWORD", wrong)
	for _, kind := range []string{"file", "kafka"} {
		t.Run(kind+"-ledger", func(t *testing.T) {
			c := kafkaspout.NewConfig()
			c.Brokers, c.Topics, c.Ledger.Kind, c.Ledger.Dir = []string{sasl.Brokers}, []string{"gale-any-topic"}, kind, t.TempDir()
			c.Security = sasl.Security(kafkasec.SCRAMSHA512)
			c.SASL.PasswordFile, c.SASL.PasswordEnv = "", "GALE_TEST_KAFKA_PASSWORD"
			s, _ := newSpout(t, c)
			err := s.NextTuple(context.Background())
			var ae *kafkasec.AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("NextTuple: %v, want a *kafkasec.AuthError", err)
			}
			msg := err.Error()
			for _, want := range []string{sasl.Brokers, "SCRAM-SHA-512", `"` + sasl.User + `"`} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q does not name %s", msg, want)
				}
			}
			if strings.Contains(msg, wrong) || strings.Contains(msg, sasl.Password(t)) {
				t.Errorf("%q shows a password", msg)
			}
			if errors.Is(err, kafkaspout.ErrUnreachable) {
				t.Errorf("%q: a refused login is not unreachable brokers", msg)
			}
			t.Log(msg)
		})
	}
}

// TestSpout_TLSWrongCA: a CA that did not sign the broker's certificate
// fails the connection clearly, naming the listener and tls.ca_file.
func TestSpout_TLSWrongCA(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	c := kafkaspout.NewConfig()
	c.Brokers, c.Topics, c.Ledger.Dir = []string{sasl.Brokers}, []string{"gale-any-topic"}, t.TempDir()
	c.Security = sasl.Security(kafkasec.SCRAMSHA512)
	c.TLS.CAFile = otherCA(t)
	s, _ := newSpout(t, c)
	err := s.NextTuple(context.Background())
	var te *kafkasec.TLSError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), sasl.Brokers) || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Fatalf("NextTuple: %v, want a *kafkasec.TLSError naming %s and tls.ca_file", err, sasl.Brokers)
	}
	t.Log(err)
}

// TestConfig_SecurityFields: tls and sasl are checked with the spout's
// config, and a topology may not hold a password.
func TestConfig_SecurityFields(t *testing.T) {
	c := kafkaspout.NewConfig()
	c.Brokers, c.Topics = []string{"127.0.0.1:9094"}, []string{"t"}
	c.SASL.Mechanism, c.SASL.Username = "SCRAM-SHA-1", "gale"
	c.TLS.CertFile = "client.pem"
	err := c.Validate()
	for _, want := range []string{`sasl.mechanism: "SCRAM-SHA-1" is not one of`, "sasl: a password is required", "tls.cert_file: is set without tls.key_file"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}

	reg := testRegistry(newRecorder(0))
	b := topology.NewBuilder("kafka-test")
	b.Spout("events", kafkaspout.TypeName, 1).Config(map[string]any{
		"brokers": []string{"127.0.0.1:9094"}, "topics": []string{"t"},
		"tls":  map[string]any{"enabled": true},
		"sasl": map[string]any{"mechanism": "PLAIN", "username": "gale", "password": "s3cret-in-the-topology"},
	})
	b.Bolt("flaky", "flaky", 1).GlobalGrouping("events")
	_, err = b.Build(reg)
	var fe *topology.FieldError
	if !errors.As(err, &fe) || !strings.HasSuffix(fe.Path, "config.sasl.password") || !errors.Is(err, kafkasec.ErrPasswordInConfig) {
		t.Fatalf("Build: %v, want ErrPasswordInConfig at ...config.sasl.password", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// otherCA writes a CA certificate that signed nothing the broker has.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "not the testenv CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
