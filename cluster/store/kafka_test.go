package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/cluster/store/storetest"
	"github.com/gale-stream/gale/internal/testenv"
)

// kafkaTopic returns a fresh topic name on the testenv Kafka, deleted when
// the test ends.
func kafkaTopic(t *testing.T) (brokers []string, topic string) {
	t.Helper()
	brokers = strings.Split(testenv.KafkaBrokers(t), ",")
	topic = fmt.Sprintf("gale-store-test-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	t.Cleanup(func() {
		c := sarama.NewConfig()
		c.Version = sarama.V4_0_0_0
		if a, err := sarama.NewClusterAdmin(brokers, c); err == nil {
			a.DeleteTopic(topic)
			a.Close()
		}
	})
	return brokers, topic
}

func openKafka(t *testing.T, brokers []string, topic string) *store.KafkaStore {
	t.Helper()
	cfg := store.DefaultKafkaConfig(brokers...)
	cfg.Topic = topic
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.OpenKafkaStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKafkaStore_Conformance runs the suite against the real Kafka of
// testenv; every instance is a KafkaStore of its own on one topic, as
// separate workers would be.
func TestKafkaStore_Conformance(t *testing.T) {
	brokers, topic := kafkaTopic(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openKafka(t, brokers, topic) })
}
