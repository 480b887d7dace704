package ledger_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/ledger/ledgertest"
	"github.com/gale-stream/gale/internal/testenv"
)

// TestKafkaStore_SASLConformance runs the ledger's whole suite (fencing
// included) through the testenv Kafka's SASL_SSL listener, logged in with
// SCRAM-SHA-512; the topic is deleted through the PLAINTEXT listener.
func TestKafkaStore_SASLConformance(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	_, topic := ledgerTopic(t)
	sec := ledger.WithSecurity(sasl.Security(kafkasec.SCRAMSHA512))
	ledgertest.Run(t, func(t *testing.T) ledger.Store {
		s, err := ledger.NewKafkaStore([]string{sasl.Brokers}, topic, sec)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestKafkaStore_SASLRefused: a wrong password and a CA that did not sign
// the broker's certificate fail NewKafkaStore, each with an error that
// names the listener and says what to check.
func TestKafkaStore_SASLRefused(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	topic := fmt.Sprintf("gale-ledger-test-%d", time.Now().UnixNano())

	wrong := sasl.Security(kafkasec.SCRAMSHA512)
	wrong.SASL.PasswordFile, wrong.SASL.Password = "", "wrong-ledger-password"
	_, err := ledger.NewKafkaStore([]string{sasl.Brokers}, topic, ledger.WithSecurity(wrong))
	var ae *kafkasec.AuthError
	if !errors.As(err, &ae) || !errors.Is(err, sarama.ErrSASLAuthenticationFailed) {
		t.Fatalf("wrong password: %v, want a *kafkasec.AuthError wrapping sarama's", err)
	}
	for _, want := range []string{sasl.Brokers, "SCRAM-SHA-512"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "wrong-ledger-password") {
		t.Errorf("%q shows the password", err)
	}

	// the listener's certificate is for 127.0.0.1 and localhost only
	other := sasl.Security(kafkasec.SCRAMSHA512)
	other.TLS.ServerName = "kafka.example"
	_, err = ledger.NewKafkaStore([]string{sasl.Brokers}, topic, ledger.WithSecurity(other))
	if !errors.Is(err, kafkasec.ErrTLS) || !strings.Contains(err.Error(), "tls.server_name") || !strings.Contains(err.Error(), sasl.Brokers) {
		t.Fatalf("wrong server name: %v, want kafkasec.ErrTLS naming %s and tls.server_name", err, sasl.Brokers)
	}
}
