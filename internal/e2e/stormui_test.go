package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/clustertest"
	"github.com/gale-stream/gale/internal/testenv"
)

// TestStormUIREST: a script written as for Storm (Python's standard
// library, testdata/stormui_check.py) calls Storm UI's REST paths on a
// two-worker cluster running a Kafka -> files topology and checks the
// fields Storm's docs name: cluster, supervisor and topology summaries, a
// topology and its components per window, the Kafka lag in
// storm-kafka-monitor's shape, bad windows and names, and the POST
// actions (deactivate, activate, rebalance, kill).
func TestStormUIREST(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: multi-process cluster test (-short)")
	}
	brokers := testenv.KafkaBrokers(t)
	topic := fmt.Sprintf("gale-e2e-stormui-%d", time.Now().UnixNano())
	produceEvents(t, brokers, topic, 4, 20000)
	dir := t.TempDir()
	w1 := startWorker(t, dir, "w1", "")
	startWorker(t, dir, "w2", w1.Gossip)
	waitMembers(t, w1.Client(), 2)
	spec := fmt.Sprintf(failoverTopology, brokers, topic, "gale-e2e-stormui", topic+".dlq",
		fmt.Sprintf(`{"kind": "file", "dir": %q, "shared": true}`, filepath.Join(dir, "ledger")), filepath.Join(dir, "out"), filepath.Join(dir, "dlq"))
	if _, err := w1.Client().Submit(t.Context(), []byte(spec)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "testdata/stormui_check.py", "http://"+w1.HTTP, "kafka-files", "events", "files", topic, "4", "2")
	cmd.Env = append(cmd.Environ(), "GALE_AUTH_TOKEN="+clustertest.Token)
	out, err := cmd.CombinedOutput()
	t.Logf("stormui_check.py:\n%s", out)
	if err != nil {
		t.Fatalf("stormui_check.py: %v", err)
	}
}
