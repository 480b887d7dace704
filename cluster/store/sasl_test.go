package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/kafkasec"
	"github.com/gale-stream/gale/internal/testenv"
)

// TestKafkaStore_SASL: the store opens through the testenv Kafka's
// SASL_SSL listener (SCRAM-SHA-512) and writes a topology; a second store
// on the PLAINTEXT listener reads it back, and the first reads the
// second's change (a compare-and-set through the other listener).
func TestKafkaStore_SASL(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	plain, topic := kafkaTopic(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := store.DefaultKafkaConfig(sasl.Brokers)
	cfg.Topic, cfg.Security = topic, sasl.Security(kafkasec.SCRAMSHA512)
	s, err := store.OpenKafkaStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.PutTopology(ctx, store.Topology{Name: "wc", JSON: json.RawMessage(`{"name":"wc"}`)}, 0); err != nil {
		t.Fatal(err)
	}

	other := openKafka(t, plain, topic)
	defer other.Close()
	got, err := other.GetTopology(ctx, "wc")
	if err != nil || got.Version != 1 || string(got.JSON) != `{"name":"wc"}` {
		t.Fatalf("read through PLAINTEXT: %+v, %v", got, err)
	}
	if _, err := other.PutTopology(ctx, store.Topology{Name: "wc", Workers: 2}, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetTopology(ctx, "wc"); err != nil || got.Version != 2 || got.Workers != 2 {
		t.Errorf("read through SASL_SSL after the other's write: %+v, %v", got, err)
	}
}

// TestKafkaStore_SASLWrongPassword: OpenKafkaStore with a wrong password
// fails naming the listener and the mechanism, not the password.
func TestKafkaStore_SASLWrongPassword(t *testing.T) {
	sasl := testenv.KafkaSASL(t)
	_, topic := kafkaTopic(t)
	cfg := store.DefaultKafkaConfig(sasl.Brokers)
	cfg.Topic, cfg.Security = topic, sasl.Security(kafkasec.PLAIN)
	cfg.Security.SASL.PasswordFile, cfg.Security.SASL.Password = "", "wrong-store-password"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := store.OpenKafkaStore(ctx, cfg)
	var ae *kafkasec.AuthError
	if !errors.As(err, &ae) || ae.Mechanism != kafkasec.PLAIN {
		t.Fatalf("OpenKafkaStore: %v, want a *kafkasec.AuthError for PLAIN", err)
	}
	for _, want := range []string{sasl.Brokers, "PLAIN", topic} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "wrong-store-password") {
		t.Errorf("%q shows the password", err)
	}
}
