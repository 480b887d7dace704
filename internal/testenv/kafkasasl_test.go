package testenv

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/kafkasec"
)

// TestKafkaSASL: the SASL_SSL listener of the testenv Kafka takes the
// user's PLAIN and SCRAM-SHA-512 logins over TLS checked against its CA
// (records produced through it are read back through it), refuses a wrong
// password, and a client without TLS gets nothing from it. The password
// file is for its owner only.
func TestKafkaSASL(t *testing.T) {
	sasl := KafkaSASL(t)
	if st, err := os.Stat(sasl.PasswordFile); err != nil {
		t.Error(err)
	} else if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("password file %s: mode %v; want 0600", sasl.PasswordFile, st.Mode().Perm())
	}
	topic := createTopic(t, strings.Split(KafkaBrokers(t), ","))
	brokers := []string{sasl.Brokers}
	config := func(sec kafkasec.Security) *sarama.Config {
		t.Helper()
		c := kafkaConfig()
		c.Metadata.Retry.Max = 0
		if err := sec.Apply(c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	for i, mech := range []string{kafkasec.PLAIN, kafkasec.SCRAMSHA512} {
		c := config(sasl.Security(mech))
		p, err := sarama.NewSyncProducer(brokers, c)
		if err != nil {
			t.Fatalf("%s: producer on %s: %v", mech, sasl.Brokers, err)
		}
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(mech)}); err != nil {
			t.Fatalf("%s: produce: %v", mech, err)
		}
		p.Close()
		got := consume(t, brokers, c, topic, i+1, 20*time.Second)
		if v := string(got[i].Value); v != mech {
			t.Errorf("%s: read back %q", mech, v)
		}
	}

	wrong := sasl.Security(kafkasec.SCRAMSHA512)
	wrong.SASL.PasswordFile, wrong.SASL.Password = "", "wrong"
	_, err := sarama.NewClient(brokers, config(wrong))
	if !errors.Is(err, sarama.ErrSASLAuthenticationFailed) {
		t.Errorf("wrong password: %v, want sarama.ErrSASLAuthenticationFailed", err)
	}
	c := kafkaConfig()
	c.Metadata.Retry.Max = 0
	if cl, err := sarama.NewClient(brokers, c); err == nil {
		cl.Close()
		t.Error("a client without TLS or SASL was served on the SASL_SSL listener")
	}
}
