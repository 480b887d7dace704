package testenv

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// IsTestTopic tells the topics the project's tests create on the testenv
// broker (every name starts with "gale-") from those worth keeping: the
// benchmarks' pre-filled input topics ("gale-bench-", reused across runs
// because filling them takes minutes) and Kafka's own ("__...").
func IsTestTopic(name string) bool {
	return strings.HasPrefix(name, "gale-") && !strings.HasPrefix(name, "gale-bench-")
}

// SweepTestTopics deletes every test topic (IsTestTopic) on brokers and
// returns the names and their partition count. The tests do not delete
// what they create (a topology or worker may still be writing at cleanup,
// and a killed run cleans nothing up), so scripts/test.sh calls this
// before and after the suite: each run adds ~250 partitions, and a broker
// restarted on 1,400 leftover partitions took over two minutes to serve.
// Call it only when no test runs against these brokers.
func SweepTestTopics(brokers string) (names []string, partitions int, err error) {
	admin, err := sarama.NewClusterAdmin([]string{brokers}, kafkaAdminConfig())
	if err != nil {
		return nil, 0, fmt.Errorf("kafka on %s: %w", brokers, err)
	}
	defer admin.Close()
	topics, err := admin.ListTopics()
	if err != nil {
		return nil, 0, fmt.Errorf("listing topics on %s: %w", brokers, err)
	}
	for name, d := range topics {
		if IsTestTopic(name) {
			names = append(names, name)
			partitions += int(d.NumPartitions)
		}
	}
	sort.Strings(names)
	// One DeleteTopics request per 200 topics (sarama's DeleteTopic sends one
	// per topic and waits for each).
	ctrl, err := admin.Controller()
	if err != nil {
		return names, partitions, fmt.Errorf("kafka controller on %s: %w", brokers, err)
	}
	cfg := kafkaAdminConfig()
	var failed []string
	for start := 0; start < len(names); start += 200 {
		chunk := names[start:min(start+200, len(names))]
		rsp, err := ctrl.DeleteTopics(sarama.NewDeleteTopicsRequest(cfg.Version, chunk, 60*time.Second))
		if err != nil {
			return names, partitions, fmt.Errorf("deleting topics on %s: %w", brokers, err)
		}
		for _, name := range chunk {
			if kerr, ok := rsp.TopicErrorCodes[name]; ok && kerr != sarama.ErrNoError && !isUnknownTopic(kerr) {
				failed = append(failed, fmt.Sprintf("%s: %v", name, kerr))
			}
		}
	}
	if len(failed) > 0 {
		return names, partitions, fmt.Errorf("deleting %d of %d test topics failed, first: %s", len(failed), len(names), failed[0])
	}
	return names, partitions, nil
}

func isUnknownTopic(err error) bool {
	return errors.Is(err, sarama.ErrUnknownTopicOrPartition)
}
