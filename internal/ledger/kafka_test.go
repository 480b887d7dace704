package ledger_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/internal/ledger"
	"github.com/gale-stream/gale/internal/ledger/ledgertest"
	"github.com/gale-stream/gale/internal/testenv"
)

// TestKafkaStore_Conformance runs the same suite as the file store against
// the real Kafka from testenv; fencing is Kafka's transactional producer
// fencing.
func TestKafkaStore_Conformance(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := fmt.Sprintf("gale-ledger-test-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		c := sarama.NewConfig()
		c.Version = sarama.V4_0_0_0
		if a, err := sarama.NewClusterAdmin([]string{brokers}, c); err == nil {
			a.DeleteTopic(topic)
			a.Close()
		}
	})
	ledgertest.Run(t, func(t *testing.T) ledger.Store {
		s, err := ledger.NewKafkaStore([]string{brokers}, topic)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
