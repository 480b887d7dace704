// Command sweeptopics deletes the topics the project's tests left on the
// testenv Kafka broker (testenv.SweepTestTopics). scripts/test.sh runs it
// before and after the suite; GALE_KAFKA_BROKERS names the broker.
package main

import (
	"fmt"
	"os"

	"github.com/gale-stream/gale/internal/testenv"
)

func main() {
	brokers := os.Getenv(testenv.KafkaBrokersVar)
	if brokers == "" {
		fmt.Fprintf(os.Stderr, "sweeptopics: %s is not set (eval \"$(testenv/testenv env)\")\n", testenv.KafkaBrokersVar)
		os.Exit(2)
	}
	names, parts, err := testenv.SweepTestTopics(brokers)
	fmt.Printf("sweeptopics: %d test topics (%d partitions) deleted on %s\n", len(names), parts, brokers)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sweeptopics:", err)
		os.Exit(1)
	}
}
